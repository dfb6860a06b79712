"""No lost updates: a save from an edit form that is older than the record is refused.

Customers, projects, invoices and proposals carry a version (``models/versioning.py``).
An edit form carries the version it showed and when it was loaded (:func:`form_stamp`). Saving it,
:func:`ensure_current` compares the version first: when the record changed meanwhile (a colleague's
save, a mass update, a move, a merge, a registry refresh), nothing is written and
:class:`StaleEdit` says what changed and by whom, read from the customer's history and the mass
update records since the form was loaded. A change that slips in between that check and the
write is caught by SQLAlchemy's version check (``StaleDataError``), answered with the same message
(:func:`stale_message`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..i18n import gettext
from ..models import (
    Customer,
    CustomerEvent,
    Invoice,
    MassUpdateBatch,
    MassUpdateChange,
    Project,
    Proposal,
)
from ..models.history import MASS_UPDATE_KINDS, utcnow
from .mass_update import ACTIONS

#: at most this many changes are named in a message; the rest are counted
SHOWN_CHANGES = 5
DEFAULT_TIMEZONE = "Europe/Helsinki"


class StaleEdit(DomainError):
    """The record changed after the form was loaded; nothing was saved."""


@dataclass(frozen=True)
class Change:
    """One change of a customer (or of what hangs on it) in its history."""

    at: datetime  # naive UTC
    who: str
    what: str


def form_stamp() -> str:
    """When a form is loaded, as its hidden field carries it (naive UTC, ISO 8601)."""
    return utcnow().isoformat(timespec="microseconds")


def parse_stamp(text: Any) -> datetime | None:
    """A :func:`form_stamp` back; None for anything else (the field comes from the browser)."""
    try:
        stamp = datetime.fromisoformat(str(text or "").strip()[:32])
    except ValueError:
        return None
    return stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp


def parse_version(text: Any) -> int | None:
    value = str(text if text is not None else "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


def _customer_id(obj: Any) -> int | None:
    if isinstance(obj, Customer):
        return obj.id
    if isinstance(obj, Project | Invoice):
        return obj.customer_id
    if isinstance(obj, Proposal):
        return db.session.scalar(select(Project.customer_id).where(Project.id == obj.project_id))
    return None


def _record_label(obj: Any) -> str:
    if isinstance(obj, Customer):
        return gettext("Customer %(number)s %(name)s", number=obj.number, name=obj.name)
    if isinstance(obj, Project):
        return gettext('Project "%(name)s"', name=obj.name)
    if isinstance(obj, Invoice):
        return gettext("Invoice %(number)s", number=obj.number or "#" + str(obj.id))
    if isinstance(obj, Proposal):
        return gettext("Proposal %(number)s", number=obj.number)
    return str(obj)


def _someone() -> str:
    return gettext("someone")


def _mass_update_changes(customer_id: int, since: datetime | None) -> list[Change]:
    changed = select(MassUpdateChange.batch_id).where(
        MassUpdateChange.customer_id == customer_id, MassUpdateChange.skipped_reason.is_(None)
    )
    query = (
        select(MassUpdateBatch)
        .where(MassUpdateBatch.id.in_(changed))
        .order_by(MassUpdateBatch.at.desc(), MassUpdateBatch.id.desc())
        .limit(SHOWN_CHANGES + 1)
    )
    if since is not None:
        query = query.where(MassUpdateBatch.at >= since)
    found = []
    for batch in db.session.scalars(query):
        action = ACTIONS.get(batch.action)
        what = str(action.label) if action is not None else batch.action
        if batch.undo_of_id is not None:
            what = gettext("undo of mass update #%(id)s", id=batch.undo_of_id)
        elif batch.value_label:
            what = f"{what}: {batch.value_label}"
        found.append(
            Change(
                batch.at,
                batch.user_name or _someone(),
                gettext("mass update #%(id)s (%(what)s)", id=batch.id, what=what),
            )
        )
    return found


def changes_since(customer_id: int, since: datetime | None) -> list[Change]:
    """The customer's changes since ``since`` (newest first; all of them when None): its
    history, with the mass updates that changed it named by their batch."""
    query = (
        select(CustomerEvent)
        .where(CustomerEvent.customer_id == customer_id)
        .order_by(CustomerEvent.at.desc(), CustomerEvent.id.desc())
        .limit(SHOWN_CHANGES + 1)
    )
    if since is not None:
        query = query.where(CustomerEvent.at >= since)
    # mass updates are named from their batch (number, action and value), not their entries
    query = query.where(CustomerEvent.kind.not_in(MASS_UPDATE_KINDS))
    found = [
        Change(event.at, event.user_name or _someone(), f"{event.kind_label}: {event.message}")
        for event in db.session.scalars(query)
    ]
    found.extend(_mass_update_changes(customer_id, since))
    found.sort(key=lambda change: change.at, reverse=True)
    return found


def _local(at: datetime) -> str:
    name = current_app.config.get("CUSTREG_TIMEZONE") if has_app_context() else None
    zone = ZoneInfo(name or DEFAULT_TIMEZONE)
    return f"{at.replace(tzinfo=UTC).astimezone(zone):%Y-%m-%d %H:%M}"


def stale_message(obj: Any, since: datetime | None, *, current: int | None = None) -> str:
    """Why a save from a form loaded at ``since`` was refused: what changed meanwhile, by whom."""
    label = _record_label(obj)
    customer_id = _customer_id(obj)
    changes = changes_since(customer_id, since) if customer_id is not None else []
    if since is None:  # no stamp: name the newest change only
        changes = changes[:1]
    shown = [
        gettext("%(when)s %(who)s: %(what)s", when=_local(c.at), who=c.who, what=c.what)
        for c in changes[:SHOWN_CHANGES]
    ]
    if len(changes) > SHOWN_CHANGES:
        shown.append(gettext("and more"))
    what = (
        "; ".join(shown)
        if shown
        else gettext(
            "a change the history does not name (now version %(version)s)", version=current
        )
        if current is not None
        else gettext("a change the history does not name")
    )
    return gettext(
        "%(record)s was changed by someone else after you opened this form, so nothing was "
        "saved and nothing was overwritten. Changed meanwhile: %(changes)s. The form still "
        "holds what you typed: open the record again to see the current values, then make "
        "your change there.",
        record=label,
        changes=what,
    )


def ensure_current(obj: Any, form_version: Any, loaded_at: Any) -> None:
    """Refuse (:class:`StaleEdit`) a save from a form that showed another version of ``obj``
    than the one stored. A form that carries no version is not compared here (a script's post;
    the version check of the write still applies)."""
    version = parse_version(form_version)
    if version is None or version == obj.version:
        return
    raise StaleEdit(stale_message(obj, parse_stamp(loaded_at), current=obj.version))


__all__ = [
    "Change",
    "StaleEdit",
    "changes_since",
    "ensure_current",
    "form_stamp",
    "parse_stamp",
    "parse_version",
    "stale_message",
]
