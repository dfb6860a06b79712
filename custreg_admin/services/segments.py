"""Market segments: a parent is checked against the loop rule before it is saved."""

from __future__ import annotations

from ..errors import DomainError
from ..extensions import db
from ..models import MarketSegment
from ..rules.segments import loop_message, parent_loop


def ensure_no_loop(segment: MarketSegment) -> None:
    """Refuse (:class:`DomainError`, naming the loop) the parent a form has set on ``segment``
    when the segment would become its own parent or ancestor. Checked against the database
    before anything is written (the database's trigger refuses it too)."""
    session = db.session
    with session.no_autoflush:
        parent = segment.parent
        parent_id = parent.id if parent is not None else segment.parent_id
        loop = parent_loop(session, segment.id, parent_id)
    if loop:
        raise DomainError(loop_message(loop))


def segment_paths(segments) -> list[str]:
    """Market segments as paths ("Non-profit / Foundations"), sorted so that a parent comes
    before its children instead of among them."""
    return sorted(
        (str(s) for s in segments), key=lambda path: [p.casefold() for p in path.split(" / ")]
    )
