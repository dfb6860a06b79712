"""The registry plugin contract. Plugins import only from this module.

A plugin is a distribution with an entry point in the group ``custreg_admin.registries`` that
names a :class:`RegistryProvider` subclass::

    [project.entry-points."custreg_admin.registries"]
    ytj = "custreg_registry_ytj:YtjProvider"

The provider is built from the app's config (``Provider(config)``) and answers
``search(query, *, limit=20) -> list[CompanyRecord]``.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from typing import Any, ClassVar

ENTRY_POINT_GROUP = "custreg_admin.registries"

log = logging.getLogger(__name__)

#: Company states a registry may report.
STATUS_ACTIVE = "active"
STATUS_LIQUIDATION = "liquidation"
STATUS_BANKRUPT = "bankrupt"
STATUS_CEASED = "ceased"
STATUSES = (STATUS_ACTIVE, STATUS_LIQUIDATION, STATUS_BANKRUPT, STATUS_CEASED)


class RegistryError(Exception):
    """A registry could not answer the question; ``str(error)`` is fit to show the user."""


class RegistryUnavailable(RegistryError):
    """The registry could not be reached or answered nonsense (timeouts, 5xx, 429, bad JSON)."""


@dataclass(frozen=True)
class RegistryAddress:
    kind: str  # "visiting" | "postal"
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    care_of: str | None = None


@dataclass(frozen=True)
class CompanyRecord:
    """One company as a registry describes it, already mapped to the customer card's terms."""

    source: str  # provider id
    country: str  # ISO alpha-2
    business_id: str
    name: str
    vat_number: str | None = None
    company_form: str | None = None
    status: str = STATUS_ACTIVE
    addresses: tuple[RegistryAddress, ...] = ()
    industry_code: str | None = None
    industry_name: str | None = None
    website: str | None = None
    registered_on: date | None = None
    ended_on: date | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def address(self, kind: str) -> RegistryAddress | None:
        return next((a for a in self.addresses if a.kind == kind), None)


class RegistryProvider(abc.ABC):
    """A country's public business registry.

    Subclasses set ``id`` (unique, e.g. ``"ytj"``), ``country`` (ISO alpha-2) and ``label``,
    and implement :meth:`search`. They are built with the app's config mapping.
    """

    id: ClassVar[str]
    country: ClassVar[str]
    label: ClassVar[str]

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    @abc.abstractmethod
    def search(self, query: str, *, limit: int = 20) -> list[CompanyRecord]:
        """Companies matching a name or a business ID / VAT number in any common spelling.

        Raises :class:`RegistryUnavailable` on network trouble, :class:`RegistryError` on a
        query the registry refuses. Never returns half-parsed records.
        """


@dataclass
class PluginEntry:
    """What the loader found for one entry point."""

    name: str
    distribution: str | None = None
    version: str | None = None
    provider_class: type[RegistryProvider] | None = None
    provider: RegistryProvider | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.provider is not None

    @property
    def id(self) -> str | None:
        return getattr(self.provider_class, "id", None)

    @property
    def country(self) -> str | None:
        return getattr(self.provider_class, "country", None)

    @property
    def label(self) -> str | None:
        return getattr(self.provider_class, "label", None)


@dataclass
class LoadReport:
    entries: list[PluginEntry] = field(default_factory=list)

    @property
    def providers(self) -> dict[str, RegistryProvider]:
        return {e.id: e.provider for e in self.entries if e.ok}  # type: ignore[misc]

    @property
    def failed(self) -> list[PluginEntry]:
        return [e for e in self.entries if not e.ok]

    def for_country(self, country: str) -> list[RegistryProvider]:
        return [p for p in self.providers.values() if p.country == country.upper()]


def load_providers(
    config: Mapping[str, Any] | None = None,
    entry_points: Any = None,
) -> LoadReport:
    """Load and build every registry provider installed under :data:`ENTRY_POINT_GROUP`.

    ``config`` defaults to the current app's config. ``CUSTREG_REGISTRIES`` (comma-separated
    ids or entry-point names) restricts which load. A plugin that fails to import or build is
    logged and reported in the result; the others load.
    """
    if config is None:
        from flask import current_app

        config = current_app.config
    if entry_points is None:
        entry_points = metadata.entry_points(group=ENTRY_POINT_GROUP)
    wanted = config.get("CUSTREG_REGISTRIES")
    if isinstance(wanted, str):
        wanted = {w.strip() for w in wanted.split(",") if w.strip()}
    report = LoadReport()
    seen: dict[str, PluginEntry] = {}
    for ep in sorted(entry_points, key=lambda e: e.name):
        entry = PluginEntry(name=ep.name)
        dist = getattr(ep, "dist", None)
        if dist is not None:
            entry.distribution, entry.version = dist.metadata["Name"], dist.version
        report.entries.append(entry)
        try:
            loaded = ep.load()
        except Exception as error:  # a broken plugin must not stop the app
            entry.error = f"cannot be imported: {type(error).__name__}: {error}"
            log.exception("Registry plugin %s %s", ep.name, entry.error)
            continue
        if not (isinstance(loaded, type) and issubclass(loaded, RegistryProvider)):
            entry.error = f"{ep.value} is not a RegistryProvider subclass"
            log.error("Registry plugin %s: %s", ep.name, entry.error)
            continue
        entry.provider_class = loaded
        if wanted and ep.name not in wanted and loaded.id not in wanted:
            report.entries.remove(entry)
            continue
        if loaded.id in seen:
            entry.error = (
                f"duplicate id {loaded.id!r}, already provided by {seen[loaded.id].distribution}"
            )
            log.error("Registry plugin %s: %s", ep.name, entry.error)
            continue
        try:
            entry.provider = loaded(config)
        except Exception as error:
            entry.error = f"cannot be built: {type(error).__name__}: {error}"
            log.exception("Registry plugin %s %s", ep.name, entry.error)
            continue
        seen[loaded.id] = entry
    return report


__all__ = [
    "ENTRY_POINT_GROUP",
    "STATUSES",
    "CompanyRecord",
    "LoadReport",
    "PluginEntry",
    "RegistryAddress",
    "RegistryError",
    "RegistryProvider",
    "RegistryUnavailable",
    "load_providers",
]
