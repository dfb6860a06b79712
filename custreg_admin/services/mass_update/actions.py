"""The mass update actions and their values: the action table, value checks, errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import selectinload

from ...errors import DomainError, PermissionDenied
from ...extensions import db
from ...i18n import N_, gettext, lazy_gettext, lazy_pgettext, ngettext
from ...models import (
    CustomerStatus,
    Industry,
    InvoiceTemplate,
    MarketSegment,
    User,
    VatRate,
)
from ...rules.request_ids import (
    parse_id,
)


class InvalidValue(DomainError):
    """The action's value is missing, forged or no longer exists."""


class SelectionRefused(PermissionDenied):
    """Role ``user``: the selection holds customers owned by someone else."""

    def __init__(self, refused: int, permitted: int) -> None:
        super().__init__(
            ngettext(
                "%(num)s of the selected customers is owned by someone else; you may only "
                "update your own. Nothing was changed.",
                "%(num)s of the selected customers are owned by someone else; you may only "
                "update your own. Nothing was changed.",
                refused,
            )
        )
        self.refused = refused
        self.permitted = permitted


class MassUpdateFailed(DomainError):
    """The database refused a step; everything was rolled back."""


class NothingToApply(DomainError):
    """Every selected customer already has the value: nothing to change, nothing recorded."""

    def __init__(self, selected: int) -> None:
        super().__init__(
            ngettext(
                "Nothing to apply: the selected customer already has that value. Nothing was "
                "changed or recorded.",
                "Nothing to apply: all %(num)s selected customers already have that value. "
                "Nothing was changed or recorded.",
                selected,
            )
        )
        self.selected = selected


class AlreadyApplied(DomainError):
    """This confirmation was applied before (a second click, the browser's back button)."""

    def __init__(self, batch_id: int | None) -> None:
        super().__init__(
            gettext(
                "This mass update has already been applied (mass update #%(id)s); nothing more "
                "was changed.",
                id=batch_id,
            )
            if batch_id
            else gettext("This mass update has already been applied; nothing more was changed.")
        )
        self.batch_id = batch_id


# --------------------------------------------------------------------------- actions and values


@dataclass(frozen=True)
class Action:
    """One of the seven mass update actions.

    Field actions set ``column`` of :class:`Customer` to one row of ``model`` (its relationship
    on ``Customer`` is named like the action); segment actions add or remove links. The texts
    are translated when shown: ``label`` (the action), ``field_label`` (its value's field),
    ``choose`` (no value given), ``missing`` (no such value, ``%(id)s``), ``previous_gone`` (an
    undo's skip reason: English, kept so in the database and translated when shown) and
    ``clear_label`` (the choice that clears a clearable field).
    """

    key: str
    label: Any
    field_label: Any
    model: Any
    column: str | None = None
    segments: str | None = None  # "add" or "remove"
    clearable: bool = False
    choose: Any = ""
    missing: Any = ""
    previous_gone: str = ""
    clear_label: Any = ""

    @property
    def is_segments(self) -> bool:
        return self.segments is not None


ACTIONS: Mapping[str, Action] = {
    action.key: action
    for action in (
        Action(
            "owner",
            lazy_gettext("Change account owner"),
            lazy_gettext("Account owner"),
            User,
            column="owner_id",
            choose=lazy_gettext("Choose the account owner."),
            missing=lazy_gettext("There is no account owner #%(id)s; choose one from the list."),
            previous_gone=N_("The previous account owner no longer exists"),
        ),
        Action(
            "industry",
            lazy_gettext("Change industry"),
            lazy_gettext("Industry"),
            Industry,
            column="industry_id",
            clearable=True,
            choose=lazy_gettext("Choose the industry, or “(none)” to clear it."),
            missing=lazy_gettext("There is no industry #%(id)s; choose one from the list."),
            previous_gone=N_("The previous industry no longer exists"),
            clear_label=lazy_gettext("(none) — clear the industry"),
        ),
        Action(
            "invoice_template",
            lazy_gettext("Change invoice template"),
            lazy_gettext("Invoice template"),
            InvoiceTemplate,
            column="invoice_template_id",
            choose=lazy_gettext("Choose the invoice template."),
            missing=lazy_gettext("There is no invoice template #%(id)s; choose one from the list."),
            previous_gone=N_("The previous invoice template no longer exists"),
        ),
        Action(
            "vat_rate",
            lazy_gettext("Change default invoicing VAT"),
            lazy_gettext("Default invoicing VAT"),
            VatRate,
            column="vat_rate_id",
            choose=lazy_gettext("Choose the default invoicing VAT."),
            missing=lazy_gettext(
                "There is no default invoicing VAT #%(id)s; choose one from the list."
            ),
            previous_gone=N_("The previous default invoicing VAT no longer exists"),
        ),
        Action(
            "status",
            lazy_gettext("Change status"),
            # TRANSLATORS: a customer's status (a settings list: Active, Passive, ...)
            lazy_pgettext("field", "Status"),
            CustomerStatus,
            column="status_id",
            choose=lazy_gettext("Choose the status."),
            missing=lazy_gettext("There is no status #%(id)s; choose one from the list."),
            previous_gone=N_("The previous status no longer exists"),
        ),
        Action(
            "add_segments",
            lazy_gettext("Add market segments"),
            lazy_gettext("Market segments"),
            MarketSegment,
            segments="add",
        ),
        Action(
            "remove_segments",
            lazy_gettext("Remove market segments"),
            lazy_gettext("Market segments"),
            MarketSegment,
            segments="remove",
        ),
    )
}


def get_action(action: str | Action) -> Action:
    if isinstance(action, Action):
        return action
    found = ACTIONS.get(str(action or ""))
    if found is None:
        raise InvalidValue(gettext("Choose what to change: there is no such mass update action."))
    return found


#: The explicit "(none)" choice of a clearable field (industry): the only value that clears it.
CLEAR = "none"


@dataclass(frozen=True)
class Value:
    """An action's checked value: one id (none: cleared) or, for segments, several."""

    ids: tuple[int, ...]
    label: str

    @property
    def id(self) -> int | None:
        return self.ids[0] if self.ids else None

    def raw(self, action: Action) -> Any:
        """The value as :func:`check_value` takes it (:data:`CLEAR` when cleared)."""
        if action.is_segments:
            return list(self.ids)
        return self.id if self.id is not None else CLEAR

    def as_json(self, action: Action) -> dict[str, Any]:
        return {"ids": list(self.ids)} if action.is_segments else {"id": self.id}


def _as_id(value: Any, what: str) -> int:
    parsed = parse_id(value)
    if parsed is not None:
        return parsed
    raise InvalidValue(
        gettext(
            "%(field)s: %(value)s is not one of the choices.",
            field=what,
            value=repr(str(value)[:40]),
        )
    )


def check_value(action: str | Action, value: Any) -> tuple[Action, Value]:
    """Check an action's value; raises :class:`InvalidValue` with a message for the user.

    Field actions take an id; a clearable field (industry) also takes :data:`CLEAR`, its explicit
    "(none)" choice. No value (``None``, ``""``: a form's placeholder) is an error for every
    action, so that a form posted without a choice never clears anything. The owner must be an
    active user. Segment actions take one or more segment ids. Ids may be given as digit strings.
    """
    act = get_action(action)
    if act.is_segments:
        given = [value] if isinstance(value, int | str) else list(value or ())
        ids = sorted({_as_id(v, gettext("Market segment")) for v in given if v not in (None, "")})
        if not ids:
            raise InvalidValue(gettext("Choose at least one market segment."))
        rows = db.session.scalars(
            select(MarketSegment)
            .where(MarketSegment.id.in_(ids))
            .options(selectinload(MarketSegment.parent))
        ).all()
        missing = sorted(set(ids) - {row.id for row in rows})
        if missing:
            raise InvalidValue(
                gettext(
                    "Market segment #%(id)s does not exist; choose segments from the list.",
                    id=missing[0],
                )
            )
        return act, Value(tuple(ids), ", ".join(sorted(str(row) for row in rows)))
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidValue(str(act.choose))
    if act.clearable and value == CLEAR:
        return act, Value((), gettext("(none)"))
    row_id = _as_id(value, str(act.field_label))
    row = db.session.get(act.model, row_id)
    if row is None:
        raise InvalidValue(str(act.missing) % {"id": row_id})
    if act.model is User and not row.is_active:
        raise InvalidValue(
            gettext(
                "%(name)s is not an active user; choose an active user as the account owner.",
                name=row.name,
            )
        )
    return act, Value((row_id,), str(row))


def _labels(model, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    query = select(model).where(model.id.in_(wanted))
    if model is MarketSegment:
        query = query.options(selectinload(MarketSegment.parent))
    found = {row.id: str(row) for row in db.session.scalars(query)}
    return {i: found.get(i, gettext("#%(id)s (deleted)", id=i)) for i in wanted}
