"""The access matrix: who may list, see, create, change and delete what, and set which field.

One table, :data:`MATRIX`, says for each kind of object and each action which rows each role may
reach (the README's "Who may do what" table is this table written down):

* ``all``: every row; ``none``: no row;
* ``own``: rows on customers the user owns (a customer: its account owner is the user; what
  hangs on a customer, through its customer; a saved report or a mass update: the user made it);
* ``visible``: the rows the visibility rule lets the user see (invoices and costs);
* ``own or shared``: saved reports the user owns or that are shared;
* ``self``: the user's own user row (their language and password only).

A change must be allowed both for the row as stored and for the row as it would be saved: moving
a project, invoice or cost onto or off a colleague's customer, or setting oneself as a
colleague's project manager, is refused, so no one gains visibility by editing a field.

Everything here is plain functions on the module's user and models: no request, no commit.
``user=None`` is the system (CLI, host scripts, data migrations): it may do anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, event, false, inspect, or_, select, true
from sqlalchemy.orm import Session

from ..context import acting_user
from ..errors import PermissionDenied
from ..i18n import gettext, lazy_gettext
from ..models import (
    Address,
    Contact,
    Cost,
    Customer,
    CustomerStatus,
    EInvoiceAddress,
    Industry,
    Invoice,
    InvoiceStatus,
    InvoiceTemplate,
    MarketSegment,
    MassUpdateBatch,
    Project,
    Proposal,
    SavedReport,
    User,
    VatRate,
)
from .visibility import visible_costs, visible_invoices

ROLES = ("admin", "manager", "user")

ALL, OWN, VISIBLE, SHARED, SELF, NONE = "all", "own", "visible", "own or shared", "self", "none"

#: the actions of every model view (bulk "delete" is "delete" per row)
READ_ACTIONS = ("list", "details", "export")
WRITE_ACTIONS = ("create", "edit", "delete")
#: what may be done to a customer beyond editing it (each as "edit" for the scope)
CUSTOMER_ACTIONS = ("inactivate", "reactivate", "refresh", "move", "merge", "mass_update")


def _row(read: tuple[str, str, str], write: tuple[str, str, str], **more) -> dict:
    scopes = dict.fromkeys(READ_ACTIONS, read) | dict.fromkeys(WRITE_ACTIONS, write)
    return scopes | more


_STAFF_OR_OWN = (ALL, ALL, OWN)

#: kind -> action -> scope for (admin, manager, user)
MATRIX: dict[str, dict[str, tuple[str, str, str]]] = {
    "customer": _row(
        (ALL, ALL, ALL), _STAFF_OR_OWN, **dict.fromkeys(CUSTOMER_ACTIONS, _STAFF_OR_OWN)
    ),
    "customer_part": _row((ALL, ALL, ALL), _STAFF_OR_OWN),
    "project": _row((ALL, ALL, ALL), _STAFF_OR_OWN),
    "proposal": _row((ALL, ALL, ALL), _STAFF_OR_OWN),
    # money: changed only where seen (a manager without "sees all invoices" adds any, changes
    # those they see); role user only on customers they own
    "invoice": _row((VISIBLE,) * 3, (ALL, VISIBLE, OWN), create=_STAFF_OR_OWN),
    "cost": _row((VISIBLE,) * 3, (ALL, VISIBLE, OWN), create=_STAFF_OR_OWN),
    "setting": _row((ALL, ALL, ALL), (ALL, ALL, NONE)),
    "user": _row((ALL, NONE, NONE), (ALL, NONE, NONE), edit=(ALL, SELF, SELF)),
    "saved_report": _row((SHARED, SHARED, SHARED), (OWN, OWN, OWN), create=(ALL, ALL, ALL)),
    # a mass update is applied (create) and undone (edit: marked undone); never deleted
    "mass_update": _row((ALL, ALL, ALL), _STAFF_OR_OWN, delete=(NONE, NONE, NONE)),
}

#: model -> kind of object in :data:`MATRIX`
KINDS: dict[type, str] = {
    Customer: "customer",
    Address: "customer_part",
    EInvoiceAddress: "customer_part",
    Contact: "customer_part",
    Project: "project",
    Proposal: "proposal",
    Invoice: "invoice",
    Cost: "cost",
    Industry: "setting",
    InvoiceTemplate: "setting",
    VatRate: "setting",
    CustomerStatus: "setting",
    MarketSegment: "setting",
    InvoiceStatus: "setting",
    User: "user",
    SavedReport: "saved_report",
    MassUpdateBatch: "mass_update",
}

#: (kind, field) -> scope for (admin, manager, user) of setting that field; fields not named
#: here may be set by whoever may create or edit the row
FIELD_RULES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("customer", "owner"): (ALL, ALL, NONE),
    ("customer", "owner_id"): (ALL, ALL, NONE),
}
#: what a user may change on their own user row (``self``)
SELF_FIELDS = frozenset({"locale", "password_hash", "new_password", "session_token"})

#: Refusals of role ``user`` for customers they do not own (see :func:`ensure_may_change`).
_REFUSALS = {
    "edit": lazy_gettext(
        "You can edit only customers you own; %(customer)s is not yours. Ask its account owner "
        "or a manager."
    ),
    "delete": lazy_gettext(
        "You can delete only customers you own; %(customer)s is not yours. Ask its account "
        "owner or a manager."
    ),
    "refresh": lazy_gettext(
        "You can refresh only customers you own; %(customer)s is not yours. Ask its account "
        "owner or a manager."
    ),
    "move projects away from": lazy_gettext(
        "You can move projects away from only customers you own; %(customer)s is not yours. "
        "Ask its account owner or a manager."
    ),
    "move projects onto": lazy_gettext(
        "You can move projects onto only customers you own; %(customer)s is not yours. Ask its "
        "account owner or a manager."
    ),
    "inactivate": lazy_gettext(
        "You can inactivate only customers you own; %(customer)s is not yours. Ask its account "
        "owner or a manager."
    ),
    "reactivate": lazy_gettext(
        "You can reactivate only customers you own; %(customer)s is not yours. Ask its account "
        "owner or a manager."
    ),
    "merge": lazy_gettext(
        "You can merge only customers you own; %(customer)s is not yours. Ask its account owner "
        "or a manager."
    ),
    "merge into": lazy_gettext(
        "You can merge into only customers you own; %(customer)s is not yours. Ask its account "
        "owner or a manager."
    ),
    "create": lazy_gettext(
        "The customers you add are yours; only administrators and managers choose another "
        "account owner."
    ),
    "mass_update": lazy_gettext(
        "You can update only customers you own; %(customer)s is not yours. Ask its account "
        "owner or a manager."
    ),
}
#: what hangs on a customer: refusals of role ``user`` on customers they do not own
_PART_REFUSALS = {
    "customer_part": lazy_gettext(
        "You can add, change or delete contacts and addresses only of customers you own; "
        "%(customer)s is not yours. Ask its account owner or a manager."
    ),
    "project": lazy_gettext(
        "You can add, change or delete projects and sales cases only of customers you own; "
        "%(customer)s is not yours. Ask its account owner or a manager."
    ),
    "proposal": lazy_gettext(
        "You can add, change or delete proposals only of customers you own; %(customer)s is "
        "not yours. Ask its account owner or a manager."
    ),
    "invoice": lazy_gettext(
        "You can add, change or delete invoices only of customers you own; %(customer)s is not "
        "yours. Ask its account owner or a manager."
    ),
    "cost": lazy_gettext(
        "You can add, change or delete costs only of customers you own; %(customer)s is not "
        "yours. Ask its account owner or a manager."
    ),
}
_NONE_REFUSALS = {
    "setting": lazy_gettext("Only administrators and managers can change the settings."),
    "user": lazy_gettext("Only administrators can manage users."),
    "mass_update": lazy_gettext("A mass update cannot be deleted; undo it instead."),
}
_FIELD_REFUSALS = {
    ("customer", "owner"): lazy_gettext(
        "Only administrators and managers can change a customer's account owner."
    ),
}
_NOBODY = lazy_gettext("Log in to do this.")
_NOT_SEEN = lazy_gettext("You may not see this record.")
_SELF_ONLY = lazy_gettext("You can change only your own language and password.")
_NO_CUSTOMER = lazy_gettext("(no customer)")


@dataclass(frozen=True)
class Decision:
    """Allowed or not, and why not (in the user's language)."""

    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = Decision(True)


def _refused(reason: Any, **variables: Any) -> Decision:
    text = str(reason)
    return Decision(False, text % variables if variables else text)


# --- roles ------------------------------------------------------------------------------------


def _as_stored(user: Any, name: str) -> Any:
    """``user.<name>`` as stored: a form editing the logged-in user's own row (their role, say)
    changes nothing of what they may do until it is saved."""
    state = inspect(user, raiseerr=False)
    if state is None or name not in state.attrs:
        return getattr(user, name, None)
    history = state.attrs[name].history
    return history.deleted[0] if history.deleted else getattr(user, name, None)


def role_of(user: Any) -> str:
    """``admin``, ``manager`` or ``user``; ``""`` for nobody (not logged in, unknown role)."""
    if not getattr(user, "is_authenticated", True) or not _as_stored(user, "is_active"):
        return ""
    role = _as_stored(user, "role")
    return role if role in ROLES else ""


def kind_of(target: Any) -> str | None:
    """The kind of object (a key of :data:`MATRIX`) of a model or a row; None: not guarded."""
    model = target if isinstance(target, type) else type(target)
    for cls in getattr(model, "__mro__", ()):
        if cls in KINDS:
            return KINDS[cls]
    return None


def scope(user: Any, action: str, target: Any) -> str:
    """The scope (``all``, ``own``, ``visible``, ...) of ``action`` on ``target`` for ``user``."""
    if user is None:
        return ALL
    role = role_of(user)
    kind = kind_of(target)
    if not role or kind is None:
        return NONE if role == "" else ALL
    row = MATRIX[kind]
    scopes = row.get(action) or row["edit"]
    return scopes[ROLES.index(role)]


# --- ownership of a row, as stored and as it would be saved ----------------------------------


def _related(obj: Any, name: str, stored: bool) -> Any:
    """``obj.<name>`` (a many-to-one) as stored in the database or as it would be saved, also
    before a flush has copied a changed relationship into its foreign key."""
    state = inspect(obj)
    prop = state.mapper.relationships[name]
    (column,) = prop.local_columns
    key = state.mapper.get_property_by_column(column).key
    session = state.session
    by_relation, by_key = state.attrs[name].history, state.attrs[key].history

    def load(row_id: Any) -> Any:
        if row_id is None or session is None:
            return None
        return session.get(prop.mapper.class_, row_id)

    if stored:
        if state.key is None:
            return None
        if by_key.deleted:
            return load(by_key.deleted[0])
        if by_relation.deleted:
            return by_relation.deleted[0]
        if by_relation.added:  # not flushed yet: the key still holds the stored value
            return load(getattr(obj, key))
        return getattr(obj, name)
    if by_relation.added:
        return by_relation.added[0]
    if by_key.added:
        return load(by_key.added[0])
    return getattr(obj, name)


def _customers(obj: Any, stored: bool) -> list[Any]:
    """The customers a row hangs on (a customer: itself), as stored or as it would be saved."""
    if isinstance(obj, Customer):
        return [obj]
    if isinstance(obj, Proposal | Cost):
        project = _related(obj, "project", stored)
        return [_related(project, "customer", stored) if project is not None else None]
    found = [_related(obj, "customer", stored)]
    if isinstance(obj, Invoice):
        project = _related(obj, "project", stored)
        if project is not None:
            found.append(_related(project, "customer", stored))
    return found


def _owner_id(customer: Any, stored: bool) -> Any:
    owner = _related(customer, "owner", stored)
    return getattr(owner, "id", None) if owner is not None else None


def _label(customer: Any) -> str:
    if customer is None:
        return str(_NO_CUSTOMER)
    return f"{customer.number or ''} {customer.name or ''}".strip()


def _owned(user: Any, obj: Any, stored: bool) -> Any:
    """None when ``user`` owns the row (as stored / as it would be saved), else the customer
    (or ``False`` for rows of no customer) that is not theirs."""
    kind = kind_of(obj)
    if kind == "saved_report":
        owner = _related(obj, "owner", stored)
        return None if owner is not None and owner.id == user.id else False
    if kind == "mass_update":
        owner = _related(obj, "user", stored)
        return None if owner is not None and owner.id == user.id else False
    if kind == "user":
        return None if obj.id is not None and obj.id == user.id else False
    for customer in _customers(obj, stored):
        if customer is None or _owner_id(customer, stored) != user.id:
            return customer if customer is not None else False
    return None


def _refusal(user: Any, action: str, obj: Any, not_theirs: Any) -> Decision:
    kind = kind_of(obj)
    customer = not_theirs if not_theirs is not False else None
    if kind == "customer":
        what = "edit" if action not in _REFUSALS else action
        return _refused(_REFUSALS[what], customer=_label(customer))
    if kind in _PART_REFUSALS:
        return _refused(_PART_REFUSALS[kind], customer=_label(customer))
    if kind == "saved_report":
        owner = _related(obj, "owner", True) or _related(obj, "owner", False)
        return _refused(
            gettext(
                "Report %(name)s belongs to %(owner)s: copy it to change it.",
                name=repr(obj.name),
                owner=getattr(owner, "name", ""),
            )
        )
    if kind == "mass_update":
        return _refused(gettext("You can undo only your own mass updates."))
    if kind == "user":
        return _refused(_SELF_ONLY)
    return _refused(_NONE_REFUSALS.get(kind or "", _NOBODY))


# --- the questions ------------------------------------------------------------------------------


def may(user: Any, action: str, target: Any, field: str | None = None) -> Decision:
    """May ``user`` do ``action`` to ``target`` (a model: any row of it; a row: that row, as it
    is in memory) and, with ``field``, set that field? ``user=None``: the system (allowed)."""
    if user is None:
        return ALLOWED
    if role_of(user) == "":
        return _refused(_NOBODY)
    kind = kind_of(target)
    if kind is None:
        return ALLOWED
    reach = scope(user, action, target)
    if reach == NONE:
        return _refused(_NONE_REFUSALS.get(kind, _NOBODY))
    if field is not None:
        decision = _may_set(user, kind, field)
        if not decision:
            return decision
    if isinstance(target, type) or reach == ALL:
        return ALLOWED
    if reach == VISIBLE:
        return ALLOWED if _is_visible(user, target) else _refused(_NOT_SEEN)
    if reach == SHARED:
        owner_id = getattr(target, "owner_id", None)
        return ALLOWED if owner_id == user.id or target.is_shared else _refused(_NOT_SEEN)
    if reach == SELF:
        if getattr(target, "id", None) != user.id or (field and field not in SELF_FIELDS):
            return _refused(_SELF_ONLY)
        return ALLOWED
    not_theirs = _owned(user, target, stored=False)
    return ALLOWED if not_theirs is None else _refusal(user, action, target, not_theirs)


def _may_set(user: Any, kind: str, field: str) -> Decision:
    rule = FIELD_RULES.get((kind, field))
    if rule is None or rule[ROLES.index(role_of(user))] != NONE:
        return ALLOWED
    reason = _FIELD_REFUSALS.get((kind, field)) or _FIELD_REFUSALS.get(
        (kind, field.removesuffix("_id")), _NOBODY
    )
    return _refused(reason)


def ensure(user: Any, action: str, target: Any, field: str | None = None) -> None:
    """:func:`may`, raising :class:`PermissionDenied` with the reason when refused."""
    decision = may(user, action, target, field)
    if not decision:
        raise PermissionDenied(decision.reason)


def _is_visible(user: Any, obj: Any) -> bool:
    session = inspect(obj).session
    if session is None or obj.id is None:
        return True  # not stored yet: what the user types is theirs to see
    model = type(obj)
    condition = readable_rows(user, model)
    found = session.execute(
        select(model.id).where(model.id == obj.id, condition)
    ).first()  # fmt: skip
    return found is not None


def ensure_may_change(user: Any, customer: Any, what: str) -> None:
    """Admins and managers change any customer; role ``user`` only customers they own (as
    ``customer`` is in memory). ``what``: a key of :data:`_REFUSALS` (the refusal's wording)."""
    if user is None:
        return
    role = role_of(user)
    if role in ("admin", "manager"):
        return
    if role == "user" and customer.owner_id is not None and customer.owner_id == user.id:
        return
    raise PermissionDenied(str(_REFUSALS[what]) % {"customer": _label(customer)})


def check_write(user: Any, action: str, obj: Any, fields: Iterable[str] = ()) -> Decision:
    """May ``user`` write this row: ``create`` (as it would be saved), ``edit`` (as stored
    and as it would be saved) or ``delete`` (as stored), setting each of ``fields``? The
    question the views and the session backstop ask before anything is written."""
    if user is None:
        return ALLOWED
    decision = may(user, action, type(obj))
    if not decision:
        return decision
    reach = scope(user, action, obj)
    defaults = creation_defaults(user, type(obj)) if action == "create" else {}
    for name in fields:
        if name in defaults or name.removesuffix("_id") in defaults:
            continue  # checked below: the row as it would be saved
        if reach == SELF:
            decision = ALLOWED if name in SELF_FIELDS else _refused(_SELF_ONLY)
        else:
            decision = _may_set(user, kind_of(obj) or "", name)
        if not decision:
            return decision
    if reach == ALL:
        return ALLOWED
    if reach == SELF:
        return may(user, action, obj)
    if reach == VISIBLE:
        return ALLOWED if _is_visible(user, obj) else _refused(_NOT_SEEN)
    for stored in {"create": (False,), "delete": (True,)}.get(action, (True, False)):
        not_theirs = _owned(user, obj, stored)
        if not_theirs is not None:
            return _refusal(user, action, obj, not_theirs)
    return ALLOWED


def changed_fields(obj: Any) -> list[str]:
    """The attributes of a row changed in its session and not flushed yet."""
    state = inspect(obj)
    return [attr.key for attr in state.attrs if attr.history.has_changes()]


def settable_fields(user: Any, model: type, obj: Any = None) -> frozenset[str]:
    """The columns and relationships of ``model`` that ``user`` may set (on ``obj`` when
    given: a user row that is their own)."""
    mapper = inspect(model)
    names = set(mapper.column_attrs.keys()) | set(mapper.relationships.keys())
    return frozenset(name for name in names if name not in forbidden_fields(user, model, obj))


def forbidden_fields(user: Any, model: type, obj: Any = None) -> frozenset[str]:
    """The fields a form of ``model`` must not let ``user`` set (shown read-only, and refused
    if posted)."""
    if user is None:
        return frozenset()
    kind = kind_of(model)
    role = role_of(user)
    if kind == "user" and role != "admin":
        mapper = inspect(model)
        names = set(mapper.column_attrs.keys()) | set(mapper.relationships.keys())
        return frozenset(names - SELF_FIELDS)
    return frozenset(
        field
        for (rule_kind, field), scopes in FIELD_RULES.items()
        if rule_kind == kind and (not role or scopes[ROLES.index(role)] == NONE)
    )


def creation_defaults(user: Any, model: type) -> dict[str, Any]:
    """Values a new row gets from who creates it: role ``user``'s new customers are theirs."""
    if model is Customer and role_of(user) == "user":
        return {"owner": user}
    return {}


# --- SQL: the rows a user may reach -----------------------------------------------------------


def _own_customers(user_id: Any):
    return select(Customer.id).where(Customer.owner_id == user_id)


def _own_projects(user_id: Any):
    return select(Project.id).where(Project.customer_id.in_(_own_customers(user_id)))


def readable_rows(user: Any, model: type) -> ColumnElement[bool]:
    """The rows of ``model`` that ``user`` may list, see and export."""
    reach = scope(user, "list", model)
    if reach == ALL:
        return true()
    if reach == VISIBLE:
        return visible_invoices(user) if model is Invoice else visible_costs(user)
    if reach == SHARED:
        return or_(SavedReport.owner_id == user.id, SavedReport.is_shared.is_(True))
    return false()


def changeable_rows(user: Any, model: type, action: str = "edit") -> ColumnElement[bool]:
    """The rows of ``model`` that ``user`` may ``action`` (edit, delete...), as stored."""
    reach = scope(user, action, model)
    if reach == ALL:
        return true()
    if reach == NONE or user is None:
        return false()
    user_id = user.id
    if reach == SELF:
        return model.id == user_id
    kind = kind_of(model)
    if kind == "customer":
        return Customer.owner_id == user_id
    if kind == "saved_report":
        return SavedReport.owner_id == user_id
    if kind == "mass_update":
        return MassUpdateBatch.user_id == user_id
    if model in (Proposal, Cost):
        return model.project_id.in_(_own_projects(user_id))
    if model is Invoice:
        own = Invoice.customer_id.in_(_own_customers(user_id))
        return own & (Invoice.project_id.is_(None) | Invoice.project_id.in_(_own_projects(user_id)))
    return model.customer_id.in_(_own_customers(user_id))


# --- the backstop: every flush of the module's session ------------------------------------------


def check_flush(session: Session, user: Any) -> None:
    """Refuse (:class:`PermissionDenied`) a flush that writes what ``user`` may not: every
    new, changed and deleted row of a kind in :data:`MATRIX`. ``user=None``: the system."""
    if user is None:
        return
    for action, rows in (
        ("create", session.new),
        ("edit", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in list(rows):
            if kind_of(obj) is None:
                continue
            fields: list[str] = []
            if action == "edit":
                if not session.is_modified(obj):
                    continue
                fields = changed_fields(obj)
            elif action == "create":
                fields = [name for name in changed_fields(obj) if getattr(obj, name) is not None]
            decision = check_write(user, action, obj, fields)
            if not decision:
                raise PermissionDenied(decision.reason)


def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    check_flush(session, acting_user())


def install_backstop(session_factory: Any) -> None:
    """Check every flush of sessions made by ``session_factory`` (the module's own, never
    SQLAlchemy's global ``Session`` class) against the matrix, for :func:`acting_user`."""
    if not event.contains(session_factory, "before_flush", _before_flush):
        event.listen(session_factory, "before_flush", _before_flush)


# --- the matrix written down (the README's table is this; a test keeps them equal) -----------

_OBJECTS = {
    "customer": "customer",
    "customer_part": "its addresses, e-invoicing addresses, contacts",
    "project": "project, sales case",
    "proposal": "proposal",
    "invoice": "invoice",
    "cost": "cost",
    "setting": "settings lists",
    "user": "user",
    "saved_report": "saved report",
    "mass_update": "mass update (edit: undo)",
}
_CELLS = {ALL: "all", OWN: "own", VISIBLE: "seen", SHARED: "own, shared", SELF: "self", NONE: "—"}


def _cell(scopes: tuple[str, str, str]) -> str:
    if len(set(scopes)) == 1:
        return _CELLS[scopes[0]]
    return " / ".join(_CELLS[s] for s in scopes)


def matrix_markdown() -> str:
    """:data:`MATRIX` and :data:`FIELD_RULES` as a Markdown table (cells: admin / manager /
    user, or one word when all three agree)."""
    columns = (*READ_ACTIONS, *WRITE_ACTIONS)
    lines = [
        "| object | " + " | ".join(columns) + " | more actions | fields only some may set |",
        "|---" * (len(columns) + 3) + "|",
    ]
    for kind, label in _OBJECTS.items():
        row = MATRIX[kind]
        more = ", ".join(
            f"{action}: {_cell(scopes)}" for action, scopes in row.items() if action not in columns
        )
        fields = ", ".join(
            f"{field}: {_cell(scopes)}"
            for (rule_kind, field), scopes in FIELD_RULES.items()
            if rule_kind == kind and not field.endswith("_id")
        )
        if kind == "user":
            fields = "self: " + ", ".join(sorted(SELF_FIELDS - {"new_password"}))
        cells = [_cell(row[action]) for action in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {more} | {fields} |")
    return "\n".join(lines) + "\n"
