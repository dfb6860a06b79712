"""The matrix table: which rows each role may reach for each kind of object and action, which
fields only some may set, the refusal messages, a user's role and scope, and the table
written down for the README."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect

from ...i18n import lazy_gettext
from ...models import (
    Address,
    Contact,
    Cost,
    Customer,
    CustomerStatus,
    EInvoiceAddress,
    ImportBatch,
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
    # a customer import is applied (create) and undone (edit); admins and managers only
    "customer_import": _row((ALL, ALL, NONE), (ALL, ALL, NONE), delete=(NONE, NONE, NONE)),
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
    ImportBatch: "customer_import",
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
    "customer_import": lazy_gettext("Only administrators and managers can import customers."),
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
    "customer_import": "customer import (edit: undo)",
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
