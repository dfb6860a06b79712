"""E-invoicing addresses (issue 17): OVT codes, PEPPOL ids, operator codes, one default.

The rule (:mod:`custreg_admin.rules.einvoice`) is plain functions, tested without a database;
the customer form uses it for its inline rows, and keeps one default.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from custreg_admin.extensions import db
from custreg_admin.models import Customer, EInvoiceAddress
from custreg_admin.rules.einvoice import (
    Customer as Owner,
)
from custreg_admin.rules.einvoice import (
    EInvoiceProblem,
    normalise_address,
    normalise_operator,
    settle_default,
)

from ..helpers import csrf_token

NOKIA = Owner("FI", "0112038-9")
EQUINOR = Owner("NO", "923609016")


@pytest.mark.parametrize(
    ("typed", "owner", "stored"),
    [
        ("003701120389", NOKIA, "003701120389"),
        ("0037 0112038 9", NOKIA, "003701120389"),
        ("00370112038900100", NOKIA, "00370112038900100"),
        ("003701120389abc12", NOKIA, "003701120389ABC12"),
        ("003701120389", None, "003701120389"),  # no business ID to compare with
        ("003701120389", Owner("SE", "556016-0680"), "003701120389"),
        ("0216:003701120389", NOKIA, "0216:003701120389"),
        ("0037:003701120389", NOKIA, "0037:003701120389"),
        ("0037:01120389", NOKIA, "0037:003701120389"),  # the code list's short spelling
        ("0192:923609016", EQUINOR, "0192:923609016"),
        ("0192:923 609 016", EQUINOR, "0192:923609016"),
        ("9908:923609016", EQUINOR, "9908:923609016"),
        ("0192:923609016", NOKIA, "0192:923609016"),  # a Finnish ID says nothing of NO ids
    ],
)
def test_valid_addresses_are_stored_in_standard_form(typed, owner, stored):
    assert normalise_address(typed, owner) == stored


@pytest.mark.parametrize(
    ("typed", "owner", "message"),
    [
        ("12345", None, "is not a valid OVT code"),
        ("", None, "Type the e-invoicing address"),
        ("003701120388", None, "0112038-8 is not a valid Finnish business ID"),
        ("0037011203891234567", None, "is not a valid OVT code"),  # suffix too long
        ("003715728600", NOKIA, "belongs to business ID 1572860-0, not to this customer's"),
        ("0216:12345", None, "is not a valid PEPPOL id"),
        ("0216:003715728600", NOKIA, "belongs to business ID 1572860-0"),
        ("0192:923609017", None, "scheme 0192 takes a Norwegian organisation number"),
        ("9908:12345678", None, "scheme 9908 takes a Norwegian organisation number"),
        ("0192:974761076", EQUINOR, "belongs to organisation number 974761076"),
        ("0088:7300010000001", None, "PEPPOL scheme 0088 is not one of those accepted"),
    ],
)
def test_invalid_addresses_say_what_is_wrong(typed, owner, message):
    with pytest.raises(EInvoiceProblem) as refused:
        normalise_address(typed, owner)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("003721291126", "003721291126"),  # an operator's OVT-form code
        ("0037 2129112 6", "003721291126"),
        ("ndeafihh", "NDEAFIHH"),  # a bank's BIC
        ("BAWCFI22", "BAWCFI22"),
        ("E204503", "E204503"),
        ("", None),
        (None, None),
    ],
)
def test_operator_codes_by_their_form(typed, stored):
    assert normalise_operator(typed) == stored


@pytest.mark.parametrize("typed", ["12345", "003721291127", "ABCDEFGH", "PEPPOL", "E2045"])
def test_invalid_operator_codes_are_refused(typed):
    with pytest.raises(EInvoiceProblem, match="is not a valid operator code"):
        normalise_operator(typed)


@pytest.mark.parametrize(
    ("rows", "kept"),
    [
        ([], []),
        ([(False, False)], [False]),
        ([(True, True), (False, False)], [True, False]),
        ([(True, True), (False, True)], [False, True]),  # a second default replaces the first
        ([(False, True), (True, True)], [True, False]),
        ([(False, True), (False, True)], [False, True]),  # two new ones: the last
        ([(True, True), (True, True)], [True, False]),  # as stored twice: the first stays
        ([(True, False), (False, False)], [False, False]),  # unticking leaves none
    ],
)
def test_one_default(rows, kept):
    assert settle_default(rows) == kept


# --------------------------------------------------------------------------- the customer form


def _post(client, cid=None, **fields):
    path = f"/admin/customers/edit/?id={cid}" if cid else "/admin/customers/new/"
    data = {"csrf_token": csrf_token(client, path), "name": "Nokia Oyj", "country": "FI"}
    data.update(fields)
    return client.post(path, data=data)


def test_the_form_refuses_a_bad_address_and_a_foreign_ovt(app, admin_client):
    response = _post(
        admin_client,
        business_id="0112038-9",
        **{"einvoice_addresses-0-address": "12345", "einvoice_addresses-0-operator": "x"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "12345 is not a valid OVT code" in page
    response = _post(
        admin_client,
        business_id="0112038-9",
        **{"einvoice_addresses-0-address": "003715728600"},
    )
    page = response.get_data(as_text=True)
    assert "belongs to business ID 1572860-0, not to this customer&#39;s 0112038-9" in page
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Customer)) == 0


def test_a_second_default_replaces_the_first_and_the_form_says_so(app, admin_client):
    response = _post(
        admin_client,
        business_id="0112038-9",
        **{
            "einvoice_addresses-0-address": "0037 0112038 9",
            "einvoice_addresses-0-operator": "003721291126",
            "einvoice_addresses-0-is_default": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        cid, number = customer.id, customer.number
        [first] = customer.einvoice_addresses
        assert (first.address, first.is_default) == ("003701120389", True)
        first_id = first.id
    response = _post(
        admin_client,
        cid,
        business_id="0112038-9",
        number=str(number),
        **{
            "einvoice_addresses-0-id": str(first_id),
            "einvoice_addresses-0-address": "003701120389",
            "einvoice_addresses-0-operator": "003721291126",
            "einvoice_addresses-0-is_default": "y",
            "einvoice_addresses-1-address": "0216:00370112038900100",
            "einvoice_addresses-1-operator": "ndeafihh",
            "einvoice_addresses-1-is_default": "y",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    with app.app_context():
        rows = db.session.scalars(select(EInvoiceAddress).order_by(EInvoiceAddress.id)).all()
        assert [(r.address, r.operator, r.is_default) for r in rows] == [
            ("003701120389", "003721291126", False),
            ("0216:00370112038900100", "NDEAFIHH", True),
        ]
    card = admin_client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(
        r"0216:00370112038900100 is now the default e-invoicing address, in place of "
        r"003701120389",
        card,
    )
