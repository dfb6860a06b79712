"""Summary cases: the Customers > Summary page as an administrator gets it, through a test client.

Both sides run alternately (:func:`bench.common.timed_pair`), so that they see the same
background load.

* ``list``: ``GET /admin/customers/`` (the default page: active customers by name, 20 rows,
  every column, the count) logged in as the demo administrator, against the stock
  ``ModelView`` of :mod:`bench.stock` on the same model and columns, filtered to the same
  active customers. Both must show the same count and the same 20 names. The statements one
  request sends (SQLAlchemy ``before_cursor_execute``) are counted for each side.
  The filter choice lists come from the module's cache (as on a running server): a second
  row times the page right after a settings change, when the five lists are read again, and
  the note gives the statements of both.
* ``cards``: the KPI cards the list page fetches in their own request
  (``GET /admin/customers/kpis/`` with ``X-Custreg-Fragment: 1``), against
  :func:`~custreg_admin.services.kpi.compute_kpis` called directly. The main row is the
  **uncached** request (``CUSTREG_KPI_CACHE_SECONDS=0``: the computation plus the view's
  overhead); a second row, labelled "cache hit", times the same request answered from the KPI
  cache, which says nothing about the computation's speed. The figures on the cards must be the
  service's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from custreg_admin.cache import CHOICES, module_cache
from custreg_admin.demo import DEMO_ADMIN_EMAIL, DEMO_PASSWORD
from custreg_admin.extensions import db
from custreg_admin.models import Customer, User
from custreg_admin.services.kpi import compute_kpis

from .common import BenchEnv, CaseResult, counting_statements, median, timed_pair
from .exports import COLUMNS
from .stock import SUMMARY_URL, stock_app

SUMMARY = "/admin/customers/"
CARDS = "/admin/customers/kpis/"
FRAGMENT = {"X-Custreg-Fragment": "1"}

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_COUNT = re.compile(r"List \((\d+)\)")
_NAME_CELL = re.compile(r'<td class="col-name">(.*?)</td>', re.S)
_BADGE = re.compile(r'<span class="badge[^"]*">.*?</span>', re.S)
_TAG = re.compile(r"<[^>]+>")
_FIGURE = re.compile(r'data-kpi="(\w+)" data-value="([^"]*)"')


_SERVED: dict[tuple[int, bool], Flask] = {}


def _served_app(env: BenchEnv, *, kpi_cache: bool = True) -> Flask:
    """A twin of the bench app on the same database, to serve the pages.

    The bench keeps an app context of its own app pushed; a request to that app would run in
    it (one ``g``, one database session for every request). The twin gets a fresh app context
    and session per request, as under a real server. ``kpi_cache=False``: the KPI figures are
    computed in every request (``CUSTREG_KPI_CACHE_SECONDS=0``).
    """
    key = (id(env.app), kpi_cache)
    if key not in _SERVED:
        from custreg_admin import create_app

        config = {
            "CUSTREG_DATABASE_URL": env.app.config["CUSTREG_DATABASE_URL"],
            "CUSTREG_SECRET_KEY": "bench",
            "CUSTREG_REGISTRIES": "",
            "CUSTREG_CACHE_URL": "memory://",  # the cache of one process, whatever the shell says
        }
        if not kpi_cache:
            config["CUSTREG_KPI_CACHE_SECONDS"] = 0
        _SERVED[key] = create_app(config)
    return _SERVED[key]


def _renew_choices(app: Flask) -> None:
    """What a settings change does: the filter choice lists are read again."""
    with app.app_context():
        module_cache().bump({CHOICES})


def _logged_in_client(env: BenchEnv, *, kpi_cache: bool = True) -> tuple[Flask, FlaskClient]:
    """The served app and a test client logged in as the demo administrator (login form)."""
    app = _served_app(env, kpi_cache=kpi_cache)
    client = app.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    token = _CSRF.search(page)
    data = {"email": DEMO_ADMIN_EMAIL, "password": DEMO_PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/admin/login", data=data)
    if response.status_code != 302:
        raise RuntimeError(
            f"could not log in as {DEMO_ADMIN_EMAIL} (HTTP {response.status_code}): "
            "the bench needs the demo data's administrator"
        )
    return app, client


def _get(client: FlaskClient, url: str, **kwargs: Any) -> Callable[[], str]:
    def run() -> str:
        response = client.get(url, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}")
        return response.get_data(as_text=True)

    return run


def _listed(page: str) -> dict[str, Any]:
    """What a list page shows: the count and the names of its rows."""
    count = _COUNT.search(page)
    names = [
        html.unescape(_TAG.sub("", _BADGE.sub("", cell))).strip()
        for cell in _NAME_CELL.findall(page)
    ]
    return {"count": int(count.group(1)) if count else None, "rows": len(names), "names": names}


def _statements(app: Flask, run: Callable[[], Any]) -> int:
    with app.app_context():
        engine = db.engine
    with counting_statements(engine) as counter:
        run()
    return counter[0]


def _stock_summary_url(app: Flask) -> str:
    """The stock list filtered to active customers (the Summary's default)."""
    view = next(
        v
        for admin in app.extensions["admin"]
        for v in admin._views
        if v.endpoint == "stock_summary"
    )
    with app.test_request_context():
        index, flt = next(
            (i, f)
            for i, f in enumerate(view._filters)
            if f.column is Customer.__table__.c.is_active and f.operation() == "equals"
        )
        arg = view.get_filter_arg(index, flt)
    return f"{SUMMARY_URL}?flt0_{arg}=1"


def _runs(env: BenchEnv) -> int:
    """A page takes milliseconds: more runs than the default five for a steady median."""
    return max(env.runs, 21)


def summary_list(env: BenchEnv) -> CaseResult:
    app, client = _logged_in_client(env)
    stock = stock_app(env, COLUMNS)
    module = _get(client, SUMMARY)
    baseline = _get(stock.test_client(), _stock_summary_url(stock))
    runs, page, baseline_runs, baseline_page = timed_pair(module, baseline, _runs(env))
    shown, baseline_shown = _listed(page), _listed(baseline_page)
    statements = _statements(app, module)
    _renew_choices(app)
    statements_renewed = _statements(app, module)
    baseline_statements = _statements(stock, baseline)
    db.session.rollback()
    same = shown == baseline_shown and shown["rows"] == min(20, shown["count"] or 0)
    for side, count in ((shown, statements), (baseline_shown, baseline_statements)):
        side["statements"] = count
        side["names"] = side["names"][:3]  # enough to recognise the page in results.json
    shown["statements_after_settings_change"] = statements_renewed
    return CaseResult(
        case="summary: list page, 20 rows + count",
        median_ms=round(median(runs), 2),
        baseline_median_ms=round(median(baseline_runs), 2),
        runs_ms=[round(t, 2) for t in runs],
        baseline_runs_ms=[round(t, 2) for t in baseline_runs],
        same_result=same,
        result=shown,
        baseline_result=baseline_shown,
        goal_ratio=1.2,
        note=(
            f"statements {statements} ({statements_renewed} after a settings change) "
            f"vs stock {baseline_statements}; filter choices cached"
        ),
    )


def summary_list_after_change(env: BenchEnv) -> CaseResult:
    """The list page when its filter choice lists are read again (after every settings,
    user or customer-country change): the cost the cache saves."""
    app, client = _logged_in_client(env)
    stock = stock_app(env, COLUMNS)
    page_of = _get(client, SUMMARY)

    def module() -> str:
        _renew_choices(app)
        return page_of()

    baseline = _get(stock.test_client(), _stock_summary_url(stock))
    runs, page, baseline_runs, baseline_page = timed_pair(module, baseline, _runs(env))
    shown, baseline_shown = _listed(page), _listed(baseline_page)
    statements = _statements(app, module)
    db.session.rollback()
    same = shown == baseline_shown
    for side in (shown, baseline_shown):
        side["names"] = side["names"][:3]
    return CaseResult(
        case="summary: list page, choices read again",
        median_ms=round(median(runs), 2),
        baseline_median_ms=round(median(baseline_runs), 2),
        runs_ms=[round(t, 2) for t in runs],
        baseline_runs_ms=[round(t, 2) for t in baseline_runs],
        same_result=same,
        result={**shown, "statements": statements},
        baseline_result=baseline_shown,
        note=f"statements {statements}; the first request after a change only",
    )


def _cards(env: BenchEnv, *, cached: bool) -> CaseResult:
    app, client = _logged_in_client(env, kpi_cache=cached)
    admin = db.session.scalars(select(User).where(User.email == DEMO_ADMIN_EMAIL)).one()
    db.session.expunge(admin)
    module = _get(client, CARDS, headers=FRAGMENT)
    runs, fragment, baseline_runs, figures = timed_pair(
        module, lambda: compute_kpis(admin, env.today), env.runs
    )
    shown = dict(_FIGURE.findall(fragment))
    expected = {key: str(value) for key, value in asdict(figures).items()}
    statements = _statements(app, module)
    db.session.rollback()
    return CaseResult(
        case=(
            "summary: KPI cards, cache hit vs service"
            if cached
            else "summary: KPI cards request (uncached) vs service"
        ),
        median_ms=round(median(runs), 2),
        baseline_median_ms=round(median(baseline_runs), 2),
        runs_ms=[round(t, 2) for t in runs],
        baseline_runs_ms=[round(t, 2) for t in baseline_runs],
        same_result=shown == expected,
        result={**shown, "statements": statements},
        baseline_result=expected,
        note=(
            f"statements {statements}; served from the KPI cache: not the computation's speed"
            if cached
            else f"statements {statements}; computed in every request"
        ),
    )


def summary_cards(env: BenchEnv) -> CaseResult:
    return _cards(env, cached=False)


def summary_cards_cached(env: BenchEnv) -> CaseResult:
    return _cards(env, cached=True)


CASES = [summary_list, summary_list_after_change, summary_cards, summary_cards_cached]
