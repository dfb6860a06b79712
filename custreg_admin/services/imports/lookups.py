"""The settings lists and users an import refers to by name, read once per import."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from ...extensions import db
from ...i18n import gettext
from ...models import CustomerStatus, Industry, InvoiceTemplate, MarketSegment, User, VatRate

#: a settings value the import would create: (kind, name)
NewValue = tuple[str, str]
SETTING_KINDS = ("industry", "segment", "status")
_PERCENT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*%?\s*$")


def key(text: str) -> str:
    return " ".join(text.split()).casefold()


class Lookups:
    def __init__(self) -> None:
        self.users_by_email: dict[str, int] = {}
        self.users_by_name: dict[str, list[int]] = defaultdict(list)
        self.user_names: dict[int, str] = {}
        for user in db.session.execute(select(User.id, User.email, User.name)):
            self.users_by_email[key(user.email)] = user.id
            self.users_by_name[key(user.name or "")].append(user.id)
            self.user_names[user.id] = user.name or user.email
        self.industry_codes: dict[str, int] = {}
        self.industries: dict[str, int] = {}
        self.industry_names: dict[int, str] = {}
        for row in db.session.execute(select(Industry.id, Industry.code, Industry.name)):
            if row.code:
                self.industry_codes.setdefault(key(row.code), row.id)
            self.industries.setdefault(key(row.name), row.id)
            self.industry_names[row.id] = row.name
        self.statuses, self.status_names = self._named(CustomerStatus)
        self.templates, self.template_names = self._named(InvoiceTemplate)
        self.segments: dict[str, list[int]] = defaultdict(list)
        self.segment_names: dict[int, str] = {}
        for row in db.session.execute(select(MarketSegment.id, MarketSegment.name)):
            self.segments[key(row.name)].append(row.id)
            self.segment_names[row.id] = row.name
        self.vat_names: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self.vat_percents: dict[tuple[str, Decimal], list[int]] = defaultdict(list)
        self.vat_labels: dict[int, str] = {}
        for row in db.session.execute(
            select(VatRate.id, VatRate.name, VatRate.percent, VatRate.country)
        ):
            self.vat_names[key(row.name)].append((row.id, row.country))
            self.vat_percents[row.country, Decimal(row.percent).normalize()].append(row.id)
            self.vat_labels[row.id] = f"{row.name} ({row.country})"

    @staticmethod
    def _named(model) -> tuple[dict[str, int], dict[int, str]]:
        rows = db.session.execute(select(model.id, model.name)).all()
        return {key(name): i for i, name in rows}, dict(rows)

    # each returns (id or NewValue, error)

    def owner(self, text: str) -> tuple[int | None, str | None]:
        found = self.users_by_email.get(key(text))
        if found is not None:
            return found, None
        by_name = self.users_by_name.get(key(text), [])
        if len(by_name) == 1:
            return by_name[0], None
        if by_name:
            return None, gettext("Several users are called %(name)s; give the e-mail.", name=text)
        return None, gettext("No user has the e-mail or name %(value)s.", value=text)

    def industry(self, text: str, code: str | None, create: bool):
        if code:
            found = self.industry_codes.get(key(code))
            if found is not None:
                return found, None
        if text:
            found = self.industries.get(key(text))
            if found is not None:
                return found, None
        name = text or code or ""
        if create:
            return ("industry", name), None
        return None, gettext(
            "Unknown industry %(value)s: tick “create missing settings values” or add it first.",
            value=name,
        )

    def status(self, text: str, create: bool):
        found = self.statuses.get(key(text))
        if found is not None:
            return found, None
        if create:
            return ("status", text), None
        return None, gettext(
            "Unknown status %(value)s: tick “create missing settings values” or add it first.",
            value=text,
        )

    def template(self, text: str):
        found = self.templates.get(key(text))
        if found is not None:
            return found, None
        return None, gettext("Unknown invoice template %(value)s.", value=text)

    def vat_rate(self, text: str, country: str):
        named = self.vat_names.get(key(text), [])
        fits = [i for i, c in named if c == country] or ([named[0][0]] if len(named) == 1 else [])
        if fits:
            return fits[0], None
        match = _PERCENT.match(text)
        if match:
            try:
                percent = Decimal(match.group(1).replace(",", ".")).normalize()
            except InvalidOperation:
                percent = None
            ids = self.vat_percents.get((country, percent), []) if percent is not None else []
            if len(ids) == 1:
                return ids[0], None
        return None, gettext(
            "Unknown VAT rate %(value)s for %(country)s.", value=text, country=country
        )

    def segment_list(self, text: str, create: bool):
        """Ids and new names of a cell of segments (comma, semicolon or | between them)."""
        found: list = []
        missing: list[str] = []
        for part in re.split(r"[,;|]", text):
            name = part.strip()
            if " / " in name:
                name = name.rsplit(" / ", 1)[1].strip()
            if not name:
                continue
            ids = self.segments.get(key(name))
            if ids:
                found.append(ids[0])
            elif create:
                found.append(("segment", name))
            else:
                missing.append(name)
        if missing:
            return found, gettext(
                "Unknown market segments: %(names)s. Tick “create missing settings values” or "
                "add them first.",
                names=", ".join(missing),
            )
        return found, None

    def _label_maps(self) -> dict[str, dict]:
        return {
            "owner_id": self.user_names,
            "industry_id": self.industry_names,
            "vat_rate_id": self.vat_labels,
            "status_id": self.status_names,
            "invoice_template_id": self.template_names,
        }

    def label(self, column: str, value) -> str:
        """A stored value as the review shows it."""
        if value is None or value == "":
            return ""
        if isinstance(value, tuple):
            return f"{value[1]} (" + gettext("new") + ")"
        names = self._label_maps().get(column)
        if names is not None:
            return names.get(value, f"#{value}")
        return str(value)
