"""Moving projects between customers, and the projects of a card with what keeps each there.

The rule (it comes from Severa): **a project may change customer only while no invoices and no
proposals exist for it.** The functions here check it first and refuse with a message that names
what blocks the move ("invoice 10023, proposal P-17"). The same rule guards every other way of
changing a project's customer: the module's sessions refuse it (:mod:`..move_guard`, registered by
``CustReg.init_app``) and so does the database (a trigger, :mod:`custreg_admin.models.constraints`).

Every public function that changes something is one unit of work: it commits on success, and on
any failure it rolls the session back (nothing is half done) and re-raises. Each writes a
:class:`~custreg_admin.models.CustomerEvent` on every customer it changes.

Concurrency. On PostgreSQL the project rows are locked (``SELECT ... FOR UPDATE``) before the
check. Inserting an invoice or a proposal takes a ``KEY SHARE`` lock on its project row (the
foreign key check), which conflicts with ``FOR UPDATE``: a concurrent insert either committed
before our check (and the check sees it) or waits until the move has committed. On SQLite there
are no row locks (SQLAlchemy does not render ``FOR UPDATE`` there) and pysqlite starts the write
transaction only at the first write; instead the move itself is one guarded statement,
``UPDATE ... WHERE id IN (...) AND customer_id = :source AND NOT EXISTS (invoice) AND NOT EXISTS
(proposal)``, which SQLite runs atomically under its database write lock. Its row count is
checked, so an invoice that slipped in between the check and the update makes the whole
operation roll back with a "try again" message. PostgreSQL runs the same guarded statement too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, inspect, select, update
from sqlalchemy.orm import Session, selectinload

from ...errors import DomainError
from ...extensions import db
from ...i18n import gettext
from ...models import (
    Customer,
    Invoice,
    Project,
    Proposal,
)
from ...models.versioning import advanced_by_statement, next_version
from ...rules.access import ensure_may_change as _ensure_may_change
from ...rules.moves import (
    move_blockers,
    move_problem,
    project_names,
)
from .. import history
from .unit_of_work import (
    _label,
    _lock_projects,
    _unit_of_work,
)

# --- projects of a card ---------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectCheck:
    """A project of a customer and whether it may move; ``blockers`` is empty when it may."""

    id: int
    name: str
    kind: str
    sales_status: str
    is_closed: bool
    manager: str
    blockers: str = ""

    @property
    def can_move(self) -> bool:
        return not self.blockers


def project_checks(customer: Customer) -> list[ProjectCheck]:
    """The customer's projects and sales cases, each with what (if anything) keeps it there."""
    session = db.session
    projects = session.scalars(
        select(Project)
        .where(Project.customer_id == customer.id)
        .options(selectinload(Project.manager))
        .order_by(Project.kind, Project.is_closed, Project.name, Project.id)
    ).all()
    blocked = move_blockers(session, select(Project.id).where(Project.customer_id == customer.id))
    return [
        ProjectCheck(
            id=p.id,
            name=p.name,
            kind=p.kind,
            sales_status=p.sales_status,
            is_closed=p.is_closed,
            manager=p.manager.name if p.manager else "",
            blockers=blocked.get(p.id, ""),
        )
        for p in projects
    ]


# --- moving projects ------------------------------------------------------------------------


def _expire_moved(session: Session, ids: Iterable[int], *customers: Customer) -> None:
    """Forget what the session remembers of moved rows after a set-based UPDATE."""
    ids = set(ids)
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Project) and obj.id in ids:
            session.expire(obj, ["customer_id", "customer"])
            advanced_by_statement(obj)
    for customer in customers:
        session.expire(customer, ["projects"])


def _guarded_move(session: Session, source_id: int, target_id: int, ids: Sequence[int]) -> None:
    """``UPDATE custreg_project SET customer_id = :target WHERE id IN (...) AND customer_id =
    :source AND NOT EXISTS (invoice) AND NOT EXISTS (proposal)``; all rows move or none."""
    if not ids:
        return
    result = session.execute(
        update(Project)
        .where(
            Project.id.in_(ids),
            Project.customer_id == source_id,
            ~exists().where(Invoice.project_id == Project.id),
            ~exists().where(Proposal.project_id == Project.id),
        )
        .values(customer_id=target_id, **next_version(Project))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(ids):
        raise DomainError(
            gettext(
                "An invoice or a proposal was just added to one of the projects, or a project "
                "was moved by someone else. Nothing was changed; check the projects and try "
                "again."
            )
        )


def _move(
    session: Session, source: Customer, target: Customer, project_ids: Iterable[int], *, user: Any
) -> dict[int, str]:
    """Check and move; returns id -> name of the moved projects. No history, no commit."""
    ids = sorted({int(i) for i in project_ids})
    _ensure_may_change(user, source, "move projects away from")
    _ensure_may_change(user, target, "move projects onto")
    with session.no_autoflush:  # a form may have set project.customer already: check the DB
        stored = _lock_projects(session, Project.id.in_(ids)) if ids else {}
        problem = move_problem(
            session, source, target, ids, stored=stored, done=gettext("Nothing was moved.")
        )
        if problem is not None:
            raise problem
        names = project_names(session, ids)
        _guarded_move(session, source.id, target.id, ids)
    _expire_moved(session, ids, source, target)
    return names


def _record_move(
    session: Session, source: Customer, target: Customer, names: Mapping[int, str], *, user: Any
) -> None:
    """The move was one set-based UPDATE, which ORM events do not see: tell the history."""
    history.record_move(session, source, target, names)


def change_project_customer(project: Project, target: Customer | None, *, user: Any = None) -> None:
    """Move one project to ``target``; refused while invoices or proposals exist for it.

    The customer it leaves is the one stored in the database, so a caller (a Flask-Admin form,
    say) may already have set ``project.customer`` to ``target`` in the session.
    """
    with _unit_of_work(user) as session:
        with session.no_autoflush:
            stored = _lock_projects(session, Project.id == project.id)
            if project.id not in stored:
                raise DomainError(gettext("That project no longer exists."))
            source = session.get(Customer, stored[project.id])
        names = _move(session, source, target, [project.id], user=user)
        _record_move(session, source, target, names, user=user)


def ensure_project_deletable(project: Project) -> None:
    """A project with invoices or proposals cannot be deleted (they refer to it): refused with
    :class:`DomainError` naming them, before the database would refuse it."""
    blockers = move_blockers(db.session, [project.id]).get(project.id)
    if blockers:
        raise DomainError(
            gettext(
                "%(project)s cannot be deleted: it has %(blockers)s. Close it instead. Nothing "
                "was deleted.",
                project=project.name,
                blockers=blockers,
            )
        )


def check_invoice_project(invoice: Invoice) -> None:
    """An invoice's project, when it has one, is a project of the invoice's customer: refused
    with :class:`DomainError` otherwise (the figures and the move rule count the invoice on
    both)."""
    with db.session.no_autoflush:  # check before the database's trigger sees the row
        project = invoice.project
        customer = invoice.customer
        if project is None or customer is None or project.customer_id == customer.id:
            return
        owner = db.session.get(Customer, project.customer_id)
    raise DomainError(
        gettext(
            "The project %(project)s belongs to %(owner)s, not to %(customer)s: choose one of "
            "%(customer)s's projects, or leave the project empty. Nothing was saved.",
            project=project.name,
            owner=_label(owner) if owner is not None else "?",
            customer=_label(customer),
        )
    )


def apply_customer_change(project: Project, *, user: Any = None) -> bool:
    """For a form that has already set ``project.customer`` (Flask-Admin edit form, inline list
    edit): when that differs from the customer stored in the database, carry the change out
    with :func:`change_project_customer` (check, history, commit). Returns whether it moved.
    """
    session = db.session
    state = inspect(project)
    if state.key is None:  # a new project: nothing to move
        return False
    with session.no_autoflush:
        stored = session.scalar(select(Project.customer_id).where(Project.id == project.id))
        changed = state.attrs.customer.history.added
        target = changed[0] if changed else session.get(Customer, project.customer_id)
    if target is None or stored is None or target.id == stored:
        return False
    change_project_customer(project, target, user=user)
    return True


def move_refusal(
    source: Customer, target: Customer | None, project_ids: Iterable[int]
) -> str | None:
    """Why moving ``project_ids`` from ``source`` to ``target`` would be refused by the rule
    (:func:`custreg_admin.rules.moves.move_problem`), or None: for the review page, which asks
    before the user confirms."""
    problem = move_problem(db.session, source, target, [int(i) for i in project_ids])
    return None if problem is None else str(problem)


def move_projects(
    source: Customer, target: Customer | None, project_ids: Iterable[int], *, user: Any = None
) -> list[str]:
    """Move the chosen projects of ``source`` to ``target``: all of them or none.

    Refused with :class:`ProjectMoveBlocked` naming every chosen project that has invoices or
    proposals. Returns the names of the moved projects.
    """
    with _unit_of_work(user) as session:
        names = _move(session, source, target, project_ids, user=user)
        _record_move(session, source, target, names, user=user)
    return [names[i] for i in sorted(names)]
