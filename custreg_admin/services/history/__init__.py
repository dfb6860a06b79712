"""The customer history: one choke point writes it, the card's History page reads it.

**Writing.** :func:`register` (called by ``CustReg.init_app``) puts two session events on the
module's own sessions (``db.session``'s sessionmaker, never SQLAlchemy's global ``Session``):

* ``before_flush`` notes what each row of a customer and of what hangs on it looked like before
  the flush (customers, their segments, addresses, e-invoicing addresses, contacts, projects,
  proposals, invoices and costs; and the costs a deleted project takes with it through
  ``ON DELETE CASCADE``);
* ``after_flush`` compares that with what was written and adds one
  :class:`~custreg_admin.models.CustomerEvent` per affected customer and row, in one
  ``INSERT``: the kind (``created``, ``edited``, ``contact_added`` ...), the before and after
  value of every changed field (names of related rows, not ids), who
  (:func:`custreg_admin.context.acting_user`; ``None``: the system) and when.

Services do not write history rows by hand. They annotate what the choke point will see
(:func:`note`: "this customer's change is a merge", "these values came from YTJ"), and tell it
about set-based statements, which ORM events do not see: :func:`record_move` (projects moved by
one guarded ``UPDATE``), :func:`record_merge_moves` and :func:`record_mass_update` (one
``INSERT ... SELECT`` from a mass update's audit rows, however many customers).

**Reading.** Entries keep structured details (``{"v": 2, "entity": ..., "changes": {field:
[before, after]}, ...}``); :func:`describe` turns one into text in the viewer's language when it
is shown, and leaves out the money (invoice totals, cost amounts, proposal totals) of rows the
viewer may not see (:func:`money_visibility`). ``message`` keeps an English summary without
money, for readers of the table itself.

The package: :mod:`.tracked` (what is followed, :func:`note`, row values), :mod:`.writer` (the
session events), :mod:`.entries` (building and writing entries), :mod:`.set_based` (moves, mass
updates, imports), :mod:`.reader` (the History page's queries) and :mod:`.describe` (an
entry as text).
"""

from .describe import FIELD_LABELS, Description, FieldChange, describe, kind_label
from .reader import changes_since, customer_history, kinds_of, money_visibility
from .set_based import record_import, record_mass_update, record_move
from .tracked import DETAILS_VERSION, ENTITIES, MONEY_FIELDS, note
from .writer import register

__all__ = [
    "DETAILS_VERSION",
    "ENTITIES",
    "FIELD_LABELS",
    "MONEY_FIELDS",
    "Description",
    "FieldChange",
    "changes_since",
    "customer_history",
    "describe",
    "kind_label",
    "kinds_of",
    "money_visibility",
    "note",
    "record_import",
    "record_mass_update",
    "record_move",
    "register",
]
