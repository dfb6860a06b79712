"""The questions asked of the matrix: a role, a scope, whether a user may do an action to a row
(as stored and as it would be saved), and which fields the user may set."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import inspect, select

from ...errors import PermissionDenied
from ...i18n import gettext
from ...models import (
    Cost,
    Customer,
    Invoice,
    Proposal,
)
from .matrix import (
    _FIELD_REFUSALS,
    _NO_CUSTOMER,
    _NOBODY,
    _NONE_REFUSALS,
    _NOT_SEEN,
    _PART_REFUSALS,
    _REFUSALS,
    _SELF_ONLY,
    ALL,
    ALLOWED,
    FIELD_RULES,
    NONE,
    ROLES,
    SELF,
    SELF_FIELDS,
    SHARED,
    VISIBLE,
    Decision,
    _refused,
    kind_of,
    role_of,
    scope,
)
from .rows import readable_rows

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
