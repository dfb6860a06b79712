"""Customer cards as services, one module per feature:

- ``lookup``: numbering, the Summary search, duplicates, move and merge targets, merge links;
- ``card``: deletion rules, the card's rows, e-invoicing addresses, the website;
- ``moves``: moving projects between customers (the Severa rule);
- ``merge_plan`` and ``merge``: merging a duplicate (the preview, then one transaction);
- ``activation``: inactivating and reactivating;
- ``defaults``: what a new customer starts with (owner, status);
- ``unit_of_work``: what the write operations share.

The public names are importable from here (``from custreg_admin.services import customers``).
"""

from ...rules.moves import ProjectMoveBlocked
from .activation import set_active
from .card import (
    CardRecords,
    card_records,
    deletion_blockers,
    einvoice_values,
    ensure_deletable,
    keep_one_default,
    stored,
    website_link,
    website_value,
)
from .defaults import default_status, keep_one_default_status, new_customer_defaults
from .lookup import (
    FIRST_CUSTOMER_NUMBER,
    Duplicates,
    count_inactivated_matches,
    duplicates_for_save,
    find_customers,
    find_duplicates,
    get_customer,
    likely_duplicates,
    merged_from,
    merged_into,
    next_customer_number,
    search_condition,
)
from .merge import merge_customers
from .merge_plan import (
    KEEP,
    MERGE_FIELDS,
    TAKE_DUPLICATE,
    FieldDifference,
    MergePlan,
    PlanItem,
    address_key,
    einvoice_key,
    plan_merge,
)
from .moves import (
    ProjectCheck,
    apply_customer_change,
    change_project_customer,
    check_invoice_project,
    ensure_project_deletable,
    move_projects,
    move_refusal,
    project_checks,
)

__all__ = [
    "default_status",
    "keep_one_default_status",
    "new_customer_defaults",
    "FIRST_CUSTOMER_NUMBER",
    "KEEP",
    "MERGE_FIELDS",
    "TAKE_DUPLICATE",
    "CardRecords",
    "Duplicates",
    "FieldDifference",
    "MergePlan",
    "PlanItem",
    "ProjectCheck",
    "ProjectMoveBlocked",
    "address_key",
    "apply_customer_change",
    "card_records",
    "change_project_customer",
    "check_invoice_project",
    "count_inactivated_matches",
    "deletion_blockers",
    "duplicates_for_save",
    "einvoice_key",
    "einvoice_values",
    "ensure_deletable",
    "ensure_project_deletable",
    "find_customers",
    "find_duplicates",
    "get_customer",
    "keep_one_default",
    "likely_duplicates",
    "merge_customers",
    "merged_from",
    "merged_into",
    "move_projects",
    "move_refusal",
    "next_customer_number",
    "plan_merge",
    "project_checks",
    "search_condition",
    "set_active",
    "stored",
    "website_link",
    "website_value",
]
