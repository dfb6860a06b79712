"""The demo customers' own rows: the customer, its addresses, e-invoicing addresses, contacts and
market segment links (a part of :class:`~custreg_admin.demo.generator.Generator`)."""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .draws import PROFILES, TEMPLATES, VAT_RATES, pick
from .identifiers import business_ids
from .settings import Refs, email_part
from .words import (
    ENGLISH_PREFIXES,
    FI_CITIES,
    FI_FIRST_NAMES,
    FI_LAST_NAMES,
    FI_NATURE,
    FI_OPERATORS,
    FI_PLACES_GENITIVE,
    FI_TITLES,
    INDUSTRIES,
    NO_CITIES,
    NO_FIRST_NAMES,
    NO_LAST_NAMES,
    NO_NATURE,
    NO_PLACES,
    NO_TITLES,
    NOTES,
    TRANSLITERATION,
)


class CustomerRows:
    """The customer part of the generator; all randomness from ``self.rng``. The attributes
    are set by :class:`~custreg_admin.demo.generator.Generator`."""

    rng: random.Random
    refs: Refs
    reference: datetime
    days: list
    taken_ids: set[str]
    taken_names: set[str]
    owner_cumulative: list[float]
    segment_cumulative: list[float]
    industry_cumulative: dict[str, list[float]]
    city_cumulative: dict[str, list[float]]
    operator_cumulative: list[float]

    # --- small helpers ----------------------------------------------------------------------

    def _weighted(self, population: Sequence[Any], cumulative: list[float]) -> Any:
        return population[bisect.bisect(cumulative, self.rng.random() * cumulative[-1])]

    def _moment(self, earliest_days: int, latest_days: int = 0) -> datetime:
        """A time between ``earliest_days`` and ``latest_days`` days before the reference."""
        seconds = self.rng.randint(latest_days * 86_400, earliest_days * 86_400)
        return self.reference - timedelta(seconds=seconds)

    def _money(self, mu: float, sigma: float, low: int, high: int) -> Decimal:
        """Euros with cents, log-normally distributed around e**mu, clamped to [low, high]."""
        euros = min(max(math.exp(self.rng.gauss(mu, sigma)), low), high)
        return Decimal(int(euros * 100)).scaleb(-2)

    # --- customers ---------------------------------------------------------------------------

    def _company_name(self, country: str, industry: tuple, attempt: int) -> tuple[str, str]:
        """(full name, core for the web domain)."""
        rng = self.rng
        if country == "FI":
            trades, stems = industry[4], industry[6]
            firsts, lasts, nature = FI_FIRST_NAMES, FI_LAST_NAMES, FI_NATURE
        else:
            trades, stems = industry[5], industry[7]
            firsts, lasts, nature = NO_FIRST_NAMES, NO_LAST_NAMES, NO_NATURE
        trade = rng.choice(trades)
        last = rng.choice(lasts)
        form_roll = rng.random()
        if country == "FI":
            if form_roll < 0.07:  # sole trader (toiminimi): no company form in the name
                first = rng.choice(firsts)
                core = f"Tmi {first} {last}" if rng.random() < 0.5 else f"{trade} {first} {last}"
                return core, core.removeprefix("Tmi ")
            suffix = "Ky" if form_roll < 0.13 else "Oyj" if form_roll < 0.135 else "Oy"
        else:
            if form_roll < 0.07:  # enkeltpersonforetak
                first = rng.choice(firsts)
                core = f"{trade} {first} {last}"
                return core, core
            suffix = "DA" if form_roll < 0.09 else "ASA" if form_roll < 0.095 else "AS"
        pattern = rng.random()
        if pattern < 0.28:
            core = f"{last} {trade}"
        elif pattern < (0.45 if country == "FI" else 0.33):
            core = f"{trade} {last}"
        elif pattern < 0.62:
            place = rng.choice(FI_PLACES_GENITIVE if country == "FI" else NO_PLACES)
            core = f"{place} {trade}"
        elif pattern < 0.77:
            core = f"{rng.choice(nature)} {trade}"
        elif pattern < 0.85 and stems:
            core = rng.choice(nature) + rng.choice(stems)
        elif pattern < 0.92:
            core = f"{rng.choice(ENGLISH_PREFIXES[country])} {trade}"
        elif country == "NO" and pattern < 0.96:
            core = f"{last} & Sønn"
        else:
            other = rng.choice(lasts)
            core = f"{last} & {other}" if other != last else f"{last} & Co"
        if attempt >= 6:  # a common name: tell it apart by its home town
            cities = FI_CITIES if country == "FI" else NO_CITIES
            core = f"{core} {rng.choice(cities)[0]}"
        if country == "FI" and suffix == "Oy" and rng.random() < 0.04:
            return f"Oy {core} Ab", core
        return f"{core} {suffix}", core

    def _unique_name(self, country: str, industry: tuple) -> tuple[str, str]:
        for attempt in range(12):
            name, core = self._company_name(country, industry, attempt)
            if name not in self.taken_names:
                break
        self.taken_names.add(name)
        return name, core

    def _phone(self, country: str, area: str | None) -> str:
        rng = self.rng
        if country == "FI":
            if area is None:
                prefix = rng.choice(("40", "50", "44", "45", "41", "46"))
                return f"+358 {prefix} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
            return f"+358 {area} {rng.randint(100, 9999)} {rng.randint(1000, 9999)}"
        if area is None:
            return (
                f"+47 {rng.choice('49')}{rng.randint(10, 99)} {rng.randint(10, 99)} "
                f"{rng.randint(100, 999)}"
            )
        return f"+47 {area} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"

    def _street(self, country: str, street: str) -> str:
        rng = self.rng
        number = str(rng.randint(1, 120) if rng.random() < 0.8 else rng.randint(1, 30))
        roll = rng.random()
        if roll < 0.15:
            number += " " + rng.choice("ABC") if country == "FI" else rng.choice("ABC")
        elif country == "FI" and roll < 0.22:
            number += f" {rng.choice('AB')} {rng.randint(1, 40)}"
        return f"{street} {number}"

    def _po_box(self, country: str) -> str:
        box = self.rng.randint(1, 999)
        return f"PL {box}" if country == "FI" else f"Postboks {box}"

    def _customer(self, number: int, customer_id: int) -> tuple[dict[str, Any], str, tuple, str]:
        """(row, profile, city, web domain) of a new customer."""
        rng, refs = self.rng, self.refs
        chance = rng.random
        country = "FI" if chance() < 0.62 else "NO"
        index = self._weighted(range(len(INDUSTRIES)), self.industry_cumulative[country])
        name, core = self._unique_name(country, INDUSTRIES[index])
        business_id, vat = business_ids(country, rng, self.taken_ids)
        words = core.lower().translate(TRANSLITERATION).replace(".", "").split("-")
        domain = "-".join(word for word in words if word) + ".example"
        # Prospects are new and have sales cases only; dormant customers bought last year.
        profile = pick(chance(), PROFILES)
        inactivated = profile == "dormant" and chance() < 0.3
        if profile == "prospect":
            created = self._moment(400, 1)
        else:  # there before the first invoice (1 January last year)
            created = self._moment(6 * 365, len(self.days))
        updated = min(created + timedelta(days=rng.randint(0, 700)), self.reference)
        from_registry = chance() < 0.45
        template = "Standard EN" if chance() < 0.12 else TEMPLATES[country]
        vat_name = pick(chance(), VAT_RATES[country])
        cities = FI_CITIES if country == "FI" else NO_CITIES
        city = self._weighted(cities, self.city_cumulative[country])
        row = {
            "id": customer_id,
            "number": number,
            "name": name,
            "business_id": business_id,
            "vat_number": vat,
            "country": country,
            "owner_id": self._weighted(refs.owners, self.owner_cumulative),
            "industry_id": refs.industries[index],
            "invoice_template_id": refs.templates.get(template),
            "vat_rate_id": refs.vat.get((country, vat_name)),
            "status_id": refs.passive if profile == "dormant" else refs.active,
            "is_active": not inactivated,
            "website": f"https://www.{domain}" if chance() < 0.8 else None,
            "email": None,
            "phone": self._phone(country, city[2]) if chance() < 0.85 else None,
            "notes": rng.choice(NOTES) if chance() < 0.12 else None,
            "registry_source": None,
            "registry_fetched_at": None,
            "registry_status": None,
            "created_at": created,
            "updated_at": updated,
        }
        if chance() < 0.75:
            row["email"] = f"{'info' if country == 'FI' else 'post'}@{domain}"
        if from_registry:
            row["registry_source"] = "ytj" if country == "FI" else "bizweb"
            row["registry_fetched_at"] = self._moment(700, 0)
            draw = chance()
            row["registry_status"] = (
                "bankrupt"
                if draw < 0.015
                else "liquidation"
                if draw < 0.03
                else "ceased"
                if inactivated and draw < 0.5
                else "active"
            )
        return row, profile, city, domain

    def _addresses(self, customer: dict[str, Any], city: tuple, out: list) -> None:
        """Visiting and postal address (a PO box or the same street), sometimes billing."""
        rng = self.rng
        country, customer_id = customer["country"], customer["id"]
        name, _weight, _area, po_code, streets = city
        street, code = rng.choice(streets)
        visiting = self._street(country, street)
        out.append(
            {"customer_id": customer_id, "kind": "visiting", "street": visiting,
             "postal_code": code, "city": name, "country": country}
        )  # fmt: skip
        if rng.random() < 0.45:
            visiting, code = self._po_box(country), po_code
        out.append(
            {"customer_id": customer_id, "kind": "postal", "street": visiting,
             "postal_code": code, "city": name, "country": country}
        )  # fmt: skip
        if rng.random() < 0.2:  # e.g. the accounting firm's address
            cities = FI_CITIES if country == "FI" else NO_CITIES
            name, _weight, _area, _po, streets = self._weighted(
                cities, self.city_cumulative[country]
            )
            street, code = rng.choice(streets)
            out.append(
                {"customer_id": customer_id, "kind": "billing",
                 "street": self._street(country, street), "postal_code": code, "city": name,
                 "country": country}
            )  # fmt: skip

    def _einvoice_addresses(self, customer: dict[str, Any], out: list) -> None:
        """OVT (0037 + business ID digits) with an operator in FI, PEPPOL 0192:orgnr in NO."""
        rng = self.rng
        country, customer_id, business_id = (
            customer["country"], customer["id"], customer["business_id"]
        )  # fmt: skip
        if rng.random() >= (0.65 if country == "FI" else 0.55):
            return
        if country == "NO":
            out.append(
                {"customer_id": customer_id, "address": f"0192:{business_id}",
                 "operator": "PEPPOL", "is_default": True}
            )  # fmt: skip
            return
        ovt = "0037" + business_id.replace("-", "")
        operator = self._weighted(FI_OPERATORS, self.operator_cumulative)[0]
        out.append(
            {"customer_id": customer_id, "address": ovt, "operator": operator,
             "is_default": True}
        )  # fmt: skip
        if rng.random() < 0.1:  # a second unit, e.g. the accounts department
            operator = self._weighted(FI_OPERATORS, self.operator_cumulative)[0]
            out.append(
                {"customer_id": customer_id, "address": f"{ovt}{rng.randint(1, 20):03d}",
                 "operator": operator, "is_default": False}
            )  # fmt: skip

    def _contacts(self, customer: dict[str, Any], domain: str, out: list) -> None:
        rng = self.rng
        chance = rng.random
        if customer["country"] == "FI":
            firsts, lasts, titles = FI_FIRST_NAMES, FI_LAST_NAMES, FI_TITLES
        else:
            firsts, lasts, titles = NO_FIRST_NAMES, NO_LAST_NAMES, NO_TITLES
        for _ in range(rng.choice((1, 1, 2, 2, 2, 3, 3, 4))):
            first, last = rng.choice(firsts), rng.choice(lasts)
            email = f"{email_part(first)}.{email_part(last)}@{domain}"
            out.append(
                {"customer_id": customer["id"], "first_name": first, "last_name": last,
                 "title": rng.choice(titles) if chance() < 0.85 else None,
                 "email": email if chance() < 0.9 else None,
                 "phone": self._phone(customer["country"], None) if chance() < 0.8 else None,
                 "is_active": chance() < 0.9}
            )  # fmt: skip

    def _segments(self, customer: dict[str, Any], out: list) -> None:
        roll = self.rng.random()
        wanted = 0 if roll < 0.25 else 1 if roll < 0.8 else 2
        chosen: list[int] = []
        while len(chosen) < min(wanted, len(self.refs.segments)):
            segment = self._weighted(self.refs.segments, self.segment_cumulative)
            if segment not in chosen:
                chosen.append(segment)
        out.extend({"customer_id": customer["id"], "segment_id": s} for s in chosen)
