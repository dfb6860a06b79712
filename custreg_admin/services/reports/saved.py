"""Saved reports: personal report definitions, optionally shared with everyone.

Rules:

* A saved report belongs to the user who saved it. Only the owner renames, changes, shares,
  unshares or deletes it.
* Shared reports may be read (opened, run, downloaded) and copied by every user; the copy is the
  copier's own, unshared report.
* An unshared report of another user does not exist as far as anyone else is concerned: reading
  or changing it raises :class:`ReportNotFound` (the web layer answers 404). Changing a shared
  report of another user raises :class:`~custreg_admin.errors.PermissionDenied` (403).
  This holds for administrators too: reports are personal.
* Names are unique per owner (case-insensitively) and at most 200 characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ...context import acts_as_user
from ...errors import DomainError, PermissionDenied
from ...extensions import db
from ...i18n import gettext
from ...models import SavedReport
from ...rules import access
from ...rules.request_ids import parse_id
from .catalogue import REPORT_TYPES
from .engine import ReportSpec, make_spec

__all__ = [
    "NAME_MAX",
    "ReportNotFound",
    "copy_report",
    "create_report",
    "delete_report",
    "readable_report",
    "rename_report",
    "reports_for",
    "set_shared",
    "spec_of",
    "update_report",
    "writable_report",
]

NAME_MAX = 200
DELIMITERS = (";", ",")


class ReportNotFound(DomainError):
    """No such saved report, or one the user may not see."""


def _user_id(user: Any) -> int | None:
    return getattr(user, "id", None)


def _load(report_id: Any) -> SavedReport | None:
    report_id = parse_id(report_id)
    return None if report_id is None else db.session.get(SavedReport, report_id)


def readable_report(report_id: Any, user: Any) -> SavedReport:
    """The report, when ``user`` owns it or it is shared; else :class:`ReportNotFound`."""
    report = _load(report_id)
    if report is None or (report.owner_id != _user_id(user) and not report.is_shared):
        raise ReportNotFound(gettext("That report does not exist or is not shared with you."))
    return report


def writable_report(report_id: Any, user: Any) -> SavedReport:
    """The report, when ``user`` owns it.

    Another user's shared report: :class:`PermissionDenied`; unshared: :class:`ReportNotFound`.
    """
    report = readable_report(report_id, user)
    access.ensure(user, "edit", report)
    return report


def reports_for(user: Any) -> tuple[list[SavedReport], list[SavedReport]]:
    """``(mine, shared)``: the user's own reports, and the reports others share; by name."""
    user_id = _user_id(user)
    mine = db.session.scalars(
        select(SavedReport)
        .where(SavedReport.owner_id == user_id)
        .order_by(func.lower(SavedReport.name), SavedReport.id)
    ).all()
    shared = db.session.scalars(
        select(SavedReport)
        .where(SavedReport.is_shared.is_(True), SavedReport.owner_id != user_id)
        .options(selectinload(SavedReport.owner))
        .order_by(func.lower(SavedReport.name), SavedReport.id)
    ).all()
    return list(mine), list(shared)


def spec_of(report: SavedReport, viewer: Any, today: date | None = None) -> ReportSpec:
    """The report's definition for ``viewer``; columns or values no longer offered are dropped."""
    return make_spec(
        report.report_type,
        report.columns or (),
        report.filters or {},
        report.sort,
        viewer=viewer,
        today=today,
        strict=False,
    )


def _clean_name(name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(gettext("Give the report a name."))
    if len(name) > NAME_MAX:
        raise DomainError(gettext("A report name has at most %(num)s characters.", num=NAME_MAX))
    return name


def _name_taken(owner_id: int, name: str, *, except_id: int | None = None) -> bool:
    query = select(SavedReport.id).where(
        SavedReport.owner_id == owner_id, func.lower(SavedReport.name) == name.lower()
    )
    if except_id is not None:
        query = query.where(SavedReport.id != except_id)
    return db.session.scalar(query.limit(1)) is not None


def _ensure_free(owner_id: int, name: str, *, except_id: int | None = None) -> None:
    if _name_taken(owner_id, name, except_id=except_id):
        raise DomainError(gettext("You already have a report named %(name)s.", name=repr(name)))


def _clean_delimiter(delimiter: str | None) -> str | None:
    if delimiter in (None, ""):
        return None
    if delimiter not in DELIMITERS:
        raise DomainError(gettext("The CSV delimiter is ';' or ','."))
    return delimiter


def _store(report: SavedReport, spec: ReportSpec, delimiter: str | None) -> None:
    report.report_type = spec.report_type
    report.columns = list(spec.columns)
    report.filters = spec.filter_strings()
    report.sort = spec.sort_key
    report.csv_delimiter = _clean_delimiter(delimiter)


@acts_as_user
def create_report(
    user: Any, name: str, spec: ReportSpec, *, delimiter: str | None = None
) -> SavedReport:
    """Save ``spec`` as a new, unshared report of ``user``."""
    user_id = _user_id(user)
    if user_id is None:
        raise PermissionDenied(gettext("Log in to save reports."))
    name = _clean_name(name)
    _ensure_free(user_id, name)
    report = SavedReport(owner_id=user_id, name=name, is_shared=False)
    _store(report, spec, delimiter)
    db.session.add(report)
    db.session.commit()
    return report


@acts_as_user
def update_report(
    user: Any, report_id: Any, spec: ReportSpec, *, delimiter: str | None = None
) -> SavedReport:
    """Replace the definition of the user's own report with ``spec``."""
    report = writable_report(report_id, user)
    _store(report, spec, delimiter)
    db.session.commit()
    return report


@acts_as_user
def rename_report(user: Any, report_id: Any, name: str) -> SavedReport:
    report = writable_report(report_id, user)
    name = _clean_name(name)
    _ensure_free(report.owner_id, name, except_id=report.id)
    report.name = name
    db.session.commit()
    return report


def _copy_name(owner_id: int, original: str) -> str:
    base = gettext("Copy of %(name)s", name=original)[:NAME_MAX]
    if not _name_taken(owner_id, base):
        return base
    for n in range(2, 10_000):
        suffix = f" ({n})"
        candidate = base[: NAME_MAX - len(suffix)] + suffix
        if not _name_taken(owner_id, candidate):
            return candidate
    raise DomainError(gettext("Too many copies of this report; rename some first."))


@acts_as_user
def copy_report(user: Any, report_id: Any, name: str | None = None) -> SavedReport:
    """Copy a report the user may read into a new, unshared report of the user."""
    source = readable_report(report_id, user)
    user_id = _user_id(user)
    if name:
        name = _clean_name(name)
        _ensure_free(user_id, name)
    else:
        name = _copy_name(user_id, source.name)
    report = SavedReport(
        owner_id=user_id,
        name=name,
        report_type=source.report_type,
        columns=list(source.columns or ()),
        filters=dict(source.filters or {}),
        sort=source.sort,
        csv_delimiter=source.csv_delimiter,
        is_shared=False,
    )
    db.session.add(report)
    db.session.commit()
    return report


@acts_as_user
def set_shared(user: Any, report_id: Any, shared: bool) -> SavedReport:
    report = writable_report(report_id, user)
    report.is_shared = bool(shared)
    db.session.commit()
    return report


@acts_as_user
def delete_report(user: Any, report_id: Any) -> str:
    """Delete the user's own report; returns its name."""
    report = writable_report(report_id, user)
    name = report.name
    db.session.delete(report)
    db.session.commit()
    return name


def column_labels(report: SavedReport) -> Sequence[str]:
    """Labels of the report's columns that still exist (for the report list)."""
    kind = REPORT_TYPES.get(report.report_type)
    if kind is None:
        return []
    return [str(kind.column(c).label) for c in report.columns or () if kind.has_column(c)]
