"""Mass update of customers: plan (counts, preview, permission check), apply, audit and undo.

The steps, as the admin pages run them:

* A :class:`Selection` says which customers: ticked ids (:meth:`Selection.of_ids`), "all N
  matching the current search and filters" (:meth:`Selection.of_set` /
  :meth:`Selection.of_spec`, a
  :meth:`~custreg_admin.services.customer_filter.CustomerSet.to_spec` spec), or
  every customer of a Customers report (:meth:`Selection.of_report`).
* :func:`plan` checks the action's value and resolves the selection into the ids of the
  customers it holds *at that moment*: the frozen list :attr:`Plan.ids`, which the confirmation
  carries to :func:`apply`. A customer that begins to match later is not touched. The plan counts
  the customers that change, those already at the value and those the user may not change (role
  ``user`` changes only customers they own; admins and managers any), and previews the first
  :data:`PREVIEW_ROWS` rows as before -> after.
* :func:`apply` changes the frozen customers in one transaction, set-based: one
  ``INSERT ... SELECT`` records the before/after of every customer that changes
  (:class:`~custreg_admin.models.MassUpdateChange`), then one ``UPDATE ... FROM`` those change
  rows (or ``INSERT ... SELECT`` / ``DELETE`` of segment links) changes them; the same number of
  statements for 10 customers as for 100,000. Anything failing rolls all of it back and raises a
  :class:`~custreg_admin.errors.DomainError` with a message for the user. Permissions
  are checked again: nothing is applied while the selection holds customers the user may not
  change (:class:`SelectionRefused`).
* :func:`undo` restores the before-values of a batch for the customers whose field still holds
  the batch's after-value, in one transaction recorded as a batch of its own; the others are
  recorded as skipped with the reason.

Id lists of any length travel as *one* bound parameter (:func:`in_ids`): a PostgreSQL
``integer[]`` unnested, a JSON array read with SQLite's ``json_each``. No statement grows with
the selection, and neither database's limit on bound parameters applies.

Concurrency. The target customer rows are locked in id order before anything is read for the
update (``SELECT ... ORDER BY id FOR NO KEY UPDATE`` on PostgreSQL; ``FOR UPDATE`` for segment
actions, which also holds back concurrent segment-link inserts). Two mass updates over
overlapping customers run one after the other: the second waits, then sees the first's result,
so its before-values are the first's after-values and nothing is lost. SQLite has no row locks;
the first statement of :func:`apply` and :func:`undo` writes (the batch row), which takes
SQLite's database write lock for the whole transaction.

The modules: :mod:`.actions` (the action table, values, errors), :mod:`.selection` (selections,
counts, descriptions), :mod:`.planning` (plan and preview), :mod:`.steps` (the set-based write
steps apply and undo share), :mod:`.applying` (apply), :mod:`.undoing` (undo) and :mod:`.audit`
(the batches and their changes, read back). Import the names from this package.
"""

from __future__ import annotations

from ...rules.request_ids import MAX_SELECTED_IDS, InvalidSelection, in_ids, pack_ids, unpack_ids
from .actions import (
    ACTIONS,
    CLEAR,
    Action,
    AlreadyApplied,
    InvalidValue,
    MassUpdateFailed,
    NothingToApply,
    SelectionRefused,
    Value,
    check_value,
    get_action,
)
from .applying import apply
from .audit import ChangeRow, batch_changes, batches, undoing_batch
from .planning import PREVIEW_ROWS, Plan, PreviewRow, plan
from .selection import Selection, count_selection, describe_selection
from .undoing import (
    ALREADY_BACK,
    ALREADY_REMOVED,
    CHANGED_SINCE,
    OWNED_BY_OTHERS,
    OWNER_INACTIVE,
    SEGMENT_GONE,
    UndoPlan,
    plan_undo,
    skip_reason_label,
    undo,
)

__all__ = [
    "ACTIONS",
    "ALREADY_BACK",
    "ALREADY_REMOVED",
    "CHANGED_SINCE",
    "CLEAR",
    "MAX_SELECTED_IDS",
    "OWNED_BY_OTHERS",
    "OWNER_INACTIVE",
    "PREVIEW_ROWS",
    "SEGMENT_GONE",
    "Action",
    "AlreadyApplied",
    "ChangeRow",
    "InvalidSelection",
    "InvalidValue",
    "MassUpdateFailed",
    "NothingToApply",
    "Plan",
    "PreviewRow",
    "Selection",
    "SelectionRefused",
    "UndoPlan",
    "Value",
    "apply",
    "batch_changes",
    "batches",
    "check_value",
    "count_selection",
    "describe_selection",
    "get_action",
    "in_ids",
    "pack_ids",
    "plan",
    "plan_undo",
    "skip_reason_label",
    "undo",
    "undoing_batch",
    "unpack_ids",
]
