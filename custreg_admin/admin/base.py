"""What every admin view of the module shares: login required, role checks, defaults.

Who is logged in comes from :func:`custreg_admin.extension.current_custreg_user` (the module's own
login, or the host's through ``CustReg.init_app(user_loader=..., access=...)``), never from
Flask-Login directly.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_admin import BaseView
from flask_admin.actions import action
from flask_admin.babel import lazy_gettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.menu import MenuLink
from flask_admin.model import BaseModelView
from wtforms.fields.core import UnboundField
from wtforms.validators import StopValidation

from ..extension import (
    HOST_BASE_WRAPPER,
    current_custreg_user,
    custreg_may_access,
    custreg_unauthorized,
)
from ..i18n import TEMPLATE_HELPERS
from ..rules.ids import number_problem, parse_id, parse_ids
from ..rules.roles import has_role

#: the highest ``?page=`` a list accepts (page 0 beyond it)
MAX_PAGE = 1_000_000


class FitsColumn:
    """A WTForms validator: the number fits its column (see ``number_problem``)."""

    def __init__(self, column) -> None:
        self.column = column

    def __call__(self, form, field) -> None:
        problem = number_problem(self.column, field.data)
        if problem:
            raise StopValidation(problem)


class ProtectedMixin:
    """Views that need a logged-in user, and optionally one of some roles."""

    allowed_roles: tuple[str, ...] = ("admin", "manager", "user")

    def is_accessible(self) -> bool:
        return custreg_may_access(self.allowed_roles)

    def inaccessible_callback(self, name, **kwargs):
        return custreg_unauthorized()

    def render(self, template, **kwargs):
        """In a host's ``Admin``, pages extend the host's base template through a wrapper that
        adds the module's stylesheet (``admin_base_template`` is the host's otherwise). Every
        page gets the module's translation helpers (``_t``, ``_tn``, ``_tp``)."""
        kwargs.update(TEMPLATE_HELPERS)
        base = self.admin.theme.base_template  # type: ignore[attr-defined]
        if not base.startswith("custreg_admin/"):
            self._template_args.update(  # type: ignore[attr-defined]
                admin_base_template=HOST_BASE_WRAPPER, custreg_host_base_template=base
            )
        return super().render(template, **kwargs)  # type: ignore[misc]


class ProtectedView(ProtectedMixin, BaseView):
    pass


class ProtectedModelView(ProtectedMixin, ModelView):
    """A model view of the module; ids from requests are integers before they reach SQL."""

    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100, 500)
    can_view_details = True
    details_modal = False
    edit_modal = False
    create_modal = False

    def _get_list_extra_args(self):
        """The list's arguments, with a page number that can be an OFFSET (a negative or
        astronomically large ``?page=`` would be a database error)."""
        view_args = super()._get_list_extra_args()
        if view_args.page is not None and not 0 <= view_args.page <= MAX_PAGE:
            view_args.page = 0
        return view_args

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        """Flask-Admin's ordering (the chosen column, else ``column_default_sort``), then the
        primary key as a unique last key: rows with equal sort values (a country, an account
        owner, a city...) come in one fixed order, so paging shows every row exactly once on
        every database. The key follows the chosen direction."""
        query, joins = super()._apply_sorting(query, joins, sort_column, sort_desc)
        descending = sort_desc if sort_column is not None else self._default_sort_descending()
        keys = [key.desc() if descending else key.asc() for key in self._unique_order_keys()]
        return query.order_by(*keys), joins

    def _unique_order_keys(self):
        """The model's primary key columns: the last key of every list order."""
        return list(sa.inspect(self.model).primary_key)

    def _default_sort_descending(self) -> bool:
        """The direction of the default sort's last column (False without a default)."""
        order = BaseModelView._get_default_order(self) or []
        return bool(order[-1][1]) if order else False

    def scaffold_form(self):
        """Flask-Admin's form, each number field first checked against its column (a number
        too large for ``Numeric(14, 2)`` or ``integer``, NaN or Infinity: a field error rather
        than a database error, also before a uniqueness check queries with it)."""
        form_class = super().scaffold_form()
        table = getattr(self.model, "__table__", None)
        for name, column in table.columns.items() if table is not None else ():
            unbound = getattr(form_class, name, None)
            if isinstance(unbound, UnboundField) and isinstance(
                column.type, sa.Numeric | sa.Integer
            ):
                validators = list(unbound.kwargs.get("validators") or ())
                unbound.kwargs["validators"] = [FitsColumn(column), *validators]
        return form_class

    @action(
        "delete",
        lazy_gettext("Delete"),
        lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids):
        """Flask-Admin's, with the ticked ids as integers: it binds them as text, which
        PostgreSQL refuses to compare with an integer key (a 500 instead of a deletion).
        Anything that is not a plain number is left out."""
        return super().action_delete(parse_ids(ids))

    def get_one(self, id):
        """The row of a request's ``id``; None (Flask-Admin: "Record does not exist") for
        anything that is not a valid id, rather than a database error."""
        row_id = parse_id(id)
        return None if row_id is None else super().get_one(str(row_id))


class SettingsModelView(ProtectedModelView):
    """Settings lists: everyone logged in reads them, admins and managers change them."""

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return has_role(current_custreg_user(), ("admin", "manager"))

    can_edit = can_create
    can_delete = can_create


class ProtectedMenuLink(MenuLink):
    def is_accessible(self) -> bool:
        return custreg_may_access()
