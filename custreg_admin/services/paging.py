"""Counts and deep pages of long lists that do not read a million rows per view (issue 15).

* :class:`CachedCount` stands in for a list's count query: it is filtered and joined like one,
  and its :meth:`~CachedCount.scalar` answers from the module's versioned cache
  (:data:`custreg_admin.cache.KPI`: a new version whenever customers, their segments, users or
  settings lists change) under the statement's SQL and parameters, so a repeated view of the
  same list, search and filters does not count again until something changed.
* :func:`page_from_the_end`: a page in the back half of a list is read in the reversed order,
  from the end (``OFFSET total - end``), and turned round: the last page costs what the first
  does. Orders end with the unique id (``ProtectedModelView._apply_sorting``), so the reversed
  order is exactly the list read backwards.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Query
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from ..cache import KPI, module_cache


class CachedCount:
    """A count query whose :meth:`scalar` is served from the versioned cache."""

    def __init__(self, query: Query) -> None:
        self.query = query

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.query, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            return CachedCount(result) if isinstance(result, Query) else result

        return call

    def scalar(self) -> int | None:
        cache = module_cache()
        if cache is None:
            return self.query.scalar()
        compiled = self.query.statement.compile(self.query.session.get_bind())
        parts = ("list-count", str(compiled), repr(sorted(compiled.params.items())))
        return cache.get_or_compute(KPI, parts, self.query.scalar)


def _reversed(clause: Any) -> Any:
    if isinstance(clause, UnaryExpression) and clause.modifier is operators.desc_op:
        return clause.element.asc()
    if isinstance(clause, UnaryExpression) and clause.modifier is operators.asc_op:
        return clause.element.desc()
    return clause.desc()


def page_from_the_end(query: Query, page: int, page_size: int, total: int) -> list[Any] | None:
    """The rows of page ``page`` (from 0) of the ordered ``query`` (without limit and offset),
    read from the end of the list when the page is in its back half; None for a page in the
    front half (read it as usual) or a query without an order."""
    start = page * page_size
    if not page_size or start * 2 < total or start >= total:
        return None
    clauses = list(query.statement._order_by_clauses)
    if not clauses:
        return None
    end = min(start + page_size, total)
    backwards = query.order_by(None).order_by(*(_reversed(c) for c in clauses))
    rows = backwards.limit(end - start).offset(total - end).all()
    rows.reverse()
    return rows
