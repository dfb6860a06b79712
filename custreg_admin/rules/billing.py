"""What counts as billing: the invoices the KPI figures, the card and the reports add up.

An invoice *counts as billing* when its status has ``counts_as_sent``, its number is non-empty
(NULL, ``''`` and whitespace only - spaces, tabs, CR, LF - are empty) and its date lies in the
period. Periods are whole calendar periods, half-open: ``start <= date < end``.

Costs count towards margin when they are not on an internal project (invoices on internal
projects are billing like any other).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import String, and_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from ..models import Invoice, InvoiceStatus, Project

WHITESPACE = " \t\r\n"


class _trimmed(FunctionElement):
    """``text`` without leading and trailing ``characters``: ``btrim(text, characters)`` on
    PostgreSQL, ``trim(text, characters)`` on SQLite (one function call per row)."""

    type = String()
    name = "trimmed"
    inherit_cache = True


@compiles(_trimmed)
def _trimmed_default(element, compiler, **kw):
    return f"btrim({compiler.process(element.clauses, **kw)})"


@compiles(_trimmed, "sqlite")
def _trimmed_sqlite(element, compiler, **kw):
    return f"trim({compiler.process(element.clauses, **kw)})"


def has_number(column) -> ColumnElement[bool]:
    """The invoice number is non-empty: not NULL, not '' and not only whitespace."""
    return _trimmed(column, WHITESPACE) != ""


def in_period(column, start: dt.date, end: dt.date) -> ColumnElement[bool]:
    """``start <= column < end``: the period of a figure (a calendar month or year)."""
    return and_(column >= start, column < end)


def invoice_counts_as_billing() -> ColumnElement[bool]:
    """Condition on ``Invoice``: its status counts as sent and it has an invoice number.

    The period (:func:`in_period` on ``Invoice.date``) is up to the caller.
    """
    return and_(Invoice.status_id.in_(sent_statuses()), has_number(Invoice.number))


def sent_statuses():
    """The ids of the invoice statuses that count as sent (a subquery)."""
    return select(InvoiceStatus.id).where(InvoiceStatus.counts_as_sent.is_(True)).correlate(None)


def cost_counts_for_margin(is_internal=None) -> ColumnElement[bool]:
    """Condition on ``Project``: its costs count towards margin (it is not internal).
    ``is_internal``: the project's flag where a row keeps a copy of it (the KPI aggregates)."""
    return (Project.is_internal if is_internal is None else is_internal).is_(False)
