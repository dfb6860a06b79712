"""Valid Finnish and Norwegian business IDs and VAT numbers for the demo customers."""

from __future__ import annotations

import random


def fi_business_id(base: int) -> str | None:
    """The Finnish business ID (Y-tunnus) with 7-digit ``base``, e.g. ``0112038-9``; None when
    no check digit exists for ``base`` (one base in eleven)."""
    digits = f"{base:07d}"
    total = sum(w * int(d) for w, d in zip((7, 9, 10, 5, 8, 4, 2), digits, strict=True))
    check = -total % 11
    return None if check == 10 else f"{digits}-{check}"


def no_business_id(base: int) -> str | None:
    """The Norwegian organisation number with 8-digit ``base``, e.g. ``923609016``; None when no
    check digit exists for ``base``."""
    digits = f"{base:08d}"
    total = sum(w * int(d) for w, d in zip((3, 2, 7, 6, 5, 4, 3, 2), digits, strict=True))
    check = -total % 11
    return None if check == 10 else f"{digits}{check}"


def vat_number(country: str, business_id: str) -> str:
    """The VAT number of a business ID in its normalised form: ``FI01120389``,
    ``NO923609016MVA``."""
    if country == "FI":
        return "FI" + business_id.replace("-", "")
    return f"NO{business_id}MVA"


def business_ids(country: str, rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A random, valid business ID of ``country`` not in ``taken`` (which it joins) and its
    VAT number."""
    while True:
        if country == "FI":
            # Older companies have 0xxxxxx-1xxxxxx, those registered since 2001 2xxxxxx-3xxxxxx.
            found = fi_business_id(rng.randint(100_000, 3_399_999))
        else:
            found = no_business_id(
                rng.choice((81, 91, 92, 93, 96, 98, 99)) * 1_000_000 + rng.randrange(1_000_000)
            )
        if found is not None and found not in taken:
            taken.add(found)
            return found, vat_number(country, found)
