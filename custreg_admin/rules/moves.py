"""The project-move rule: **a project may change customer only while no invoices and no
proposals exist for it** (the rule comes from Severa).

:func:`move_problem` is the one check of a chosen move (projects, target customer) and says what
is wrong in the user's language, naming what blocks it ("invoice 10023, proposal P-17"); the move
service raises it, the move pages show it before asking for confirmation, and the guards on every
other path (the ORM listener, see :mod:`custreg_admin.services.move_guard`) ask
:func:`refuse_blocked_moves`. Who may move a customer's projects at all is the access rule's
business, not this one's.

Plain reads: no commits, no locks (the service locks the rows before it asks).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import DomainError
from ..i18n import gettext, lazy_gettext, ngettext
from ..models import Invoice, Project, Proposal

#: invoices / proposals named per project in a message; the rest are counted
SHOWN_PER_KIND = 5


class ProjectMoveBlocked(DomainError):
    """Invoices or proposals exist for a project, so it cannot change customer.

    ``blocked`` maps project id to what blocks it, e.g. ``"invoice 10023, proposal P-17"``.
    """

    def __init__(self, message: str, blocked: Mapping[int, str]) -> None:
        super().__init__(message)
        self.blocked = dict(blocked)


def move_blockers(session: Session, project_ids) -> dict[int, str]:
    """Project id -> "invoice 10023, proposal P-17" for the projects that may not move.

    ``project_ids``: ids, or a select of ids. Two queries whatever the number of projects; at
    most :data:`SHOWN_PER_KIND` invoices and proposals are named per project, the rest counted.
    """
    if not isinstance(project_ids, list | tuple | set | frozenset):
        condition_ids = project_ids  # a select of ids
    else:
        condition_ids = sorted(set(project_ids))
        if not condition_ids:
            return {}
    named: dict[int, list[str]] = {}
    words = {
        Invoice: (
            lazy_gettext("invoice %(number)s"),
            lazy_gettext("draft invoice #%(id)s"),
            lambda n: ngettext("%(num)s more invoice", "%(num)s more invoices", n),
        ),
        Proposal: (
            lazy_gettext("proposal %(number)s"),
            lazy_gettext("draft proposal #%(id)s"),
            lambda n: ngettext("%(num)s more proposal", "%(num)s more proposals", n),
        ),
    }
    for model in (Invoice, Proposal):
        numbered, draft, more_text = words[model]
        rank = func.row_number().over(partition_by=model.project_id, order_by=model.id)
        total = func.count().over(partition_by=model.project_id)
        ranked = (
            select(
                model.project_id.label("project_id"),
                model.id.label("id"),
                model.number.label("number"),
                rank.label("rank"),
                total.label("total"),
            )
            .where(model.project_id.in_(condition_ids))
            .subquery()
        )
        rows = session.execute(
            select(ranked)
            .where(ranked.c.rank <= SHOWN_PER_KIND)
            .order_by(ranked.c.project_id, ranked.c.rank)
        )
        for row in rows:
            names = named.setdefault(row.project_id, [])
            names.append(
                str(numbered) % {"number": row.number}
                if row.number
                else str(draft) % {"id": row.id}
            )
            if row.rank == SHOWN_PER_KIND and row.total > SHOWN_PER_KIND:
                more = row.total - SHOWN_PER_KIND
                names.append(more_text(more))
    return {project_id: ", ".join(names) for project_id, names in named.items()}


def project_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """Project id -> name."""
    ids = sorted(set(ids))
    if not ids:
        return {}
    rows = session.execute(select(Project.id, Project.name).where(Project.id.in_(ids)))
    return {row.id: row.name for row in rows}


def blocked_message(session: Session, blocked: Mapping[int, str], *, done: str = "") -> str:
    """The refusal naming each blocked project and what blocks it; ``done`` is appended
    ("Nothing was moved.")."""
    names = project_names(session, blocked)
    if len(blocked) == 1:
        [(project_id, what)] = blocked.items()
        message = gettext(
            'Project "%(name)s" cannot move to another customer because it has %(blockers)s. A '
            "project may change customer only while it has no invoices and no proposals.",
            name=names.get(project_id, project_id),
            blockers=what,
        )
    else:
        listed = "; ".join(
            f'"{names.get(pid, pid)}" ({what})' for pid, what in sorted(blocked.items())
        )
        message = ngettext(
            "%(num)s project cannot move to another customer because invoices or proposals "
            "exist for it: %(projects)s.",
            "%(num)s projects cannot move to another customer because invoices or proposals "
            "exist for them: %(projects)s.",
            len(blocked),
            projects=listed,
        )
    return f"{message} {done}".strip()


def refuse_blocked_moves(session: Session, project_ids, *, done: str | None = None) -> None:
    """Raise :class:`ProjectMoveBlocked` when any of ``project_ids`` (ids or a select of ids)
    has invoices or proposals. ``done`` ends the message (default "Nothing was saved.")."""
    blocked = move_blockers(session, project_ids)
    if blocked:
        if done is None:
            done = gettext("Nothing was saved.")
        raise ProjectMoveBlocked(blocked_message(session, blocked, done=done), blocked)


def _label(customer: Any) -> str:
    return f"{customer.number} {customer.name}"


def target_problem(source: Any, target: Any | None, count: int = 2) -> str | None:
    """What is wrong with moving ``count`` projects of ``source`` to ``target`` (none chosen,
    the same customer, an inactivated one), or None."""
    if target is None:
        return gettext("Choose the customer the projects move to.")
    if target.id == source.id:
        return ngettext(
            "The project already belongs to %(customer)s; choose another customer.",
            "The projects already belong to %(customer)s; choose another customer.",
            count,
            customer=_label(target),
        )
    if not target.is_active:
        return gettext(
            "%(customer)s is inactivated; reactivate it before moving projects to it.",
            customer=_label(target),
        )
    return None


def move_problem(
    session: Session,
    source: Any,
    target: Any | None,
    project_ids: Collection[int],
    *,
    stored: Mapping[int, int] | None = None,
    done: str = "",
) -> DomainError | None:
    """Everything the rule checks for moving ``project_ids`` from ``source`` to ``target``:
    at least one project, a fit target, the projects still ``source``'s, none with invoices or
    proposals. The refusal to raise or show (a :class:`ProjectMoveBlocked` when invoices or
    proposals block it), or None when the move may go.

    ``stored``: project id -> customer id as the caller read (and locked) them; read here
    otherwise. ``done`` ends a refusal ("Nothing was moved.")."""
    ids = sorted(set(project_ids))
    if not ids:
        return DomainError(gettext("Choose at least one project to move."))
    problem = target_problem(source, target, len(ids))
    if problem is not None:
        return DomainError(problem)
    if stored is None:
        rows = session.execute(select(Project.id, Project.customer_id).where(Project.id.in_(ids)))
        stored = {row.id: row.customer_id for row in rows}
    elsewhere = [i for i in ids if stored.get(i) != source.id]
    if elsewhere:
        return DomainError(
            ngettext(
                "%(num)s chosen project no longer belongs to %(customer)s; reload the page. "
                "Nothing was moved.",
                "%(num)s chosen projects no longer belong to %(customer)s; reload the page. "
                "Nothing was moved.",
                len(elsewhere),
                customer=_label(source),
            )
        )
    blocked = move_blockers(session, ids)
    if blocked:
        return ProjectMoveBlocked(blocked_message(session, blocked, done=done), blocked)
    return None
