"""What the card's write operations share: one unit of work, row locks, "on <date> by <name>"."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...context import acting_as
from ...extensions import db
from ...i18n import gettext
from ...models import (
    Customer,
    Project,
)

SHOWN_NAMES = 10  # project names in a history message; the details keep all ids
DEFAULT_TIMEZONE = "Europe/Helsinki"


def _lock_projects(session: Session, condition) -> dict[int, int]:
    """Project id -> customer id as stored, locking the rows (``FOR UPDATE`` on PostgreSQL)."""
    rows = session.execute(
        select(Project.id, Project.customer_id).where(condition).with_for_update()
    )
    return {row.id: row.customer_id for row in rows}


# --- small helpers --------------------------------------------------------------------------


def _label(customer: Customer) -> str:
    return f"{customer.number} {customer.name}"


def _who(user: Any) -> tuple[int | None, str | None]:
    if user is None or not getattr(user, "is_authenticated", True):
        return None, None
    return getattr(user, "id", None), getattr(user, "name", None)


def _local_now() -> datetime:
    name = current_app.config.get("CUSTREG_TIMEZONE") if has_app_context() else None
    return datetime.now(ZoneInfo(name or DEFAULT_TIMEZONE))


def _on_by(user: Any) -> str:
    """ "on 2026-11-27 by Maija Myyjä": the date in ``CUSTREG_TIMEZONE``."""
    _, name = _who(user)
    day = f"{_local_now():%Y-%m-%d}"
    if name:
        return gettext("on %(date)s by %(name)s", date=day, name=name)
    return gettext("on %(date)s", date=day)


def _listing(names: Sequence[str]) -> str:
    quoted = [f'"{name}"' for name in names[:SHOWN_NAMES]]
    if len(names) > SHOWN_NAMES:
        quoted.append(gettext("%(num)s more", num=len(names) - SHOWN_NAMES))
    return ", ".join(quoted)


@contextmanager
def _unit_of_work(user: Any) -> Iterator[Session]:
    """The module's session, committed at the end (rolled back on any error), written as
    ``user`` (``None``: the system) for the access backstop and the history."""
    session = db.session
    try:
        with acting_as(user):
            yield session
            session.commit()
    except BaseException:
        session.rollback()
        raise
