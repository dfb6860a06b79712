"""How the stored codes of the domain read in the UI (translated when shown)."""

from __future__ import annotations

from ..i18n import lazy_gettext, lazy_pgettext

#: Project.kind
PROJECT_KIND_LABELS = {
    "project": lazy_gettext("Project"),
    "sales_case": lazy_gettext("Sales case"),
}
#: Project.sales_status
SALES_STATUS_LABELS = {
    # TRANSLATORS: sales status of a project or sales case
    "in_progress": lazy_pgettext("sales status", "In progress"),
    # TRANSLATORS: sales status of a project or sales case
    "won": lazy_pgettext("sales status", "Won"),
    # TRANSLATORS: sales status of a project or sales case
    "lost": lazy_pgettext("sales status", "Lost"),
}
#: Address.kind
ADDRESS_KIND_LABELS = {
    # TRANSLATORS: kind of address (its type), short: the address where the company is visited
    "visiting": lazy_pgettext("address kind", "Visiting"),
    # TRANSLATORS: kind of address (its type), short: the postal address
    "postal": lazy_pgettext("address kind", "Postal"),
    # TRANSLATORS: kind of address (its type), short: the billing address
    "billing": lazy_pgettext("address kind", "Billing"),
}
#: User.role
ROLE_LABELS = {
    # TRANSLATORS: user role
    "admin": lazy_pgettext("role", "Admin"),
    # TRANSLATORS: user role
    "manager": lazy_pgettext("role", "Manager"),
    # TRANSLATORS: user role: an ordinary user, who may change only the customers they own
    "user": lazy_pgettext("role", "User"),
}


def label(labels, code: str | None) -> str:
    """The label of ``code`` in ``labels``, else the code itself."""
    return str(labels.get(code, code or ""))
