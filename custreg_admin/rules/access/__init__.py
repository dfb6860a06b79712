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

The package: :mod:`.matrix` (the table, the refusals, a user's role and scope), :mod:`.checks`
(the questions: :func:`may`, :func:`ensure`, :func:`check_write`, settable fields), :mod:`.rows`
(the same in SQL) and :mod:`.backstop` (the flush hook that enforces it).
"""

from .backstop import check_flush, install_backstop
from .checks import (
    changed_fields,
    check_write,
    creation_defaults,
    ensure,
    ensure_may_change,
    forbidden_fields,
    may,
    settable_fields,
)
from .matrix import (
    ALL,
    ALLOWED,
    CUSTOMER_ACTIONS,
    FIELD_RULES,
    KINDS,
    MATRIX,
    NONE,
    OWN,
    READ_ACTIONS,
    ROLES,
    SELF,
    SELF_FIELDS,
    SHARED,
    VISIBLE,
    WRITE_ACTIONS,
    Decision,
    kind_of,
    matrix_markdown,
    role_of,
    scope,
)
from .rows import changeable_rows, readable_rows

__all__ = [
    "ALL",
    "ALLOWED",
    "CUSTOMER_ACTIONS",
    "Decision",
    "FIELD_RULES",
    "KINDS",
    "MATRIX",
    "NONE",
    "OWN",
    "READ_ACTIONS",
    "ROLES",
    "SELF",
    "SELF_FIELDS",
    "SHARED",
    "VISIBLE",
    "WRITE_ACTIONS",
    "changeable_rows",
    "changed_fields",
    "check_flush",
    "check_write",
    "creation_defaults",
    "ensure",
    "ensure_may_change",
    "forbidden_fields",
    "install_backstop",
    "kind_of",
    "matrix_markdown",
    "may",
    "readable_rows",
    "role_of",
    "scope",
    "settable_fields",
]
