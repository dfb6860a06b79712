"""Reports > Report creation (custreg_admin.services.reports, reports.saved, admin.reports).

Service tests build data with tests/builders.py inside an app context; HTTP tests log in through
the login form and post with the CSRF token, like the rest of the suite.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from babel.numbers import parse_decimal
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import select

from custreg_admin import i18n
from custreg_admin.admin.reports import ReportView
from custreg_admin.errors import DomainError, PermissionDenied
from custreg_admin.extensions import db
from custreg_admin.models import (
    Address,
    Contact,
    Customer,
    EInvoiceAddress,
    InvoiceTemplate,
    SavedReport,
    VatRate,
)
from custreg_admin.services.kpi import local_today
from custreg_admin.services.reports import (
    REPORT_TYPES,
    InvalidReport,
    count_rows,
    customer_ids,
    default_delimiter,
    iter_batches,
    iter_rows,
    joined_strings,
    make_spec,
    page,
)
from custreg_admin.services.reports import engine as report_engine
from custreg_admin.services.reports import saved as saved_reports

from ..builders import (
    cost,
    customer,
    customer_status,
    industry,
    invoice,
    many_customers,
    project,
    sales_case,
    segment,
)
from ..helpers import csrf_token, log_in, recorded_statements

TODAY = date(2024, 6, 15)
ALL_CUSTOMER_COLUMNS = [c.id for c in REPORT_TYPES["customers"].columns]
ALL_CONTACT_COLUMNS = [c.id for c in REPORT_TYPES["contacts"].columns]
MONEY_COLUMNS = [c.id for c in REPORT_TYPES["customers"].columns if c.type == "money"]
BUILD = "/admin/reports/build/"


def spec(report_type="customers", columns=None, filters=None, sort=None, *, viewer, **kw):
    return make_spec(report_type, columns, filters, sort, viewer=viewer, today=TODAY, **kw)


def as_dicts(the_spec) -> list[dict]:
    return [dict(zip(the_spec.columns, row, strict=True)) for row in page(the_spec, 1, 500)]


def names(the_spec, column="name") -> list[str]:
    index = the_spec.columns.index(column)
    return [row[index] for row in iter_rows(the_spec)]


def counting_statements():
    return recorded_statements(db.engine)


@pytest.fixture
def admin(make_user):
    return make_user("admin", name="Ada Admin")


# --------------------------------------------------------------------------- data sets


def _full_customer(owner) -> Customer:
    """A customer with every column of the Customers report filled, and rows that must not
    count beside the ones that must."""
    software = industry("Software", code="62010")
    passive = customer_status("Passive")
    template = db.session.scalar(
        select(InvoiceTemplate).where(InvoiceTemplate.name == "Standard EN")
    )
    vat = db.session.scalar(
        select(VatRate).where(VatRate.name == "General 25.5%", VatRate.country == "FI")
    )
    acme = customer(
        "Acme Oy",
        owner=owner,
        number=5001,
        segments=[segment("Retail"), segment("Alpha")],
        industry=software,
        status=passive,
        business_id="0112038-9",
        vat_number="FI01120389",
        invoice_template_id=template.id,
        vat_rate_id=vat.id,
        website="acme.example",
        email="info@acme.example",
        phone="+358 9 123",
        notes="Key account",
        registry_source="ytj",
        registry_fetched_at=datetime(2024, 5, 1, 12, 30),
        created_at=datetime(2023, 2, 3, 4, 5),
        updated_at=datetime(2024, 6, 1, 7, 8),
    )
    for kind, street, code, city, country in (
        ("visiting", "Katu 1", "00100", "Helsinki", "FI"),
        ("visiting", "Toinen 2", "00200", "Vantaa", "FI"),  # not the first: not shown
        ("postal", "PL 5", "00101", "Helsinki", "FI"),
        ("billing", "Laskutie 3", "02100", "Espoo", "SE"),
    ):
        db.session.add(
            Address(
                customer_id=acme.id,
                kind=kind,
                street=street,
                postal_code=code,
                city=city,
                country=country,
            )
        )
    db.session.add(EInvoiceAddress(customer_id=acme.id, address="003700000000", operator="OP"))
    db.session.add(
        EInvoiceAddress(
            customer_id=acme.id, address="003701120389", operator="003721291126", is_default=True
        )
    )
    work = project(acme)
    project(acme, is_closed=True)
    project(acme, sales_status="lost")
    project(acme, sales_status="won")  # open: not closed and not lost
    internal = project(acme, is_internal=True)
    sales_case(acme)
    sales_case(acme, is_closed=True)
    sales_case(acme, sales_status="lost")
    sales_case(acme, is_internal=True)

    invoice(acme, "100.10", date(2024, 3, 1), project=work)
    invoice(acme, "200.20", date(2024, 12, 31), status="Paid")  # later this year still counts
    invoice(acme, "50.00", date(2024, 2, 1), status="Draft")
    invoice(acme, "70.00", date(2024, 2, 1), number=None)
    invoice(acme, "80.00", date(2024, 2, 1), number=" \t")
    invoice(acme, "300.33", date(2023, 5, 5))
    invoice(acme, "999.00", date(2022, 1, 1))
    invoice(acme, "1000.00", date(2025, 1, 1))
    cost(work, "40.04", date(2024, 4, 4))
    cost(work, "1.01", date(2023, 12, 31))
    cost(internal, "500.00", date(2024, 1, 2))
    return acme


ACME = {
    "number": 5001,
    "name": "Acme Oy",
    "business_id": "0112038-9",
    "vat_number": "FI01120389",
    "country": "FI",
    "owner": "Olga Owner",
    "industry": "Software",
    "industry_code": "62010",
    "status": "Passive",
    "invoice_template": "Standard EN",
    "vat_rate": "General 25.5%",
    "segments": "Alpha, Retail",
    "is_active": True,
    "website": "acme.example",
    "email": "info@acme.example",
    "phone": "+358 9 123",
    "notes": "Key account",
    "registry_source": "ytj",
    "registry_fetched_at": date(2024, 5, 1),
    "created_at": date(2023, 2, 3),
    "updated_at": date(2024, 6, 1),
    "visiting_street": "Katu 1",
    "visiting_postal_code": "00100",
    "visiting_city": "Helsinki",
    "visiting_country": "FI",
    "postal_street": "PL 5",
    "postal_postal_code": "00101",
    "postal_city": "Helsinki",
    "postal_country": "FI",
    "billing_street": "Laskutie 3",
    "billing_postal_code": "02100",
    "billing_city": "Espoo",
    "billing_country": "SE",
    "einvoice_address": "003701120389",
    "einvoice_operator": "003721291126",
    "billing_this_year": Decimal("300.30"),
    "billing_last_year": Decimal("300.33"),
    "costs_this_year": Decimal("40.04"),
    "margin_this_year": Decimal("260.26"),
    "open_projects": 2,
    "open_sales_cases": 1,
}


# --------------------------------------------------------------------------- each column


def test_every_customers_column(ctx, make_user, admin):
    assert set(ACME) == set(ALL_CUSTOMER_COLUMNS), "a new column needs a value here"
    owner = make_user("user", name="Olga Owner")
    _full_customer(owner)
    bare = customer("Bare", number=5002)
    db.session.commit()

    rows = as_dicts(spec(columns=ALL_CUSTOMER_COLUMNS, viewer=admin))
    assert [row["name"] for row in rows] == ["Acme Oy", "Bare"]
    acme, empty = rows
    for column_id, expected in ACME.items():
        assert acme[column_id] == expected, column_id
        assert type(acme[column_id]) is type(expected), column_id
    assert empty["number"] == bare.number
    for column_id in ("owner", "industry", "segments", "visiting_city", "einvoice_address"):
        assert empty[column_id] is None, column_id
    for column_id in MONEY_COLUMNS:
        assert empty[column_id] == Decimal("0.00"), column_id
    assert (empty["open_projects"], empty["open_sales_cases"]) == (0, 0)


def test_einvoice_address_without_a_default_is_the_first(ctx, admin):
    plain = customer("Plain")
    db.session.add(EInvoiceAddress(customer_id=plain.id, address="FIRST", operator="1"))
    db.session.add(EInvoiceAddress(customer_id=plain.id, address="SECOND", operator="2"))
    db.session.commit()
    [row] = as_dicts(spec(columns=["einvoice_address", "einvoice_operator"], viewer=admin))
    assert row == {"einvoice_address": "FIRST", "einvoice_operator": "1"}


def test_every_contacts_column(ctx, make_user, admin):
    owner = make_user("user", name="Olga Owner")
    acme = _full_customer(owner)
    db.session.add_all(
        [
            Contact(
                customer_id=acme.id,
                first_name="Matti",
                last_name="Meikäläinen",
                title="CEO",
                email="matti@acme.example",
                phone="+358 40 1",
            ),
            Contact(customer_id=acme.id, first_name=None, last_name="Solo"),
            Contact(customer_id=acme.id, first_name="Ina", last_name="Gone", is_active=False),
        ]
    )
    customer("No contacts")
    db.session.commit()

    rows = as_dicts(spec("contacts", ALL_CONTACT_COLUMNS, viewer=admin))
    assert len(rows) == 2  # active contacts only, by default; a customer without any: no row
    matti, solo = rows
    assert set(matti) == set(ALL_CONTACT_COLUMNS)
    assert matti == {
        "customer_number": 5001,
        "customer_name": "Acme Oy",
        "contact_name": "Matti Meikäläinen",
        "first_name": "Matti",
        "last_name": "Meikäläinen",
        "title": "CEO",
        "contact_email": "matti@acme.example",
        "contact_phone": "+358 40 1",
        "contact_active": True,
        "business_id": "0112038-9",
        "owner": "Olga Owner",
        "visiting_street": "Katu 1",
        "visiting_postal_code": "00100",
        "visiting_city": "Helsinki",
        "visiting_country": "FI",
        "postal_street": "PL 5",
        "postal_postal_code": "00101",
        "postal_city": "Helsinki",
        "postal_country": "FI",
    }
    assert (solo["contact_name"], solo["first_name"], solo["title"]) == ("Solo", None, None)

    every = spec("contacts", ["contact_name"], {"contact_state": "all"}, viewer=admin)
    assert len(page(every, 1, 10)) == 3
    gone = spec("contacts", ["contact_name"], {"contact_state": "inactive"}, viewer=admin)
    assert page(gone) == [("Ina Gone",)]


def test_default_columns_and_sort(ctx, admin):
    customers = spec(viewer=admin)
    assert customers.columns == REPORT_TYPES["customers"].default_columns
    assert "name" in customers.columns and "billing_this_year" in customers.columns
    assert (customers.sort, customers.descending) == ("name", False)
    assert dict(customers.filters) == {"active_state": "active"}
    contacts = spec("contacts", viewer=admin)
    assert contacts.columns[:3] == ("customer_number", "customer_name", "contact_name")
    assert dict(contacts.filters) == {"active_state": "active", "contact_state": "active"}


def test_segments_helper_joins_in_name_order_on_this_database(ctx, admin):
    from custreg_admin.models import MarketSegment, customer_segment

    one = customer("One", segments=[segment("Zeta"), segment("beta"), segment("Alpha")])
    db.session.commit()
    helper = joined_strings(
        db.session.get_bind().dialect.name,
        MarketSegment.name,
        where=(
            customer_segment.c.segment_id == MarketSegment.id,
            customer_segment.c.customer_id == Customer.id,
        ),
        order_by=MarketSegment.name,
        correlate=Customer,
        separator=" | ",
    )
    assert db.session.scalar(select(helper).where(Customer.id == one.id)) == "Alpha | Zeta | beta"


# --------------------------------------------------------------------------- filters


@pytest.fixture
def filter_data(ctx, make_user):
    u1 = make_user("user", name="Ulla")
    u2 = make_user("user", name="Ville")
    i1, i2 = industry("Retail trade"), industry("Shipping")
    s1, s2 = segment("S1"), segment("S2")
    active, passive = customer_status("Active"), customer_status("Passive")
    a = customer("A", owner=u1, industry=i1, status=active, segments=[s1], email="a@x.example")
    b = customer("B", owner=u2, industry=i2, status=passive, segments=[s2], country="NO")
    customer("C", is_active=False, email="")
    d = customer("D", owner=u1, segments=[s1, s2], country="SE", email="  ")
    invoice(a, "500.00", date(2024, 2, 2))
    invoice(b, "100.00", date(2024, 2, 2))
    invoice(b, "9999.00", date(2023, 2, 2))  # last year: not in the filter's figure
    invoice(d, "1000.00", date(2024, 2, 2))
    db.session.commit()
    return {"u1": u1, "u2": u2, "i1": i1, "i2": i2, "s1": s1, "s2": s2, "passive": passive}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["A", "B", "D"]),
        ({"owner": "u1"}, ["A", "D"]),
        ({"owner": "none"}, []),
        ({"owner": "none", "active_state": "all"}, ["C"]),
        ({"industry": "i1"}, ["A"]),
        ({"status": "passive"}, ["B"]),
        ({"segment": "s1"}, ["A", "D"]),
        ({"segment": "s2"}, ["B", "D"]),
        ({"country": "FI"}, ["A"]),
        ({"country": "no"}, ["B"]),
        ({"active_state": "inactive"}, ["C"]),
        ({"active_state": "all"}, ["A", "B", "C", "D"]),
        ({"active_state": "active"}, ["A", "B", "D"]),
        ({"has_email": "yes"}, ["A"]),
        ({"has_email": "no", "active_state": "all"}, ["B", "C", "D"]),
        ({"billing_min": "500"}, ["A", "D"]),
        ({"billing_max": "500,00"}, ["A", "B"]),
        ({"billing_min": "100", "billing_max": "500"}, ["A", "B"]),
        ({"billing_min": "1 000,00 €"}, ["D"]),
        ({"billing_max": "-1"}, []),
        ({"owner": "u1", "segment": "s2", "billing_min": "999.99"}, ["D"]),
    ],
)
def test_customer_filters(filter_data, admin, filters, expected):
    given = {key: str(filter_data[v].id) if v in filter_data else v for key, v in filters.items()}
    the_spec = spec(columns=["name"], filters=given, viewer=admin)
    assert names(the_spec) == expected
    assert count_rows(the_spec) == len(expected)


def test_contact_filters_use_the_contact_and_the_customer(filter_data, admin):
    a, b, c = (db.session.scalar(select(Customer).where(Customer.name == n)) for n in "ABC")
    db.session.add_all(
        [
            Contact(customer_id=a.id, last_name="Anna", email="anna@x.example"),
            Contact(customer_id=a.id, last_name="Aapo"),
            Contact(customer_id=b.id, last_name="Bror", email="bror@x.example"),
            Contact(customer_id=c.id, last_name="Cecilia", email="c@x.example"),
        ]
    )
    db.session.commit()

    def contacts(**filters):
        return names(spec("contacts", ["contact_name"], filters, viewer=admin), "contact_name")

    assert contacts() == ["Anna", "Aapo", "Bror"]
    assert contacts(has_email="yes") == ["Anna", "Bror"]
    assert contacts(has_email="no") == ["Aapo"]
    assert contacts(country="NO") == ["Bror"]
    assert contacts(active_state="all", has_email="yes") == ["Anna", "Bror", "Cecilia"]
    assert contacts(billing_min="200") == ["Anna", "Aapo"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"report_type": "nope"}, "no report type"),
        ({"columns": ["name", "nope"]}, "no column 'nope'"),
        ({"filters": {"nope": "1"}}, "no filter 'nope'"),
        ({"filters": {"owner": "abc"}}, "Account owner"),
        ({"filters": {"active_state": "maybe"}}, "Customers"),
        ({"filters": {"country": "Finland"}}, "two-letter"),
        ({"filters": {"billing_min": "lots"}}, "not an amount"),
        ({"filters": {"billing_min": "NaN"}}, "not an amount"),
        ({"filters": {"billing_max": "1e20"}}, "not an amount"),
        ({"sort": "-nope"}, "cannot be sorted"),
        ({"report_type": "contacts", "columns": ["billing_this_year"]}, "no column"),
    ],
)
def test_invalid_definitions_are_refused(ctx, admin, kwargs, message):
    args = {"report_type": "customers", "columns": None, "filters": None, "sort": None}
    args.update(kwargs)
    with pytest.raises(InvalidReport, match=message):
        make_spec(args["report_type"], args["columns"], args["filters"], args["sort"], viewer=admin)


def test_saved_definitions_drop_what_no_longer_exists(ctx, admin):
    lenient = spec(
        columns=["name", "retired"],
        filters={"owner": "abc", "retired": "1", "active_state": "maybe"},
        sort="-retired",
        viewer=admin,
        strict=False,
    )
    assert lenient.columns == ("name",)
    assert dict(lenient.filters) == {"active_state": "active"}
    assert (lenient.sort, lenient.descending) == ("name", False)


def test_today_defaults_to_the_configured_time_zone(ctx, admin):
    the_spec = make_spec("customers", viewer=admin)
    assert the_spec.today == local_today(ctx.config["CUSTREG_TIMEZONE"])


@pytest.mark.parametrize(
    ("locale", "delimiter"),
    [
        ("fi", ";"),
        ("fi_FI", ";"),
        ("nb-NO", ";"),
        ("nn", ";"),
        ("en", ","),
        ("sv", ","),
        (None, ","),
    ],
)
def test_default_delimiter_by_locale(locale, delimiter):
    assert default_delimiter(locale) == delimiter


# --------------------------------------------------------------------------- sort


@pytest.fixture
def sort_data(ctx, make_user):
    people = [make_user("user", name=n) for n in ("bertta", "Aino", "Cecilia")]
    segments = [segment("Beta"), segment("alpha")]
    values = [
        # name, owner, billing, email, country
        ("delta", people[0], "10.00", "d@x.example", "FI"),
        ("Alpha", people[1], "10.00", None, "NO"),
        ("charlie", None, "250.50", "c@x.example", "FI"),
        ("Bravo", people[2], None, None, "SE"),
        ("echo", people[0], "-5.00", "e@x.example", "FI"),
        ("alpha", people[1], "10.00", "a@x.example", "NO"),
    ]
    for n, (name, owner, billing, email, country) in enumerate(values):
        row = customer(
            name,
            owner=owner,
            email=email,
            country=country,
            segments=segments[: n % 3],
            created_at=datetime(2024, 1, 1 + n % 2, 12),
            updated_at=datetime(2024, 1, 1, 12),
        )
        if n % 2:
            db.session.add(Address(customer_id=row.id, kind="visiting", city=f"City {n % 3}"))
        if billing:
            invoice(row, billing, date(2024, 3, 1))
    db.session.commit()


def _sort_key(value, kind):
    if value is None:
        return None
    return value.lower() if kind == "text" else value


@pytest.mark.parametrize("descending", [False, True], ids=["asc", "desc"])
def test_sort_by_any_column_with_empty_last_and_ties_by_id(sort_data, admin, descending):
    for column in REPORT_TYPES["customers"].columns:
        sort = f"-{column.id}" if descending else column.id
        the_spec = spec(columns=[column.id], sort=sort, viewer=admin)
        rows = page(the_spec, 1, 100, with_customer_ids=True)
        assert len(rows) == 6, column.id
        keys = [(_sort_key(value, column.type), cid) for cid, value in rows]
        present = [key for key in keys if key[0] is not None]
        assert keys[: len(present)] == present, f"{column.id}: empty values come last"
        for (value, cid), (next_value, next_cid) in zip(present, present[1:], strict=False):
            if value == next_value:
                assert cid < next_cid, f"{column.id}: ties in id order"
            else:
                assert (value > next_value) if descending else (value < next_value), column.id
        empty_ids = [cid for value, cid in keys if value is None]
        assert empty_ids == sorted(empty_ids), column.id


def test_sort_is_case_insensitive_for_text(sort_data, admin):
    assert names(spec(columns=["name"], sort="name", viewer=admin)) == [
        "Alpha",
        "alpha",
        "Bravo",
        "charlie",
        "delta",
        "echo",
    ]
    by_owner = spec(columns=["name", "owner"], sort="-owner", viewer=admin)
    assert [owner for _, owner in page(by_owner)] == [
        "Cecilia",
        "bertta",
        "bertta",
        "Aino",
        "Aino",
        None,
    ]


def test_sort_by_a_column_that_is_not_shown(sort_data, admin):
    the_spec = spec(columns=["name"], sort="-billing_this_year", viewer=admin)
    # no invoices is 0.00, not empty: Bravo sits above echo's credit
    assert names(the_spec) == ["charlie", "delta", "Alpha", "alpha", "Bravo", "echo"]


# --------------------------------------------------------------------------- paging and reading


def test_pages_iter_rows_and_count_agree(ctx, admin):
    for n in range(23):
        customer(f"Customer {n:02d}", email=None if n % 4 else f"c{n}@x.example")
    db.session.commit()
    the_spec = spec(columns=["number", "name", "email", "segments"], viewer=admin)
    assert count_rows(the_spec) == 23
    paged = [row for number in range(1, 6) for row in page(the_spec, number, 5)]
    assert len(paged) == 23
    assert paged == list(iter_rows(the_spec, chunk_size=3))
    assert page(the_spec, 6, 5) == []
    assert [row[1] for row in paged] == sorted(row[1] for row in paged)


def test_batches_hold_every_column_as_the_page_does(ctx, make_user, admin):
    """Downloads read batches of Core rows: the same values, of the same types, as the page
    (money as Decimal, dates as dates, flags as bools), in the same order."""
    owner = make_user("user", name="Olga Owner")
    _full_customer(owner)
    customer("Bare", number=5002)
    db.session.commit()
    the_spec = spec(columns=ALL_CUSTOMER_COLUMNS, viewer=admin)
    batches = [list(map(tuple, batch)) for batch in iter_batches(the_spec, chunk_size=1)]
    assert [len(batch) for batch in batches] == [1, 1]
    paged = page(the_spec, 1, 500)
    assert [row for batch in batches for row in batch] == paged
    for read, shown in zip(batches[0][0], paged[0], strict=True):
        assert type(read) is type(shown)
    assert dict(zip(the_spec.columns, batches[0][0], strict=True)) == ACME


def test_rows_include_what_the_session_has_not_flushed_yet(ctx, admin):
    customer("Flushed Oy")
    db.session.commit()
    db.session.add(Customer(number=900_001, name="Pending Oy", country="FI"))  # not flushed
    the_spec = spec(columns=["name"], viewer=admin)
    assert [row[0] for row in iter_rows(the_spec)] == ["Flushed Oy", "Pending Oy"]


def test_one_statement_per_page_whatever_the_rows(ctx, admin):
    def statements(count: int) -> tuple[int, int, int, int]:
        db.session.execute(Customer.__table__.delete())
        many_customers(count)
        db.session.commit()
        the_spec = spec(columns=ALL_CUSTOMER_COLUMNS, viewer=admin, filters={"active_state": "all"})
        with counting_statements() as paged:
            rows = page(the_spec, 1, 100)
        assert len(rows) == count
        with counting_statements() as streamed:
            assert len(list(iter_rows(the_spec, chunk_size=7))) == count
        with counting_statements() as counted:
            assert count_rows(the_spec) == count
        return len(paged), len(streamed), len(counted), len(rows)

    # customers with projects, invoices, costs: many_customers builds them
    from custreg_admin.models import Cost, Invoice, Project

    def wipe():
        for model in (Cost, Invoice, Project):
            db.session.execute(model.__table__.delete())

    wipe()
    small = statements(3)
    wipe()
    large = statements(30)
    assert small[:3] == large[:3] == (1, 1, 1)


def test_customer_ids_subquery_is_every_matching_row(filter_data, admin):
    the_spec = spec(columns=["name"], filters={"segment": str(filter_data["s1"].id)}, viewer=admin)
    ids = sorted(db.session.scalars(customer_ids(the_spec)))
    assert ids == sorted(cid for cid, _ in page(the_spec, 1, 100, with_customer_ids=True))
    assert len(ids) == 2
    a = db.session.scalar(select(Customer).where(Customer.name == "A"))
    db.session.add_all([Contact(customer_id=a.id, last_name=n) for n in ("X", "Y", "Z")])
    db.session.commit()
    contacts = spec("contacts", ["contact_name"], viewer=admin)
    assert list(db.session.scalars(customer_ids(contacts))) == [a.id]  # distinct customers
    chosen = db.session.scalars(
        select(Customer.name).where(Customer.id.in_(customer_ids(contacts)))
    )
    assert list(chosen) == ["A"]


# --------------------------------------------------------------------------- figures and rights


@pytest.fixture
def figures_data(ctx, make_user):
    """Owner owns Mine and manages a project on Theirs (a colleague's customer): they see that
    project's invoices and costs, not the rest of Theirs, and nothing of Hidden."""
    owner = make_user("user", name="Owner")
    other = make_user("user", name="Other")
    mine = customer("Mine", owner=owner)
    theirs = customer("Theirs", owner=other)
    hidden = customer("Hidden", owner=other)
    for row, amount in ((mine, "100.00"), (theirs, "900.00")):
        work = project(row, manager=owner)
        invoice(row, amount, date(2024, 2, 2), project=work)
        invoice(row, amount, date(2023, 2, 2), project=work)
        cost(work, "10.00", date(2024, 2, 3))
    invoice(theirs, "50.00", date(2024, 3, 3))  # no project: only its owner sees it
    invoice(hidden, "700.00", date(2024, 2, 2), project=project(hidden, manager=other))
    db.session.commit()
    return owner, other


FIGURES = ["name", *MONEY_COLUMNS, "open_projects"]


def _figures(viewer, **kwargs) -> dict[str, tuple]:
    the_spec = spec(columns=FIGURES, viewer=viewer, **kwargs)
    return {row[0]: row[1:] for row in page(the_spec)}


def test_report_figures_follow_the_one_visibility_rule(figures_data, make_user, admin):
    owner, other = figures_data
    mine = (Decimal("100.00"), Decimal("100.00"), Decimal("10.00"), Decimal("90.00"), 1)
    managed = (Decimal("900.00"), Decimal("900.00"), Decimal("10.00"), Decimal("890.00"), 1)
    theirs = (Decimal("950.00"), Decimal("900.00"), Decimal("10.00"), Decimal("940.00"), 1)
    hidden_row = (Decimal("700.00"), Decimal("0.00"), Decimal("0.00"), Decimal("700.00"), 1)
    hidden = (None, None, None, None, 1)  # counts of projects are no invoice figures
    assert _figures(owner) == {"Mine": mine, "Theirs": managed, "Hidden": hidden}
    assert _figures(other) == {"Mine": hidden, "Theirs": theirs, "Hidden": hidden_row}
    assert _figures(make_user("manager")) == {"Mine": hidden, "Theirs": hidden, "Hidden": hidden}
    everything = {"Mine": mine, "Theirs": theirs, "Hidden": hidden_row}
    assert _figures(make_user("user", can_view_all_invoices=True)) == everything
    assert _figures(admin) == everything
    assert _figures(None) == {"Mine": hidden, "Theirs": hidden, "Hidden": hidden}


def test_amount_filters_and_sorts_do_not_leak_hidden_figures(figures_data, admin):
    owner, _ = figures_data
    assert list(_figures(owner, filters={"billing_min": "500"})) == ["Theirs"]
    assert list(_figures(owner, filters={"billing_max": "500"})) == ["Mine"]
    assert sorted(_figures(admin, filters={"billing_min": "500"})) == ["Hidden", "Theirs"]
    by_billing = spec(columns=["name"], sort="-billing_this_year", viewer=owner)
    assert names(by_billing) == ["Theirs", "Mine", "Hidden"]
    by_billing = spec(columns=["name"], sort="billing_this_year", viewer=owner)
    assert names(by_billing) == ["Mine", "Theirs", "Hidden"]  # hidden is empty: last either way
    contacts = spec("contacts", ["customer_name"], {"billing_min": "500"}, viewer=owner)
    assert count_rows(contacts) == 0


# --------------------------------------------------------------------------- saved reports


def test_saved_report_service_rules(ctx, make_user):
    anna, bert = make_user("user", name="Anna"), make_user("admin", name="Bert")
    definition = spec(
        columns=["name", "email"], filters={"country": "fi"}, sort="-name", viewer=anna
    )
    report = saved_reports.create_report(anna, "  My   list ", definition, delimiter=";")
    assert (report.name, report.columns, report.filters, report.sort, report.csv_delimiter) == (
        "My list",
        ["name", "email"],
        {"country": "FI", "active_state": "active"},
        "-name",
        ";",
    )
    with pytest.raises(DomainError, match="already have a report named"):
        saved_reports.create_report(anna, "my LIST", definition)
    with pytest.raises(DomainError, match="name"):
        saved_reports.create_report(anna, "   ", definition)
    with pytest.raises(DomainError, match="at most 200"):
        saved_reports.create_report(anna, "x" * 201, definition)

    # another user, even an admin: it does not exist for them while unshared
    for attempt in (
        lambda: saved_reports.readable_report(report.id, bert),
        lambda: saved_reports.rename_report(bert, report.id, "Mine now"),
        lambda: saved_reports.copy_report(bert, report.id),
        lambda: saved_reports.delete_report(bert, report.id),
        lambda: saved_reports.set_shared(bert, report.id, True),
        lambda: saved_reports.update_report(bert, report.id, definition),
    ):
        with pytest.raises(saved_reports.ReportNotFound):
            attempt()
    assert saved_reports.reports_for(bert) == ([], [])

    saved_reports.set_shared(anna, report.id, True)
    assert saved_reports.readable_report(report.id, bert).id == report.id
    assert saved_reports.reports_for(bert) == ([], [report])
    for attempt in (
        lambda: saved_reports.rename_report(bert, report.id, "Mine now"),
        lambda: saved_reports.delete_report(bert, report.id),
        lambda: saved_reports.set_shared(bert, report.id, False),
        lambda: saved_reports.update_report(bert, report.id, definition),
    ):
        with pytest.raises(PermissionDenied):
            attempt()
    copy = saved_reports.copy_report(bert, report.id)
    assert (copy.owner_id, copy.name, copy.is_shared, copy.columns) == (
        bert.id,
        "Copy of My list",
        False,
        ["name", "email"],
    )
    assert saved_reports.copy_report(bert, report.id).name == "Copy of My list (2)"
    assert saved_reports.spec_of(copy, bert, TODAY).filter_strings() == definition.filter_strings()

    assert saved_reports.rename_report(anna, report.id, "Renamed").name == "Renamed"
    assert saved_reports.delete_report(anna, report.id) == "Renamed"
    assert db.session.get(SavedReport, report.id) is None


# --------------------------------------------------------------------------- HTTP


def this_year_start(app) -> date:
    return local_today(app.config["CUSTREG_TIMEZONE"]).replace(month=1, day=1)


def _post(client, path, **data):
    data.setdefault("csrf_token", csrf_token(client, BUILD))
    return client.post(path, data=data)


def _query(location: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(location).query)


def _saved_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(_query(response.headers["Location"])["report"][0])


def test_pages_need_a_login(client):
    for path in ("/admin/reports/", BUILD, "/admin/reports/download/csv/"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/admin/login" in response.headers["Location"]


def test_menu_and_report_list(app, client, login):
    login("user")
    home = client.get("/admin/").get_data(as_text=True)
    assert "Reports" in home and 'href="/admin/reports/"' in home and "Report creation" in home
    page_html = client.get("/admin/reports/").get_data(as_text=True)
    assert "My reports" in page_html and "Shared" in page_html
    assert "Report creation" in page_html and ">Customers<" in page_html


@pytest.mark.commits
def test_build_save_open_and_download_a_report(app, client, login):
    user = login("user")
    with app.app_context():
        owned = customer("Öljy-Äijä Oy", owner=user.id, email="=HYPERLINK(1)")
        invoice(owned, "1234.50", this_year_start(app))
        customer("Other Oy", email="other@x.example")
        db.session.commit()

    response = _post(
        client,
        BUILD,
        type="customers",
        columns=["name", "email", "billing_this_year"],
        add_columns=["number"],
        f_active_state="active",
        sort="name",
        desc="1",
        delimiter=";",
        action="save",
        name="Öljyt",
    )
    report_id = _saved_id(response)
    with app.app_context():
        saved = db.session.get(SavedReport, report_id)
        assert (saved.owner_id, saved.columns, saved.sort, saved.csv_delimiter) == (
            user.id,
            ["name", "email", "billing_this_year", "number"],
            "-name",
            ";",
        )
    listing = client.get("/admin/reports/").get_data(as_text=True)
    assert "Öljyt" in listing and f"/admin/reports/build/?report={report_id}" in listing

    builder = client.get(f"{BUILD}?report={report_id}").get_data(as_text=True)
    assert "2 customers" in builder
    assert "Öljy-Äijä Oy" in builder and "1,234.50" in builder  # money in the locale (en)
    assert "changes that are not saved" not in builder

    csv_response = client.get(f"/admin/reports/download/csv/?report={report_id}")
    assert csv_response.status_code == 200
    assert csv_response.mimetype == "text/csv"
    disposition = csv_response.headers["Content-Disposition"]
    today = local_today(app.config["CUSTREG_TIMEZONE"]).isoformat()
    assert f"filename*=UTF-8''%C3%96ljyt-{today}.csv" in disposition
    rows = list(csv.reader(io.StringIO(csv_response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows == [
        ["Name", "E-mail", "Billing this year", "Customer number"],
        ["Öljy-Äijä Oy", "'=HYPERLINK(1)", "1234,50", rows[1][3]],
        ["Other Oy", "other@x.example", "", rows[2][3]],  # not the user's: figure hidden
    ]

    xlsx_response = client.get(f"/admin/reports/download/xlsx/?report={report_id}")
    assert xlsx_response.status_code == 200
    assert xlsx_response.is_streamed and "Content-Length" not in xlsx_response.headers
    sheet = load_workbook(io.BytesIO(xlsx_response.data)).active
    assert sheet.title == "Öljyt"
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Name", "E-mail", "Billing this year", "Customer number"]
    assert values[1][:3] == ["Öljy-Äijä Oy", "=HYPERLINK(1)", 1234.5]
    assert values[2][:3] == ["Other Oy", "other@x.example", None]
    assert sheet["B2"].data_type == "s"


def _report_of(app, owner, *, shared: bool, name: str = "Anna's list") -> int:
    with app.app_context():
        viewer = db.session.get(type(owner), owner.id)
        report = saved_reports.create_report(
            viewer, name, make_spec("customers", ["name"], viewer=viewer)
        )
        if shared:
            saved_reports.set_shared(viewer, report.id, True)
        return report.id


def test_another_users_unshared_report_is_not_found(app, client, make_user, login):
    anna = make_user("user", name="Anna")
    report_id = _report_of(app, anna, shared=False)
    login("admin")  # reports are personal, even for admins
    for path in (
        f"{BUILD}?report={report_id}",
        f"{BUILD}?report={report_id}&type=customers&columns=name",
        f"/admin/reports/download/csv/?report={report_id}",
        f"/admin/reports/download/xlsx/?report={report_id}",
    ):
        assert client.get(path).status_code == 404, path
    for action in ("rename", "copy", "share", "unshare", "delete"):
        response = _post(client, f"/admin/reports/saved/{report_id}/{action}/", name="Stolen")
        assert response.status_code == 404, action
    response = _post(
        client, BUILD, type="customers", columns="name", report=str(report_id), action="save"
    )
    assert response.status_code == 404
    assert "Anna" not in client.get("/admin/reports/").get_data(as_text=True)
    with app.app_context():
        report = db.session.get(SavedReport, report_id)
        assert (report.name, report.is_shared, report.owner_id) == ("Anna's list", False, anna.id)


def test_a_shared_report_is_read_only_for_others_who_may_copy_it(app, client, make_user, login):
    anna = make_user("user", name="Anna")
    report_id = _report_of(app, anna, shared=True)
    bert = login("user")
    listing = client.get("/admin/reports/").get_data(as_text=True)
    assert "Anna&#39;s list" in listing or "Anna's list" in listing
    page_html = client.get(f"{BUILD}?report={report_id}").get_data(as_text=True)
    assert "Shared by Anna" in page_html and "Save as my report" in page_html
    assert client.get(f"/admin/reports/download/csv/?report={report_id}").status_code == 200
    for action in ("rename", "share", "unshare", "delete"):
        response = _post(client, f"/admin/reports/saved/{report_id}/{action}/", name="Mine")
        assert response.status_code == 403, action
    response = _post(
        client, BUILD, type="customers", columns="name", report=str(report_id), action="save"
    )
    assert response.status_code == 403
    copy_id = _saved_id(_post(client, f"/admin/reports/saved/{report_id}/copy/"))
    saved_as = _saved_id(
        _post(
            client,
            BUILD,
            type="customers",
            columns=["name", "email"],
            report=str(report_id),
            action="save_as",
            new_name="Bert's variant",
        )
    )
    with app.app_context():
        copy, variant = db.session.get(SavedReport, copy_id), db.session.get(SavedReport, saved_as)
        assert (copy.owner_id, copy.name, copy.is_shared) == (bert.id, "Copy of Anna's list", False)
        assert (variant.owner_id, variant.columns) == (bert.id, ["name", "email"])
        assert db.session.get(SavedReport, report_id).name == "Anna's list"


def test_owner_renames_shares_copies_and_deletes(app, client, login):
    user = login("user")
    report_id = _report_of(app, user, shared=False, name="First")
    base = f"/admin/reports/saved/{report_id}"
    assert _post(client, f"{base}/rename/", name="Second").status_code == 302
    assert _post(client, f"{base}/share/").status_code == 302
    copy_id = _saved_id(_post(client, f"{base}/copy/"))
    _report_of(app, user, shared=False, name="Taken")
    response = _post(client, f"{base}/rename/", name="taken")
    assert response.status_code == 302
    assert "already have a report named" in client.get("/admin/reports/").get_data(as_text=True)
    with app.app_context():
        report = db.session.get(SavedReport, report_id)
        assert (report.name, report.is_shared) == ("Second", True)
        assert db.session.get(SavedReport, copy_id).name == "Copy of Second"
    assert _post(client, f"{base}/unshare/").status_code == 302
    assert _post(client, f"{base}/delete/").status_code == 302
    assert _post(client, f"{base}/explode/").status_code == 404
    with app.app_context():
        assert db.session.get(SavedReport, report_id) is None


def test_posts_need_the_csrf_token(app, client, login):
    user = login("user")
    report_id = _report_of(app, user, shared=False)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(f"/admin/reports/saved/{report_id}/delete/", data={})
    assert response.status_code == 400
    response = client.post(BUILD, data={"type": "customers", "action": "save", "name": "X"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.get(SavedReport, report_id) is not None


def test_save_updates_the_own_report_and_flags_unsaved_changes(app, client, login):
    user = login("user")
    report_id = _report_of(app, user, shared=False)
    changed = f"{BUILD}?report={report_id}&type=customers&columns=name&columns=phone"
    assert "changes that are not saved" in client.get(changed).get_data(as_text=True)
    response = _post(
        client,
        BUILD,
        type="customers",
        columns=["name", "phone"],
        report=str(report_id),
        action="save",
    )
    assert _saved_id(response) == report_id
    with app.app_context():
        assert db.session.get(SavedReport, report_id).columns == ["name", "phone"]


def test_column_buttons_work_without_javascript(client, login):
    login("user")
    columns = ["name", "email", "phone"]

    def move(how: str) -> list[str]:
        response = _post(client, BUILD, type="customers", columns=columns, move=how)
        assert response.status_code == 302
        return _query(response.headers["Location"])["columns"]

    assert move("up:email") == ["email", "name", "phone"]
    assert move("down:email") == ["name", "phone", "email"]
    assert move("up:name") == columns
    assert move("remove:phone") == ["name", "email"]
    response = _post(client, BUILD, type="customers", columns=columns, add_columns=["country"])
    assert _query(response.headers["Location"])["columns"] == [*columns, "country"]


def test_bad_definitions_are_explained(client, login):
    login("user")
    response = client.get(f"{BUILD}?type=customers&columns=nope")
    assert response.status_code == 302
    assert "no column" in client.get(response.headers["Location"]).get_data(as_text=True)
    response = _post(client, BUILD, type="customers", columns="name", f_billing_min="lots")
    assert response.status_code == 302
    assert "not an amount" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/admin/reports/download/csv/?type=customers&columns=x").status_code == 400
    assert client.get("/admin/reports/download/pdf/?type=customers").status_code == 404
    assert client.get(f"{BUILD}?report=999999").status_code == 404
    response = _post(client, BUILD, type="customers", columns="name", action="save", name=" ")
    assert "Give the report a name" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("locale", "accept", "delimiter"),
    [(None, "fi-FI,fi;q=0.9", ";"), (None, "en-GB,en;q=0.8", ","), ("nb", "en", ";")],
)
def test_csv_delimiter_defaults_to_the_users_locale(
    app, client, make_user, locale, accept, delimiter
):
    user = make_user("user")
    with app.app_context():
        db.session.get(type(user), user.id).locale = locale
        db.session.commit()
    log_in(client, user)
    headers = {"Accept-Language": accept}
    response = client.get(f"{BUILD}?type=customers", headers=headers)
    assert f'value="{delimiter}" selected' in response.get_data(as_text=True)
    data = client.get("/admin/reports/download/csv/?type=customers", headers=headers).data
    # the header row is in the viewer's language, like the page
    language = i18n.ui_language(locale or accept)
    with app.test_request_context("/admin/"), force_locale(language):
        expected = [i18n.gettext("Customer number"), i18n.gettext("Name")]
    assert data.startswith(("\ufeff" + expected[0]).encode())
    assert data.decode("utf-8-sig").splitlines()[0].split(delimiter)[:2] == expected


class _PreviewTable(HTMLParser):
    """The text of the preview table's body cells, row by row (report columns only)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_table = self._in_body = self._in_cell = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("data-testid") == "preview-table":
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td" and "custreg-select" not in (attrs.get("class") or ""):
            self._in_cell = True  # (the selection checkboxes' cells are no report columns)
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_cell = False
        elif tag == "tbody":
            self._in_body = self._in_table = False

    def handle_data(self, data):
        if self._in_cell:
            self.rows[-1][-1] += data


def _preview_rows(html: str) -> list[list[str]]:
    parser = _PreviewTable()
    parser.feed(html)
    return [[cell.strip() for cell in row] for row in parser.rows]


@pytest.mark.commits
def test_preview_csv_and_xlsx_hold_the_same_rows_in_the_same_order(app, client, login):
    login("admin")
    with app.app_context():
        retail = segment("Retail")
        for n in range(47):
            row = customer(
                f"{'ÄBC'[n % 3]}-firma {n % 9}",  # many ties: the id breaks them
                segments=[retail] if n % 2 else [],
                email=None if n % 5 else f"-{n}@x.example",
                created_at=datetime(2024, 1, 1 + n % 20, 8),
            )
            if n % 3:
                invoice(row, f"{n * 10}.25", this_year_start(app))
        db.session.commit()
    columns = ["name", "number", "email", "segments", "billing_this_year", "created_at"]
    query = urlencode(
        {"type": "customers", "columns": columns, "sort": "-billing_this_year", "delimiter": ","},
        doseq=True,
    )
    preview: list[list[str]] = []
    for number in (1, 2, 3):
        html = client.get(f"{BUILD}?{query}&page={number}").get_data(as_text=True)
        assert "47 customers" in html
        preview.extend(_preview_rows(html))
    assert len(preview) == 47

    csv_text = client.get(f"/admin/reports/download/csv/?{query}").data.decode("utf-8-sig")
    csv_rows = list(csv.reader(io.StringIO(csv_text, newline="")))[1:]
    sheet = load_workbook(io.BytesIO(client.get(f"/admin/reports/download/xlsx/?{query}").data))
    xlsx_rows = [list(row) for row in sheet.active.iter_rows(min_row=2, values_only=True)]

    def from_preview(row):  # as the preview writes them in English (Babel's "en")
        name, number, email, segments, billing, created = row
        return [
            name,
            int(number),
            email or None,
            segments or None,
            parse_decimal(billing, locale="en") if billing else None,
            datetime.strptime(created, "%b %d, %Y").date().isoformat(),
        ]

    def from_csv(row):
        name, number, email, segments, billing, created = row
        return [
            name,
            int(number),
            (email[1:] if email.startswith("'") else email) or None,
            segments or None,
            Decimal(billing) if billing else None,
            created,
        ]

    def from_xlsx(row):
        name, number, email, segments, billing, created = row
        return [
            name,
            number,
            email,
            segments,
            Decimal(str(billing)).quantize(Decimal("0.01")) if billing is not None else None,
            created.date().isoformat(),
        ]

    expected = [from_preview(row) for row in preview]
    assert [from_csv(row) for row in csv_rows] == expected
    assert [from_xlsx(row) for row in xlsx_rows] == expected


def test_preview_pages_and_page_sizes(app, client, login):
    login("user")
    with app.app_context():
        for n in range(45):
            customer(f"Firm {n:02d}")
        db.session.commit()
    first = client.get(f"{BUILD}?type=customers&columns=name").get_data(as_text=True)
    assert "45 customers, page 1 of 3" in first
    assert [row[0] for row in _preview_rows(first)] == [f"Firm {n:02d}" for n in range(20)]
    last = client.get(f"{BUILD}?type=customers&columns=name&page=3").get_data(as_text=True)
    assert [row[0] for row in _preview_rows(last)] == [f"Firm {n:02d}" for n in range(40, 45)]
    beyond = client.get(f"{BUILD}?type=customers&columns=name&page=99").get_data(as_text=True)
    assert "page 3 of 3" in beyond
    fifty = client.get(f"{BUILD}?type=customers&columns=name&page_size=50").get_data(as_text=True)
    assert len(_preview_rows(fifty)) == 45
    odd = client.get(f"{BUILD}?type=customers&columns=name&page_size=7").get_data(as_text=True)
    assert len(_preview_rows(odd)) == 20
    empty = client.get(f"{BUILD}?type=customers&f_country=ZZ").get_data(as_text=True)
    assert "No customers match these filters." in empty


def test_contacts_report_through_the_builder(app, client, login):
    login("user")
    with app.app_context():
        acme = customer("Acme")
        db.session.add(Contact(customer_id=acme.id, first_name="Eeva", last_name="Esim"))
        db.session.add(Address(customer_id=acme.id, kind="postal", street="PL 1", city="Oulu"))
        db.session.commit()
    html = client.get(f"{BUILD}?type=contacts").get_data(as_text=True)
    assert "1 contact<" in html or "1 contact " in html
    [row] = _preview_rows(html)
    assert row[:3] == [row[0], "Acme", "Eeva Esim"] and "PL 1" in row and "Oulu" in row
    data = client.get("/admin/reports/download/xlsx/?type=contacts").data
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "Contacts & addresses"
    assert sheet["C2"].value == "Eeva Esim"


def test_preview_offers_row_selection_to_the_mass_update(app, client, login, monkeypatch):
    login("user")
    with app.app_context():
        ids = [customer(f"Firm {n}").id for n in range(3)]
        db.session.commit()
    monkeypatch.setattr(ReportView, "mass_update_endpoint", "no_such_view.index")
    plain = client.get(f"{BUILD}?type=customers").get_data(as_text=True)
    assert 'name="customer_ids"' not in plain  # no mass update installed: no checkboxes
    monkeypatch.setattr(ReportView, "mass_update_endpoint", "custreg_customer.index_view")
    html = client.get(f"{BUILD}?type=customers&f_country=FI").get_data(as_text=True)
    assert re.findall(r'name="customer_ids" value="(\d+)"', html) == [str(i) for i in ids]
    assert 'name="all_matching" value="1"' in html
    found = re.search(r'name="report_query" value="([^"]+)"', html)
    assert found and "f_country=FI" in found.group(1).replace("&amp;", "&")
    contacts = client.get(f"{BUILD}?type=contacts").get_data(as_text=True)
    assert 'name="customer_ids"' not in contacts


@pytest.mark.commits
def test_a_csv_download_streams_every_chunk(app, client, login, monkeypatch):
    """The body is written after the view has returned and its database session is gone:
    every chunk must still arrive (a server-side cursor on PostgreSQL died after the first)."""
    from custreg_admin.services.reports import engine as report_service

    monkeypatch.setattr(report_service, "STREAM_CHUNK_ROWS", 3)
    login("admin")
    with app.app_context():
        for n in range(10):
            customer(f"Streamed {n:02d} Oy")
        db.session.commit()
    query = "type=customers&columns=name&columns=number&sort=name&delimiter=,"
    response = client.get(f"/admin/reports/download/csv/?{query}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["Name", "Customer number"]
    assert [row[0] for row in rows[1:]] == [f"Streamed {n:02d} Oy" for n in range(10)]


@pytest.mark.commits
def test_csv_for_spreadsheets_and_csv_for_import_are_both_offered(app, client, login):
    """The download menu names both CSV choices; the spreadsheet one keeps the formula guard,
    the import one writes every value as stored; otherwise the files are the same."""
    login("admin")
    with app.app_context():
        customer("Dash Oy", phone="+358 40 1234567", email="=HYPERLINK(1)")
        customer("Plain Oy", phone="09 123 4567", email="plain@x.example")
        db.session.commit()
    query = "type=customers&columns=name&columns=phone&columns=email&sort=name&delimiter=;"
    html = client.get(f"{BUILD}?{query}").get_data(as_text=True)
    assert "CSV for spreadsheets" in html and "CSV for import into another system" in html
    assert "/admin/reports/download/csv-import/?" in html

    def read(fmt: str):
        response = client.get(f"/admin/reports/download/{fmt}/?{query}")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"].startswith('attachment; filename="')
        text = response.data.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))

    spreadsheet, raw = read("csv"), read("csv-import")
    assert spreadsheet == [
        ["Name", "Phone", "E-mail"],
        ["Dash Oy", "'+358 40 1234567", "'=HYPERLINK(1)"],
        ["Plain Oy", "09 123 4567", "plain@x.example"],
    ]
    assert raw == [
        ["Name", "Phone", "E-mail"],
        ["Dash Oy", "+358 40 1234567", "=HYPERLINK(1)"],
        ["Plain Oy", "09 123 4567", "plain@x.example"],
    ]


@pytest.mark.parametrize(
    ("locale", "spreadsheet", "import_label"),
    [
        ("fi", "CSV taulukkolaskentaan", "CSV tuontiin toiseen järjestelmään"),
        ("nb", "CSV for regneark", "CSV for import i et annet system"),
    ],
)
def test_the_csv_choices_are_named_in_the_users_language(
    app, client, make_user, locale, spreadsheet, import_label
):
    user = make_user("user")
    with app.app_context():
        db.session.get(type(user), user.id).locale = locale
        db.session.commit()
    log_in(client, user)
    html = client.get(f"{BUILD}?type=customers").get_data(as_text=True)
    assert spreadsheet in html and import_label in html
    assert "CSV for spreadsheets" not in html


@pytest.mark.commits
def test_an_xlsx_download_streams_in_the_viewers_language(app, client, make_user, monkeypatch):
    """The workbook leaves while it is written (no Content-Length, the zip's start first), with
    the viewer's labels and words, real numbers and dates, and the money rules."""
    monkeypatch.setattr(report_engine, "STREAM_CHUNK_ROWS", 50)
    user = make_user("user")
    with app.app_context():
        db.session.get(type(user), user.id).locale = "fi"
        for n in range(300):
            row = customer(f"Virta {n:03d} Oy", owner=user.id if n % 2 else None)
            invoice(row, f"{n}.50", this_year_start(app))
        db.session.commit()
    log_in(client, user)
    columns = ["name", "is_active", "billing_this_year", "created_at"]
    query = urlencode({"type": "customers", "columns": columns, "sort": "name"}, doseq=True)
    response = client.get(f"/admin/reports/download/xlsx/?{query}", buffered=False)
    assert response.status_code == 200 and "Content-Length" not in response.headers
    assert response.headers["Content-Disposition"].startswith('attachment; filename="Asiakkaat-')
    chunks = list(response.response)
    response.close()
    # the zip's fixed parts left first, before the sheet's rows were written
    assert len(chunks) >= 2 and chunks[0].startswith(b"PK\x03\x04")
    assert b"xl/styles.xml" in chunks[0] and b"xl/worksheets/sheet1.xml" not in chunks[0]
    sheet = load_workbook(io.BytesIO(b"".join(chunks))).active
    rows = list(sheet.iter_rows(values_only=True))
    with app.test_request_context("/admin/"), force_locale("fi"):
        labels = [str(REPORT_TYPES["customers"].column(c).label) for c in columns]
        yes = i18n.gettext("Yes")
    assert list(rows[0]) == labels and labels[0] == "Nimi"
    assert len(rows) == 301
    assert [row[0] for row in rows[1:]] == [f"Virta {n:03d} Oy" for n in range(300)]
    assert {row[1] for row in rows[1:]} == {yes} and yes == "Kyllä"
    # money is a number, and only where this user may see it (the customers it owns)
    assert [row[2] for row in rows[1:4]] == [None, pytest.approx(1.5), None]
    assert all(isinstance(row[3], datetime) for row in rows[1:])
    assert sheet["C3"].number_format == "#,##0.00"
