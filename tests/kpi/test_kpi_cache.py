"""The KPI figures cache and the Summary filters' choice lists cache (custreg_admin.cache).

What a user relies on: cached figures are the figures ``compute_kpis`` gives for the data now;
a change made through the module shows in the next request; a change made behind the module's
back shows once the entry's time to live has passed; two viewers who may see different invoices
never get each other's figures; several workers sharing Redis see each other's changes.
"""

from __future__ import annotations

import os
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from custreg_admin.cache import CHOICES, KPI, module_cache
from custreg_admin.extensions import db
from custreg_admin.models import Customer, Invoice, Project, User
from custreg_admin.services import customers as customer_service
from custreg_admin.services import mass_update as mu
from custreg_admin.services.customer_filter import CustomerFilter
from custreg_admin.services.kpi import (
    billing_by_month,
    compute_kpis,
    local_today,
)
from custreg_admin.services.kpi_cache import cached_billing_by_month, cached_kpis, viewer_scope

from .. import builders as b
from ..helpers import csrf_token, is_postgres, log_in, recorded_statements, summary_cards

REDIS_URL = os.environ.get("CUSTREG_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def _figures(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-kpi="(\w+)" data-value="([^"]+)"', page))


class Clock:
    """cachelib's per-process cache reads ``time()``: a clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr("cachelib.simple.time", fake)
    return fake


@pytest.fixture
def data(app, make_user):
    """Alice (role user) owns Alpha with billing this month; Bob (manager without "sees all
    invoices") owns Beta with billing this month and Gamma, a prospect."""
    alice = make_user("user", name="Alice")
    bob = make_user("manager", name="Bob")
    today = local_today(app.config["CUSTREG_TIMEZONE"])
    month = today.replace(day=1)
    with app.app_context():
        alpha = b.customer("Alpha Oy", owner=alice)
        beta = b.customer("Beta AS", owner=bob, country="NO")
        work = b.project(alpha, manager=alice)
        invoice = b.invoice(alpha, "1000.00", month, project=work)
        b.invoice(beta, "2500.00", month)
        gamma = b.customer("Gamma AS", owner=bob, country="NO")
        b.sales_case(gamma)  # a prospect
        db.session.commit()
        return {
            "alice": alice,
            "bob": bob,
            "today": today,
            "month": month,
            "alpha": alpha.id,
            "beta": beta.id,
            "gamma": gamma.id,
            "work": work.id,
            "invoice": invoice.id,
        }


def _billing(client) -> Decimal:
    return Decimal(_figures(summary_cards(client))["billing_this_month"])


def _home_billing(client) -> Decimal:
    page = client.get("/admin/")
    assert page.status_code == 200
    found = re.search(r'data-kpi="billing_this_month" data-value="([^"]+)"', page.get_data(True))
    return Decimal(found.group(1))  # the first cards: the company's figures


def _expected(app, user, today, filters=None):
    with app.app_context():
        return compute_kpis(db.session.get(User, user.id), today, filters)


# --- what the views show ------------------------------------------------------------------------


def test_cards_served_from_the_cache_are_compute_kpis_figures(app, client, data, login):
    admin = login("admin")
    first = _figures(summary_cards(client))
    second = _figures(summary_cards(client))
    expected = _expected(app, admin, data["today"])
    assert first == second
    assert Decimal(second["billing_this_month"]) == expected.billing_this_month == Decimal("3500")
    assert Decimal(second["margin_this_year"]) == expected.margin_this_year
    assert int(second["active_customers"]) == expected.active_customers
    assert int(second["prospects_in_pipeline"]) == expected.prospects_in_pipeline == 1


def test_the_second_cards_request_is_served_from_the_cache(app, client, data, login):
    login("admin")
    summary_cards(client)
    with app.app_context():
        engine = db.engine
    with recorded_statements(engine) as sent:
        summary_cards(client)
    assert not [s for s in sent if "custreg_invoice" in s], sent


def test_an_invoice_changed_through_the_module_shows_in_the_next_cards_request(
    app, client, data, login
):
    login("admin")
    assert _billing(client) == Decimal("3500.00")
    assert _home_billing(client) == Decimal("3500.00")
    with app.app_context():
        invoice = db.session.get(Invoice, data["invoice"])
        form = {
            "customer": invoice.customer_id,
            "project": invoice.project_id,
            "number": invoice.number,
            "date": invoice.date.isoformat(),
            "status": invoice.status_id,
            "total": "1234.56",
            "csrf_token": csrf_token(client, f"/admin/invoices/edit/?id={invoice.id}"),
        }
    response = client.post(f"/admin/invoices/edit/?id={data['invoice']}", data=form)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Invoice, data["invoice"]).total == Decimal("1234.56")
    assert _billing(client) == Decimal("3734.56")
    assert _home_billing(client) == Decimal("3734.56")


def test_an_invoice_added_and_a_cost_added_show_at_once(app, client, data, login):
    login("admin")
    before = _figures(summary_cards(client))
    with app.app_context():
        alpha = db.session.get(Customer, data["alpha"])
        b.invoice(alpha, "99.00", data["month"])
        b.cost(db.session.get(Project, data["work"]), "40.00", data["month"])
        db.session.commit()
    after = _figures(summary_cards(client))
    assert Decimal(after["billing_this_month"]) == Decimal(before["billing_this_month"]) + 99
    assert Decimal(after["margin_this_year"]) == Decimal(before["margin_this_year"]) + 59


def test_a_mass_update_of_account_owners_shows_in_the_owners_figures(app, client, data, make_user):
    """A set-based UPDATE (no ORM objects flushed) renews the version too."""
    log_in(client, data["bob"])
    assert _billing(client) == Decimal("2500.00")  # Bob sees his own customer's billing
    with app.app_context():
        admin = db.session.get(User, make_user("admin").id)
        mu.apply(admin, [data["alpha"]], "owner", data["bob"].id)
    assert _billing(client) == Decimal("3500.00")  # and now Alpha's too


def test_inactivating_a_customer_shows_in_the_counts(app, client, data, login):
    login("admin")
    assert int(_figures(summary_cards(client))["prospects_in_pipeline"]) == 1
    with app.app_context():
        customer_service.set_active(db.session.get(Customer, data["gamma"]), False)
    assert int(_figures(summary_cards(client))["prospects_in_pipeline"]) == 0


def test_a_change_behind_the_modules_back_shows_when_the_entry_expires(
    app, client, data, login, clock
):
    """Raw SQL on a connection is not seen by the session events, neither by the cache nor by
    the KPI aggregates: after ``kpi-rebuild`` the time to live bounds it."""
    login("admin")
    assert _billing(client) == Decimal("3500.00")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            update(Invoice).where(Invoice.id == data["invoice"]).values(total=Decimal("1.00"))
        )
    assert _billing(client) == Decimal("3500.00")  # cached: the module did not see the change
    clock.now += app.config["CUSTREG_KPI_CACHE_SECONDS"] + 1
    assert _billing(client) == Decimal("3500.00")  # nor did the aggregates
    result = app.test_cli_runner().invoke(args=["custreg", "kpi-rebuild"])
    assert result.exit_code == 0, result.output
    clock.now += app.config["CUSTREG_KPI_CACHE_SECONDS"] - 1
    assert _billing(client) == Decimal("3500.00")  # the cached entry lives on
    clock.now += 2
    assert _billing(client) == Decimal("2501.00")


# --- who shares an entry ---------------------------------------------------------------------


def test_viewers_with_different_invoice_permissions_never_share_figures(app, data, make_user):
    """Same page, same filters, same day: an admin's figures first, then a viewer who sees
    only their own customers', then another one's, then a manager who sees all invoices."""
    admin = make_user("admin")
    seer = make_user("manager", can_view_all_invoices=True)
    for user, billing in (
        (admin, Decimal("3500.00")),
        (data["alice"], Decimal("1000.00")),
        (data["bob"], Decimal("2500.00")),
        (seer, Decimal("3500.00")),
        (data["alice"], Decimal("1000.00")),
    ):
        client = app.test_client()
        assert log_in(client, user).status_code == 302
        shown = _figures(summary_cards(client))
        assert Decimal(shown["billing_this_month"]) == billing, user.name
        expected = _expected(app, user, data["today"])
        assert Decimal(shown["margin_this_year"]) == expected.margin_this_year
        assert _home_billing(client) == billing


def test_viewer_scope(make_user):
    assert viewer_scope(make_user("admin")) == viewer_scope(
        make_user("manager", can_view_all_invoices=True)
    )
    alice, bob = make_user("user"), make_user("user")
    assert viewer_scope(alice) == f"own:{alice.id}"
    assert viewer_scope(alice) != viewer_scope(bob)
    assert viewer_scope(None) == "none"


def test_the_filters_and_the_day_are_part_of_the_key(ctx, data):
    admin = User(id=None, email="x@example.com", name="X", role="admin")
    today = data["today"]
    everything = cached_kpis(admin, today)
    norway = cached_kpis(admin, today, CustomerFilter(country="NO"))
    assert norway == compute_kpis(admin, today, CustomerFilter(country="NO"))
    assert norway.billing_this_month == Decimal("2500.00") != everything.billing_this_month
    next_month = (today.replace(day=28) + timedelta(days=5)).replace(day=1)
    assert cached_kpis(admin, next_month) == compute_kpis(admin, next_month)
    assert cached_kpis(admin, next_month).billing_this_month == Decimal("0.00")
    assert cached_billing_by_month(admin, today) == billing_by_month(admin, today)


def test_uncommitted_changes_are_never_cached(ctx, data):
    """A request that changed something and reads figures before committing sees its own
    change, but does not leave it in the cache for others: the transaction may roll back."""
    admin = User(id=None, email="x@example.com", name="X", role="admin")
    today = data["today"]
    assert cached_kpis(admin, today).billing_this_month == Decimal("3500.00")
    db.session.get(Invoice, data["invoice"]).total = Decimal("1.00")
    db.session.flush()
    assert cached_kpis(admin, today).billing_this_month == Decimal("2501.00")
    db.session.rollback()
    assert cached_kpis(admin, today).billing_this_month == Decimal("3500.00")


@pytest.mark.commits
def test_a_savepoint_does_not_use_up_the_renewal(ctx, data):
    """Releasing a savepoint is not the commit: a request reading between the two caches the
    figures it sees; the commit itself must still renew the version. (On SQLite, pysqlite
    commits when the outermost savepoint is released, so the other request already sees the
    change there; on PostgreSQL it sees the figures from before.)"""
    admin = User(id=None, email="x@example.com", name="X", role="admin")
    today = data["today"]
    with db.session.begin_nested():
        db.session.get(Invoice, data["invoice"]).total = Decimal("1.00")
    with ctx.app_context():  # another request, its own session, meanwhile
        seen = cached_kpis(admin, today).billing_this_month
        assert seen == (Decimal("2501.00") if not is_postgres() else Decimal("3500.00"))
    db.session.commit()
    db.session.remove()
    assert cached_kpis(admin, today).billing_this_month == Decimal("2501.00")


def test_without_a_cache_every_request_computes(app_factory, make_user):
    app = app_factory(CUSTREG_CACHE_URL="off")
    with app.app_context():
        cache = module_cache()
        assert not cache.enabled
        assert cache.timeout(KPI) == 0


# --- the Summary filters' choice lists -----------------------------------------------------------


def _filter_options(page: str) -> str:
    found = re.search(r'id="filter-groups-data"[^>]*>(.*?)</', page, re.S)
    assert found, "no filter groups on the page"
    return found.group(1)


def test_filter_choices_follow_the_settings_at_once(app, client, data, login):
    login("admin")
    page = client.get("/admin/customers/").get_data(as_text=True)
    assert "Consulting" not in _filter_options(page)
    assert "Sweden" not in _filter_options(page)
    with app.app_context():
        b.industry("Consulting")
        b.customer("Svea AB", country="SE")
        db.session.commit()
    page = client.get("/admin/customers/").get_data(as_text=True)
    assert "Consulting" in _filter_options(page)
    assert "Sweden" in _filter_options(page)
    with app.app_context():
        db.session.get(User, data["bob"].id).name = "Robert"
        db.session.commit()
    assert "Robert" in _filter_options(client.get("/admin/customers/").get_data(as_text=True))


def test_filter_choices_are_not_read_again_while_nothing_changed(app, client, data, login):
    login("admin")
    client.get("/admin/customers/")
    with app.app_context():
        engine = db.engine
    with recorded_statements(engine) as sent:
        assert client.get("/admin/customers/").status_code == 200
    assert not [s for s in sent if "FROM custreg_industry" in s], sent
    assert not [s for s in sent if "DISTINCT custreg_customer.country" in s], sent


def test_an_invoice_change_leaves_the_choice_lists_alone(app, data):
    with app.app_context():
        cache = module_cache()
        kpi, choices = cache.version(KPI), cache.version(CHOICES)
    with app.app_context():
        db.session.get(Invoice, data["invoice"]).total = Decimal("2.00")
        db.session.commit()
    with app.app_context():
        assert cache.version(KPI) != kpi
        assert cache.version(CHOICES) == choices


def test_a_log_in_that_only_rehashes_a_password_renews_nothing(app, data):
    with app.app_context():
        cache = module_cache()
        versions = (cache.version(KPI), cache.version(CHOICES))
    with app.app_context():
        db.session.get(User, data["alice"].id).password_hash = "rehashed"
        db.session.commit()
    with app.app_context():
        assert (cache.version(KPI), cache.version(CHOICES)) == versions


# --- Redis: several workers -------------------------------------------------------------------


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        if os.environ.get("REQUIRE_REDIS"):
            raise
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")


def test_workers_sharing_redis_see_each_others_changes(app_factory, app, data, make_user):
    """Two apps on one database and one Redis, as two gunicorn workers: a change committed in
    one shows in the other's next request; the entry made by the first is really shared."""
    _redis_or_skip()
    prefix = f"custreg-test-{uuid.uuid4().hex}:"
    config = {"CUSTREG_CACHE_URL": REDIS_URL, "CUSTREG_CACHE_KEY_PREFIX": prefix}
    one, two = app_factory(**config), app_factory(**config)
    admin = make_user("admin")
    clients = []
    for worker in (one, two):
        client = worker.test_client()
        assert log_in(client, admin).status_code == 302
        clients.append(client)
    try:
        assert _billing(clients[0]) == Decimal("3500.00")
        with two.app_context():
            cache = module_cache()
            assert cache.kind == "redis"
            computed_by_one = set(cache.backend._write_client.keys(f"{prefix}kpi:*"))
        assert computed_by_one  # the figures (and the Summary's count) are in Redis
        assert _billing(clients[1]) == Decimal("3500.00")
        with two.app_context():  # worker two served what worker one computed: no entry of its own
            assert set(cache.backend._write_client.keys(f"{prefix}kpi:*")) == computed_by_one
        with two.app_context():
            db.session.get(Invoice, data["invoice"]).total = Decimal("10.00")
            db.session.commit()
        assert _billing(clients[0]) == Decimal("2510.00")
        assert _billing(clients[1]) == Decimal("2510.00")
    finally:
        with one.app_context():
            client = module_cache().backend._write_client
            for key in client.scan_iter(f"{prefix}*"):
                client.delete(key)


def test_an_unreachable_cache_leaves_the_figures_right(app_factory, app, data, make_user, caplog):
    """Redis down (here: a closed port): pages answer with figures computed per request, and
    writes still commit."""
    down = app_factory(CUSTREG_CACHE_URL="redis://127.0.0.1:9/0", CUSTREG_CACHE_TIMEOUT=0.2)
    client = down.test_client()
    assert log_in(client, make_user("admin")).status_code == 302
    assert _billing(client) == Decimal("3500.00")
    with down.app_context():
        db.session.get(Invoice, data["invoice"]).total = Decimal("10.00")
        db.session.commit()
    assert _billing(client) == Decimal("2510.00")
    assert "the cache (redis) failed" in caplog.text


class _Flaky:
    """A cache backend that fails while ``down`` (Redis restarting, the network gone)."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.down = False

    def __getattr__(self, name):
        method = getattr(self.backend, name)

        def call(*args, **kwargs):
            if self.down:
                raise ConnectionError("cache unreachable")
            return method(*args, **kwargs)

        return call


def test_a_change_committed_while_the_cache_was_away_shows_when_it_is_back(
    app, client, data, login
):
    login("admin")
    assert _billing(client) == Decimal("3500.00")  # cached under the current version
    cache = app.extensions["custreg_admin"].cache
    flaky = cache.backend = _Flaky(cache.backend)
    flaky.down = True
    with app.app_context():
        db.session.get(Invoice, data["invoice"]).total = Decimal("10.00")
        db.session.commit()  # the version could not be renewed
    assert _billing(client) == Decimal("2510.00")  # computed without the cache
    flaky.down = False
    cache._retry_at = 0.0  # the few seconds without the cache have passed
    assert _billing(client) == Decimal("2510.00")  # not the entry from before the change
    assert _billing(client) == Decimal("2510.00")
