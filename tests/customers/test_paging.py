"""Paging shows every row exactly once, whatever the sort (issue 15: a unique last key).

A sort on a column with repeated values (country, account owner, city...) without a unique last
key lets the database return tied rows in any order per statement: on PostgreSQL consecutive
pages then repeat some rows and skip others. Every list of the module, the reports' pages and
their downloads order by the row id last; these tests page through every sortable column on the
test database, with many repeated values, and see each row exactly once.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from flask import url_for
from sqlalchemy import select

from custreg_admin.context import custreg_state
from custreg_admin.extensions import db
from custreg_admin.models import (
    Address,
    Contact,
    Cost,
    Customer,
    Industry,
    Invoice,
    InvoiceStatus,
    InvoiceTemplate,
    MarketSegment,
    Project,
    Proposal,
    User,
    VatRate,
)
from custreg_admin.services.reports import REPORT_TYPES, iter_rows, make_spec, page

from ..builders import customer, customer_status, industry, invoice, project

PAGE_SIZE = 20
_ROW_ID = re.compile(r'name="rowid" class="action-checkbox" value="(\d+)"')


def _view(app, model):
    with app.app_context():
        admin = custreg_state(app).admin
    return next(v for v in admin._views if getattr(v, "model", None) is model)


def _sortable_indexes(view) -> list[int]:
    """The list's ``?sort=`` indexes of every sortable column, read from the view itself."""
    return [
        index
        for index, (name, _) in enumerate(view._list_columns)
        if name in view._sortable_columns
    ]


def _page_through(app, client, view, sort: int | None, descending: bool, total: int) -> list[int]:
    """The row ids of every page of the list, in the order shown."""
    seen: list[int] = []
    pages = -(-total // PAGE_SIZE)
    for number in range(pages + 1):  # one page beyond the last: it must be empty
        args = {"page": number, "page_size": PAGE_SIZE}
        if sort is not None:
            args["sort"] = sort
            if descending:
                args["desc"] = 1
        with app.test_request_context():
            path = url_for(f"{view.endpoint}.index_view", **args)
        response = client.get(path)
        assert response.status_code == 200, path
        ids = [int(i) for i in _ROW_ID.findall(response.get_data(as_text=True))]
        if number == pages:
            assert ids == [], f"{path}: a page beyond the last"
        seen.extend(ids)
    return seen


def _assert_each_once(seen: list[int], expected: set[int], what: str) -> None:
    repeated = sorted({i for i in seen if seen.count(i) > 1})
    missing = sorted(expected - set(seen))
    assert not repeated and not missing, f"{what}: repeated {repeated}, missing {missing}"
    assert len(seen) == len(expected), what


# --------------------------------------------------------------------------- the Summary


@pytest.fixture
def crowded(app, make_user):
    """55 customers with few distinct values in every sortable column (and some empty)."""
    owners = [make_user("user", name="Same Owner") for _ in range(2)] + [None]
    with app.app_context():
        industries = [industry("Retail"), industry("Services"), None]
        statuses = [customer_status("Active"), customer_status("Passive"), None]
        ids = []
        for n in range(55):
            row = customer(
                ["Acme", "acme", "Beta"][n % 3],
                owner=owners[n % 3],
                industry=industries[n % 3] if n % 2 else industries[2],
                status=statuses[n % 3] if n % 4 else statuses[0],
                country=["FI", "NO", "SE"][n % 3] if n % 5 else "FI",
                business_id=None if n % 2 else "0112038-9",
            )
            if n % 4:
                db.session.add(
                    Address(customer_id=row.id, kind="visiting", city=["Oulu", "Turku"][n % 2])
                )
            ids.append(row.id)
        db.session.commit()
    return set(ids)


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_summary_pages_show_each_customer_once_for_every_sort(
    app, admin_client, crowded, descending
):
    view = _view(app, Customer)
    sortable = _sortable_indexes(view)
    names = {view._list_columns[i][0] for i in sortable}
    assert {"country", "owner", "city", "industry", "status"} <= names
    for sort in [None, *sortable]:  # None: the default sort
        what = "default" if sort is None else view._list_columns[sort][0]
        seen = _page_through(app, admin_client, view, sort, descending, len(crowded))
        _assert_each_once(seen, crowded, f"Summary sorted by {what}")


def test_every_list_order_ends_with_the_id(app):
    """The unique last key is added by the shared base view: every list of the module has it,
    in the chosen direction, for the default sort and for every sortable column."""
    with app.test_request_context():
        admin = custreg_state(app).admin
        views = [v for v in admin._views if hasattr(v, "_apply_sorting")]
        assert len(views) >= 10
        for view in views:
            for sort in [None, *view._sortable_columns]:
                for descending in (False, True):
                    query, _ = view._apply_sorting(view.get_query(), {}, sort, descending)
                    last = query.statement._order_by_clauses[-1]
                    key_direction = (
                        descending if sort is not None else view._default_sort_descending()
                    )
                    suffix = "DESC" if key_direction else "ASC"
                    assert str(last).endswith(f".id {suffix}"), (view.endpoint, sort, str(last))


# --------------------------------------------------------------------------- the other lists


@pytest.fixture
def crowded_records(app, make_user):
    """25 rows of every other list with few distinct values per sortable column."""
    managers = [make_user("manager", name="Same Manager") for _ in range(2)]
    for n in range(25):
        make_user(["user", "manager"][n % 2], name="Same Name")
    with app.app_context():
        owners = [customer("Same"), customer("Same")]
        projects = []
        for n in range(25):
            work = project(owners[n % 2], name="Work", manager=managers[n % 2])
            projects.append(work)
            invoice(owners[n % 2], "10.00", date(2024, 1, 1 + n % 2), project=work, number="X")
            db.session.add(Cost(project_id=work.id, date=date(2024, 1, 1), amount=Decimal(5)))
            db.session.add(Proposal(project_id=work.id, number="P", total=Decimal(1)))
            db.session.add(Industry(name=f"Industry {n}", code=["A", "B"][n % 2]))
            db.session.add(InvoiceTemplate(name=f"Template {n}", language="fi"))
            db.session.add(VatRate(name=f"Rate {n}", percent=Decimal("24.00"), country="FI"))
            db.session.add(MarketSegment(name="Same segment"))
            db.session.add(InvoiceStatus(name=f"Status {n}", counts_as_sent=n % 2 == 0))
        db.session.commit()


@pytest.mark.usefixtures("crowded_records")
@pytest.mark.parametrize(
    "model",
    [
        Project,
        Proposal,
        Invoice,
        Cost,
        Industry,
        InvoiceTemplate,
        VatRate,
        MarketSegment,
        InvoiceStatus,
        User,
    ],
    ids=lambda model: model.__name__,
)
def test_other_lists_show_each_row_once_for_every_sort(app, admin_client, model):
    view = _view(app, model)
    with app.app_context():
        expected = set(db.session.scalars(select(model.id)))
    assert len(expected) > PAGE_SIZE
    for sort in [None, *_sortable_indexes(view)]:
        what = "default" if sort is None else view._list_columns[sort][0]
        seen = _page_through(app, admin_client, view, sort, sort is not None, len(expected))
        _assert_each_once(seen, expected, f"{model.__name__} sorted by {what}")


# --------------------------------------------------------------------------- reports


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_report_pages_and_downloads_show_each_row_once_for_every_sort(
    ctx, crowded, make_user, descending
):
    """Every column of both report types as the sort: pages of 7 and the download's batches
    hold every row once, in the same order."""
    admin = db.session.get(User, make_user("admin").id)
    contacts = _contacts_of(crowded)
    for report_type, identity, expected in (
        ("customers", "number", _numbers_of(crowded)),
        ("contacts", "contact_email", contacts),
    ):
        for column in REPORT_TYPES[report_type].columns:
            sort = f"-{column.id}" if descending else column.id
            spec = make_spec(report_type, [identity, column.id], sort=sort, viewer=admin)
            rows = [row for number in range(1, 10) for row in page(spec, number, 7)]
            what = f"{report_type} report sorted by {sort}"
            _assert_each_once([row[0] for row in rows], expected, what)
            assert rows == [tuple(row) for row in iter_rows(spec, chunk_size=6)], what


def _numbers_of(customer_ids: set[int]) -> set[int]:
    return set(db.session.scalars(select(Customer.number).where(Customer.id.in_(customer_ids))))


def _contacts_of(customer_ids: set[int]) -> set[str]:
    """A contact per customer, all of the same name; their e-mail addresses (unique)."""
    emails = set()
    for n, customer_id in enumerate(sorted(customer_ids)):
        email = f"contact{n}@example.com"
        db.session.add(
            Contact(customer_id=customer_id, first_name="Same", last_name="Name", email=email)
        )
        emails.add(email)
    db.session.commit()
    return emails


@pytest.mark.commits
def test_csv_download_sorted_by_a_repeated_value_holds_each_customer_once(
    app, admin_client, crowded
):
    query = urlencode(
        {
            "type": "customers",
            "columns": ["number", "country"],
            "sort": "country",
            "delimiter": ",",
        },
        doseq=True,
    )
    response = admin_client.get(f"/admin/reports/download/csv/?{query}")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=","))[1:]
    with app.app_context():
        expected = _numbers_of(crowded)
    _assert_each_once([int(row[0]) for row in rows], expected, "CSV sorted by country")
    countries = [row[1] for row in rows]
    assert countries == sorted(countries)
