"""Fixtures for the browser tests (only these tests use them).

* ``live_server``: the app served on 127.0.0.1 on a free port by werkzeug's threaded server in a
  daemon thread. One app and one server serve all the browser tests (its templates compile
  once); its database is a SQLite file of its own, or the PostgreSQL database of
  ``CUSTREG_TEST_DATABASE_URL`` (schema from the top-level ``_pg_schema``). ``app`` (overriding
  the top-level one, so ``make_user`` and ``ctx`` work on the served database) empties it and
  seeds the default settings before each test. The registry plugins are the fake of
  :mod:`tests.fake_registry`. A test during which a request raised on the server, or
  after which a request still runs, fails.
* ``browser``: one Chromium (Debian's ``/usr/bin/chromium``, never a downloaded one) for the
  package; the tests skip, saying why, when it is missing.
* ``context`` / ``page``: a fresh browser context per test, its base URL the server's. An
  uncaught JavaScript error, a console error, a Content-Security-Policy violation
  (``securitypolicyviolation``) or a 5xx response fails the test. On failure a screenshot of every
  page of the context is saved as ``test-artifacts/<test-name>.png`` (``-2``, ``-3``... for
  further pages), with the page's HTML beside it.
* ``log_in(page, email, password=PASSWORD)`` logs in through the login form.
* ``demo_data``: ``custreg_admin.demo.generate(customers=40)`` in the served database.
"""

from __future__ import annotations

import os
import re
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from werkzeug.serving import WSGIRequestHandler, make_server

from custreg_admin import create_app, registries
from custreg_admin.extensions import db
from custreg_admin.services.kpi import local_today
from custreg_admin.services.setup import seed_defaults

from .. import fake_registry
from ..helpers import PASSWORD

PG_URL = os.environ.get("CUSTREG_TEST_DATABASE_URL")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = "test-artifacts"
#: Runs in every page before its own scripts (Playwright injects it, outside the page's CSP).
CSP_VIOLATION_REPORTER = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " +
                (event.blockedURI || "inline") + " " + (event.sample || ""));
});
"""
TIMEOUT_MS = 15_000  # any single wait; the pages answer in well under a second
IDLE_TIMEOUT = 30  # seconds the server may take to finish its requests after a test


# --- reports on the item, for the screenshot on failure -----------------------------------------


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


# --- the app on a real server -------------------------------------------------------------------


class _Tracker:
    """The requests the server is handling (to stop only when idle, and to say which one did
    not finish) and the traceback of every exception the app raised on a request."""

    def __init__(self) -> None:
        self.in_flight: dict[int, str] = {}
        self.errors: list[str] = []
        self._idle = threading.Condition()

    def started(self, key: int, request: str) -> None:
        with self._idle:
            self.in_flight[key] = request

    def finished(self, key: int) -> None:
        with self._idle:
            self.in_flight.pop(key, None)
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> list[str]:
        """Wait until no request is in flight; the ones still running after ``timeout``."""
        with self._idle:
            self._idle.wait_for(lambda: not self.in_flight, timeout)
            return list(self.in_flight.values())

    def recording_errors(self, app: Flask):
        """``app`` as a WSGI callable that records what it raises (TESTING propagates it)."""

        def wsgi(environ, start_response):
            try:
                return app(environ, start_response)
            except BaseException:
                request = f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
                self.errors.append(f"{request}: {traceback.format_exc()}")
                raise

        return wsgi


class _Handler(WSGIRequestHandler):
    """Tells the server's tracker when a request starts and ends (also when the browser drops
    the connection, where werkzeug may skip the response's ``close()``); no access log."""

    def run_wsgi(self) -> None:
        tracker: _Tracker = self.server.tracker  # type: ignore[attr-defined]
        key = id(self)
        tracker.started(key, f"{self.command} {self.path}")
        try:
            super().run_wsgi()
        finally:
            tracker.finished(key)

    def log(self, type: str, message: str, *args) -> None:
        pass


@dataclass
class LiveServer:
    app: Flask
    url: str
    tracker: _Tracker


def _empty_tables() -> None:
    tables = db.metadata.sorted_tables
    with db.engine.begin() as connection:
        if PG_URL:
            names = ", ".join(t.name for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


@pytest.fixture(scope="package")
def _served(_pg_schema, tmp_path_factory) -> Iterator[LiveServer]:
    """One app and one server for all the browser tests (templates compile once); every test
    starts on an emptied database (see ``app``)."""
    folder = tmp_path_factory.mktemp("browser")
    application = create_app(
        {
            "TESTING": True,
            "CUSTREG_DATABASE_URL": PG_URL or f"sqlite:///{folder / 'browser.db'}",
            "CUSTREG_SECRET_KEY": "browser-test-secret",
            "CUSTREG_REGISTRIES": "",
            "FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION": True,
            "FLASK_ADMIN_RAISE_ON_INTEGRITY_ERROR": True,
            "SEND_FILE_MAX_AGE_DEFAULT": 3600,  # a browser context fetches each static file once
        }
    )
    application.instance_path = str(folder / "instance")
    with application.app_context():
        if not PG_URL:
            db.create_all()
        # the app builds its registry providers once and keeps them: build them now, from the
        # fake plugin alone, and leave the entry-point hook as it was for the other tests
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(registries, "discover_entry_points", fake_registry.entry_points)
            loaded = registries.loaded_providers(application)
        assert list(loaded.providers) == ["fake"], loaded
    tracker = _Tracker()
    server = make_server(
        "127.0.0.1",
        0,
        tracker.recording_errors(application),
        threaded=True,
        request_handler=_Handler,
    )
    server.tracker = tracker
    thread = threading.Thread(target=server.serve_forever, name="custreg-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(application, f"http://127.0.0.1:{server.server_port}", tracker)
    finally:
        tracker.wait_idle(IDLE_TIMEOUT)
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with application.app_context():
            db.session.remove()
            registries.close_providers(registries.loaded_providers(application))
            db.engine.dispose()


@pytest.fixture
def app(_served) -> Iterator[Flask]:
    """The served app, on an emptied database with the default settings (overrides the
    top-level ``app``, so ``make_user`` and ``ctx`` work on the served database)."""
    _served.tracker.wait_idle(IDLE_TIMEOUT)
    with _served.app.app_context():
        _empty_tables()
        seed_defaults()
        db.session.commit()
        db.session.remove()
    yield _served.app


@pytest.fixture
def live_server(app, _served) -> Iterator[LiveServer]:
    """The server of ``app``; the test fails when a request raised on the server."""
    _served.tracker.errors.clear()
    yield _served
    running = _served.tracker.wait_idle(IDLE_TIMEOUT)
    if running:
        pytest.fail(f"Requests still running {IDLE_TIMEOUT} s after the test: {running}")
    if _served.tracker.errors:
        errors, _served.tracker.errors = _served.tracker.errors, []
        pytest.fail("The server failed on a request:\n" + "\n".join(errors))


@pytest.fixture
def demo_data(app):
    """40 demo customers with everything that hangs on them, dated up to today."""
    from custreg_admin import demo

    with app.app_context():
        summary = demo.generate(customers=40, today=local_today(app.config["CUSTREG_TIMEZONE"]))
        db.session.remove()
    return summary


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def context(browser, live_server):
    ctx = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1366, "height": 900},
        locale="en-GB",
        timezone_id="Europe/Helsinki",
        accept_downloads=True,
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(request, context, live_server):
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    # console errors, among them what the Content-Security-Policy refused ("Refused to
    # execute inline event handler...") and every securitypolicyviolation event
    page.on("console", lambda message: _console_problem(page, message, problems))
    page.add_init_script(CSP_VIOLATION_REPORTER)
    page.on(
        "response",
        lambda response: (
            problems.append(f"HTTP {response.status} from {response.url}")
            if response.status >= 500
            or (response.status >= 400 and response.request.resource_type != "document")
            else None
        ),
    )
    yield page
    failed = any(
        getattr(request.node, f"rep_{when}", None) is not None
        and getattr(request.node, f"rep_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        _save_artifacts(request, context)
    if problems:
        if not failed:
            _save_artifacts(request, context)
        pytest.fail("The pages had errors:\n" + "\n".join(problems))


def _console_problem(page, message, problems: list[str]) -> None:
    """Console errors fail the test; "Failed to load resource" for a 4xx is left to the
    response check (a page the test expects to answer 401 or 404 is no error)."""
    if message.type != "error":
        return
    if re.match(r"Failed to load resource: the server responded with a status of 4", message.text):
        return
    if message.text.startswith("Failed to load resource: net::ERR_FAILED") and getattr(
        page, "aborted_on_purpose", False
    ):
        return  # the test aborted that request itself (page.route(...).abort())
    problems.append(f"Console error on {page.url}: {message.text}")


def _save_artifacts(request, context) -> None:
    folder = Path(request.config.rootpath) / ARTIFACTS
    folder.mkdir(exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    for number, open_page in enumerate(context.pages, start=1):
        stem = name if number == 1 else f"{name}-{number}"
        try:
            open_page.screenshot(path=str(folder / f"{stem}.png"), full_page=True, timeout=5_000)
            (folder / f"{stem}.html").write_text(open_page.content(), encoding="utf-8")
        except Exception as error:  # a screenshot must never hide the test's own failure
            print(f"no screenshot of {open_page.url}: {error}")


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def log_in() -> Callable[..., None]:
    def do(page, email: str, password: str = PASSWORD) -> None:
        page.goto("/admin/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r"/admin/(?!login)"))

    return do
