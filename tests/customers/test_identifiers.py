"""Business IDs and VAT numbers as people type them (issue 17, registry data for Norway)."""

from __future__ import annotations

import pytest

from custreg_admin.errors import InvalidIdentifier
from custreg_admin.services.business_ids import country_of, normalise_identifiers, search_variants


@pytest.mark.parametrize(
    ("country", "typed", "business_id", "vat_number"),
    [
        ("NO", "NO 923 609 016", "923609016", "NO923609016MVA"),
        ("NO", "no923609016", "923609016", "NO923609016MVA"),
        ("NO", "923.609.016", "923609016", "NO923609016MVA"),
        ("NO", "NO 923 609 016 MVA", "923609016", "NO923609016MVA"),
        ("FI", "FI 0112038-9", "0112038-9", "FI01120389"),
        ("FI", "01120389", "0112038-9", "FI01120389"),
    ],
)
def test_business_ids_typed_with_spaces_and_prefixes_are_accepted(
    ctx, country, typed, business_id, vat_number
):
    found = normalise_identifiers(country, typed, None)
    assert (found.business_id, found.vat_number, found.country) == (
        business_id,
        vat_number,
        country,
    )


@pytest.mark.parametrize(
    ("business_id", "vat_number", "country"),
    [
        ("923609016", None, "NO"),
        ("NO 923 609 016", None, "NO"),
        (None, "NO923609016MVA", "NO"),
        ("0112038-9", None, "FI"),
        ("01120389", None, "FI"),
        (None, "FI01120389", "FI"),
        ("923609017", None, None),  # wrong check digit: no country's number
        ("0112038-8", None, None),
        ("556016-0680", None, None),  # Swedish: not a supported form
        ("923609016", "FI01120389", None),  # one of each: neither
        (None, None, None),
    ],
)
def test_country_of_a_number_is_told_by_its_form(ctx, business_id, vat_number, country):
    assert country_of(business_id, vat_number) == country


def test_a_norwegian_number_with_country_fi_is_inferred_or_named(ctx):
    found = normalise_identifiers("FI", "923609016", None, infer_country=True)
    assert (found.business_id, found.vat_number, found.country) == (
        "923609016",
        "NO923609016MVA",
        "NO",
    )
    with pytest.raises(InvalidIdentifier) as refused:
        normalise_identifiers("FI", "NO 923 609 016", None)
    message = str(refused.value)
    assert "not a valid FI business ID" not in message
    assert "it is a valid NO one: choose country NO" in message
    assert refused.value.field == "business_id"


def test_a_finnish_number_with_country_no_is_inferred(ctx):
    found = normalise_identifiers("NO", "0112038-9", None, infer_country=True)
    assert (found.business_id, found.country) == ("0112038-9", "FI")


def test_an_invalid_number_still_says_what_is_wrong_for_the_chosen_country(ctx):
    with pytest.raises(InvalidIdentifier) as refused:
        normalise_identifiers("FI", "923609017", None, infer_country=True)
    assert "is not a valid FI business ID" in str(refused.value)


def test_other_countries_keep_the_number_as_typed(ctx):
    found = normalise_identifiers("SE", " 556016-0680 ", None, infer_country=True)
    assert (found.business_id, found.vat_number, found.country) == ("556016-0680", None, "SE")


def test_search_finds_spaced_norwegian_numbers(ctx):
    assert {"923609016", "NO923609016MVA"} <= set(search_variants("NO 923 609 016"))
