"""The registry plugin contract. Plugins import only from this module.

A plugin is a distribution with an entry point in the group ``custreg_admin.registries`` that
names a :class:`RegistryProvider` subclass::

    [project.entry-points."custreg_admin.registries"]
    ytj = "custreg_registry_ytj:YtjProvider"

The provider is built from the app's config (``Provider(config)``) and answers
``search(query, *, limit=20) -> list[CompanyRecord]``.

Plugins that talk HTTP use the shared client in :mod:`custreg_admin.registries.http`
(retries, timeouts, cache and user-fit errors).

The app keeps one built set of providers (:func:`loaded_providers`), so their HTTP sessions and
answer caches live as long as the app; :func:`load_providers` builds a fresh set every call.
"""

from __future__ import annotations

import abc
import inspect
import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from importlib import metadata
from typing import Any, ClassVar

from ..i18n import lazy_gettext, lazy_pgettext
from .labels import label_in, label_problem

ENTRY_POINT_GROUP = "custreg_admin.registries"

log = logging.getLogger(__name__)

#: Company states a registry may report.
STATUS_ACTIVE = "active"
STATUS_LIQUIDATION = "liquidation"
STATUS_BANKRUPT = "bankrupt"
STATUS_CEASED = "ceased"
STATUSES = (STATUS_ACTIVE, STATUS_LIQUIDATION, STATUS_BANKRUPT, STATUS_CEASED)
#: How each status reads in the UI (translated when shown).
STATUS_LABELS = {
    # TRANSLATORS: a company's state in a business registry: in business
    STATUS_ACTIVE: lazy_pgettext("registry status", "Active"),
    STATUS_LIQUIDATION: lazy_gettext("In liquidation"),
    STATUS_BANKRUPT: lazy_gettext("Bankrupt"),
    STATUS_CEASED: lazy_gettext("Ceased"),
}

#: Key in ``app.extensions`` under which :func:`loaded_providers` keeps the app's providers.
EXTENSION_KEY = "custreg_registries"
_APP_LOCK = threading.Lock()


class RegistryError(Exception):
    """A registry could not answer the question; ``str(error)`` is fit to show the user."""


class RegistryUnavailable(RegistryError):
    """The registry could not be reached or answered nonsense (timeouts, 5xx, 429, bad JSON)."""


@dataclass(frozen=True)
class RegistryAddress:
    """An address as the customer card holds it.

    ``street`` is the one line the card's street field takes: street and number (with staircase
    and apartment) for a visiting address; for a postal address with a PO box, the box line
    (``PL 226`` in Finland, ``Postboks 8500`` in Norway). ``po_box`` repeats the box line when
    there is one; ``care_of`` is the c/o name without the ``c/o`` prefix.
    """

    kind: str  # "visiting" | "postal"
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    care_of: str | None = None
    po_box: str | None = None


@dataclass(frozen=True)
class CompanyRecord:
    """One company as a registry describes it, already mapped to the customer card's terms.

    ``vat_number`` is set only when the registry says the company is VAT-registered.
    ``industry_name`` is in the registry's main language; ``industry_names`` has every language
    the registry gives (keys such as ``"fi"``, ``"sv"``, ``"en"``, ``"nb"``) for matching an
    existing industry by name. ``company_form`` is the form's name, ``company_form_code`` the
    registry's code for it (``"OY"``/``"16"``, ``"AS"``). ``parent_business_id`` names the
    organisation the unit belongs to: for a sub-unit (a Norwegian *underenhet*) its main unit,
    for a main unit with a parent (a Norwegian public body under its ministry) that parent; it
    is a link only, the record's own data stays its own. ``email`` and ``phone`` are the
    company's general contact details where the registry publishes them.
    """

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
    company_form_code: str | None = None
    industry_names: Mapping[str, str] = field(default_factory=dict)
    parent_business_id: str | None = None
    email: str | None = None
    phone: str | None = None

    def address(self, kind: str) -> RegistryAddress | None:
        return next((a for a in self.addresses if a.kind == kind), None)

    @property
    def status_label(self) -> str:
        """The status as the UI shows it, in the request's language."""
        return str(STATUS_LABELS.get(self.status, self.status))

    @property
    def is_active(self) -> bool:
        return self.status == STATUS_ACTIVE

    @property
    def city(self) -> str | None:
        """The visiting address's city, else the postal one's (for result lists)."""
        for kind in ("visiting", "postal"):
            found = self.address(kind)
            if found and found.city:
                return found.city
        return None


class RegistryProvider(abc.ABC):
    """A country's public business registry.

    Subclasses set ``id`` (unique, e.g. ``"ytj"``), ``country`` (ISO alpha-2) and ``label``
    (one string, or a mapping of language codes to strings: see :mod:`.labels`), and implement
    :meth:`search`. They are built with the app's config mapping.
    """

    id: ClassVar[str]
    country: ClassVar[str]
    label: ClassVar[str | Mapping[str, str]]

    @classmethod
    def display_label(cls, language: str | None = None) -> str:
        """The label in ``language`` (default: the request's UI language)."""
        return label_in(cls.label, language) or cls.id

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config

    @abc.abstractmethod
    def search(self, query: str, *, limit: int = 20) -> list[CompanyRecord]:
        """Companies matching a name or a business ID / VAT number in any common spelling.

        Raises :class:`RegistryUnavailable` on network trouble, :class:`RegistryError` on a
        query the registry refuses (or an ID whose check digit is wrong). Never returns
        half-parsed records.
        """

    def close(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Release what the provider holds (HTTP sessions). Called when the app shuts down."""


@dataclass
class PluginEntry:
    """What the loader found for one entry point."""

    name: str
    value: str | None = None
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
        """The plugin's label in the request's language."""
        return label_in(getattr(self.provider_class, "label", None))


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


def discover_entry_points() -> Any:
    """The installed entry points in :data:`ENTRY_POINT_GROUP` (tests monkeypatch this)."""
    return metadata.entry_points(group=ENTRY_POINT_GROUP)


_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]*")


def _class_problem(cls: type[RegistryProvider]) -> str | None:
    """Why a RegistryProvider subclass cannot be used, or ``None``."""
    provider_id = getattr(cls, "id", None)
    if not isinstance(provider_id, str) or not _ID_PATTERN.fullmatch(provider_id):
        return f"{cls.__qualname__}.id must be a lowercase identifier, not {provider_id!r}"
    country = getattr(cls, "country", None)
    if not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
        return f"{cls.__qualname__}.country must be an ISO alpha-2 code, not {country!r}"
    if country != country.upper():
        return f"{cls.__qualname__}.country must be upper case, not {country!r}"
    problem = label_problem(getattr(cls, "label", None))
    if problem:
        return f"{cls.__qualname__}.label {problem}"
    if inspect.isabstract(cls):
        missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
        return f"{cls.__qualname__} does not implement {missing}"
    return None


def _wanted(config: Mapping[str, Any]) -> set[str]:
    """``CUSTREG_REGISTRIES`` as a set of ids / entry-point names; empty means all."""
    wanted = config.get("CUSTREG_REGISTRIES")
    if not wanted:
        return set()
    if isinstance(wanted, str):
        wanted = wanted.split(",")
    return {str(w).strip() for w in wanted if str(w).strip()}


def load_providers(
    config: Mapping[str, Any] | None = None,
    entry_points: Any = None,
) -> LoadReport:
    """Load and build every registry provider installed under :data:`ENTRY_POINT_GROUP`.

    ``config`` defaults to the current app's config; ``entry_points`` to
    :func:`discover_entry_points`. ``CUSTREG_REGISTRIES`` (comma-separated ids or entry-point
    names; empty or unset: all) restricts which load. A plugin that fails to import or build,
    that names no usable :class:`RegistryProvider` subclass, or whose id another plugin already
    took, is logged and reported in the result; the others load.
    """
    if config is None:
        from flask import current_app

        config = current_app.config
    if entry_points is None:
        entry_points = discover_entry_points()
    wanted = _wanted(config)
    report = LoadReport()
    seen: dict[str, PluginEntry] = {}
    matched: set[str] = set()
    for ep in sorted(entry_points, key=lambda e: (e.name, e.value)):
        matched.add(ep.name)
        entry = PluginEntry(name=ep.name, value=ep.value)
        dist = getattr(ep, "dist", None)
        if dist is not None:
            entry.distribution, entry.version = dist.metadata["Name"], dist.version
        try:
            loaded = ep.load()
        except Exception as error:  # a broken plugin must not stop the app
            if wanted and ep.name not in wanted:
                log.warning("Registry plugin %s (not enabled) cannot load: %s", ep.name, error)
                continue
            entry.error = f"cannot be imported: {type(error).__name__}: {error}"
            log.exception("Registry plugin %s %s", ep.name, entry.error)
            report.entries.append(entry)
            continue
        if not (isinstance(loaded, type) and issubclass(loaded, RegistryProvider)):
            if wanted and ep.name not in wanted:
                continue
            entry.error = f"{ep.value} is not a RegistryProvider subclass"
            log.error("Registry plugin %s: %s", ep.name, entry.error)
            report.entries.append(entry)
            continue
        problem = _class_problem(loaded)
        if problem:
            if wanted and ep.name not in wanted:
                continue
            entry.error = problem
            log.error("Registry plugin %s: %s", ep.name, entry.error)
            report.entries.append(entry)
            continue
        if wanted and ep.name not in wanted and loaded.id not in wanted:
            continue
        matched.add(loaded.id)
        entry.provider_class = loaded
        report.entries.append(entry)
        if loaded.id in seen:
            first = seen[loaded.id]
            entry.error = (
                f"duplicate id {loaded.id!r}: already provided by "
                f"{first.distribution or first.value or first.name}"
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
    if wanted - matched:
        log.warning(
            "CUSTREG_REGISTRIES names registries that are not installed: %s",
            ", ".join(sorted(wanted - matched)),
        )
    return report


def loaded_providers(app: Any = None, *, reload: bool = False) -> LoadReport:
    """The app's providers, built once and kept in ``app.extensions`` (sessions, caches).

    ``app`` defaults to the current app; ``reload=True`` closes and rebuilds them.
    """
    if app is None:
        from flask import current_app

        app = current_app._get_current_object()
    report = app.extensions.get(EXTENSION_KEY)
    if report is not None and not reload:
        return report
    with _APP_LOCK:
        current = app.extensions.get(EXTENSION_KEY)
        if current is not None and current is not report:
            return current  # another thread built them meanwhile
        if current is not None:
            close_providers(current)
        report = load_providers(app.config)
        app.extensions[EXTENSION_KEY] = report
    return report


def registry_name(registry_id: str | None, language: str | None = None, app: Any = None) -> str:
    """How a registry (a provider id such as ``"ytj"``, as stored on a customer) is named to the
    viewer: the installed plugin's label in ``language`` (default: the request's), else the id
    itself (a plugin no longer installed)."""
    if not registry_id:
        return ""
    for entry in loaded_providers(app).entries:
        if entry.id == registry_id and entry.provider_class is not None:
            return entry.provider_class.display_label(language)
    return registry_id


def close_providers(report: LoadReport) -> None:
    """Close every built provider of a report (errors are logged, never raised)."""
    for entry in report.entries:
        if entry.provider is not None:
            try:
                entry.provider.close()
            except Exception:
                log.exception("Registry plugin %s did not close cleanly", entry.name)


__all__ = [
    "ENTRY_POINT_GROUP",
    "EXTENSION_KEY",
    "STATUSES",
    "STATUS_ACTIVE",
    "STATUS_BANKRUPT",
    "STATUS_CEASED",
    "STATUS_LABELS",
    "STATUS_LIQUIDATION",
    "CompanyRecord",
    "LoadReport",
    "PluginEntry",
    "RegistryAddress",
    "RegistryError",
    "RegistryProvider",
    "RegistryUnavailable",
    "close_providers",
    "discover_entry_points",
    "load_providers",
    "label_in",
    "loaded_providers",
    "registry_name",
]
