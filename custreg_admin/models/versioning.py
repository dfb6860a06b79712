"""Row versions: no lost updates.

Customers, projects, invoices and proposals carry ``version`` (1 when created), SQLAlchemy's
``version_id_col``: every ORM update writes ``version = version + 1 ... WHERE version = <the one
loaded>`` and fails with ``StaleDataError`` when someone else changed the row meanwhile. Edit forms
carry the version they showed, so a save from a stale form is refused too.

Set-based statements (mass updates, moves, merges) do not go through the ORM: they must advance the
version themselves, with :func:`next_version`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, text
from sqlalchemy.orm import MappedColumn, mapped_column
from sqlalchemy.orm.attributes import set_committed_value


def version_column() -> MappedColumn[int]:
    """The ``version`` column of a versioned model (name it in ``version_id_col``)."""
    return mapped_column(Integer, nullable=False, default=1, server_default=text("1"))


def next_version(model: Any) -> dict[str, Any]:
    """``.values(**next_version(Customer))``: the version advance of a set-based UPDATE."""
    return {"version": model.version + 1}


def advance(obj: Any) -> None:
    """Advance an ORM object's version at its next flush, also when only rows hanging on it
    changed (its inline addresses and contacts, the projects a merge moved to it): a form opened
    before then is stale."""
    obj.version = obj.version + 1


def advanced_by_statement(obj: Any) -> None:
    """A set-based UPDATE with :func:`next_version` advanced ``obj``'s row by one: the session's
    copy follows, so that a later flush of ``obj`` still detects changes made by others."""
    if "version" in obj.__dict__:
        set_committed_value(obj, "version", obj.version + 1)
