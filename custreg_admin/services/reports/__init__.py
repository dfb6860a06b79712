"""Reports > Report creation: report types, their columns and filters as data, one SQL statement.

A *report type* names the entity a row stands for (:data:`REPORT_TYPES`: ``customers``, a row per
customer; ``contacts``, a row per contact) and lists what it offers:

* columns (:class:`ReportColumn`): an id, a label, a value type (``text``, ``int``, ``money``,
  ``date``, ``bool``), the SQL expression of the value, whether it is shown by default, and the
  joins the expression needs;
* filters (:class:`ReportFilter`): an id, a label, how a value given as a string is checked and
  the SQL condition it becomes.

A :class:`ReportSpec` is a chosen type, columns in order, filter values and a sort, for one
viewer on one day (:func:`make_spec` checks and builds it). :func:`report_statement` turns it into
*one* SELECT: choices and addresses are outer joins, segments and per-customer figures correlated
subqueries, so no statement runs per row. :func:`page` reads a page of it, :func:`iter_rows`
streams all of it in chunks (:func:`iter_batches` a batch of rows at a time, what downloads
read), :func:`count_rows` counts the rows; all three see the same rows in the same order (the
sort column, then the row's id as a tiebreak; empty values last).

The per-customer figures follow DESIGN.md "KPI figures": billing is the total of invoices that
count as billing (status ``counts_as_sent``, non-empty number) dated in the period, "this year"
and "last year" being calendar years of ``today`` in ``CUSTREG_TIMEZONE``; costs this year are
costs dated this year on the customer's projects that are not internal, so margin this year is
billing this year minus costs this year; open projects and open sales cases count the customer's
projects of that kind that are not closed, not ``lost`` and not internal.

Billing and cost figures are money only the viewer may see, by the one rule in
:mod:`custreg_admin.rules.visibility` (the card, the KPI figures and the invoice list ask the same):
each figure adds up the invoices and costs the viewer may see, and is empty (NULL) on the rows of
customers whose money they may not see at all (neither own the customer nor manage one of its
projects). Filters and sorts on those figures work on what the viewer sees (a hidden figure never
matches an amount filter), so neither leaks them. Counts of projects are not restricted (they are
not invoice figures; the KPI cards count them for everyone too).

:func:`customer_ids` gives the ids of the customers behind a report's rows (every page) as a
subquery: the "all N matching" selection the mass update takes from a Customers report.
"""

from __future__ import annotations

from .catalogue import REPORT_TYPES
from .definitions import (
    COLUMN_TYPES,
    InvalidReport,
    ReportColumn,
    ReportFilter,
    ReportType,
)
from .engine import (
    ReportSpec,
    count_rows,
    customer_ids,
    default_delimiter,
    filter_choices,
    iter_batches,
    iter_rows,
    make_spec,
    page,
    report_statement,
    stream_batches,
    stream_rows,
)
from .sql import joined_strings

__all__ = [
    "COLUMN_TYPES",
    "REPORT_TYPES",
    "InvalidReport",
    "ReportColumn",
    "ReportFilter",
    "ReportSpec",
    "ReportType",
    "count_rows",
    "customer_ids",
    "default_delimiter",
    "filter_choices",
    "iter_batches",
    "iter_rows",
    "stream_batches",
    "stream_rows",
    "joined_strings",
    "make_spec",
    "page",
    "report_statement",
]
