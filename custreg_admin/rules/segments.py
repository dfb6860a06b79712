"""Market segments nest (``MarketSegment.parent_id``) and never form a loop.

A segment cannot be its own parent, nor the parent of one of its ancestors (its grandparent, ...):
:func:`parent_loop` finds the loop a new parent would make, :func:`loop_message` says so. The
database refuses such a write too (a trigger, :mod:`custreg_admin.models.constraints`); the
service asks this rule first, for a message fit for the user.
"""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from ..i18n import gettext
from ..models import MarketSegment

#: how far up an ancestor chain is followed (a stop even on data older than the trigger)
MAX_DEPTH = 1000


def ancestors(session: Session, segment_id: int) -> list[tuple[int, str]]:
    """``segment_id`` and its ancestors, nearest first: (id, name) each."""
    up = (
        select(
            MarketSegment.id, MarketSegment.name, MarketSegment.parent_id, literal(0).label("depth")
        )
        .where(MarketSegment.id == segment_id)
        .cte("up", recursive=True)
    )
    up = up.union_all(
        select(MarketSegment.id, MarketSegment.name, MarketSegment.parent_id, up.c.depth + 1)
        .join(up, MarketSegment.id == up.c.parent_id)
        .where(up.c.depth < MAX_DEPTH)
    )
    rows = session.execute(select(up.c.id, up.c.name).order_by(up.c.depth))
    chain: list[tuple[int, str]] = []
    for row in rows:
        if any(row.id == seen for seen, _ in chain):
            break  # a loop already stored: the chain ends where it repeats
        chain.append((row.id, row.name))
    return chain


def parent_loop(
    session: Session, segment_id: int | None, parent_id: int | None
) -> list[tuple[int, str]] | None:
    """The loop that making ``parent_id`` the parent of ``segment_id`` would close, from the
    segment down to the new parent ((id, name) each); None when there is none. A new segment
    (no id yet) cannot close a loop."""
    if segment_id is None or parent_id is None:
        return None
    chain = ancestors(session, parent_id)
    for index, (found, _) in enumerate(chain):
        if found == segment_id:
            return list(reversed(chain[: index + 1]))
    return None


def loop_message(loop: list[tuple[int, str]]) -> str:
    """Why the loop is refused, naming the segments in it."""
    name = loop[0][1]
    if len(loop) == 1:
        return gettext(
            'Market segment "%(name)s" cannot be its own parent segment. Nothing was saved.',
            name=name,
        )
    return gettext(
        'Market segment "%(name)s" cannot be placed under "%(parent)s", because "%(parent)s" is '
        "already under it (%(path)s): segments cannot form a loop. Nothing was saved.",
        name=name,
        parent=loop[-1][1],
        path=" › ".join(segment for _, segment in loop),
    )
