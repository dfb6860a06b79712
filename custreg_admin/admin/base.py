"""What every admin view of the module shares: login required, role checks, defaults.

Who is logged in comes from :func:`custreg_admin.context.current_custreg_user` (the module's own
login, or the host's through ``CustReg.init_app(user_loader=..., access=...)``), never from
Flask-Login directly.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_admin.actions import action
from flask_admin.babel import gettext as admin_gettext
from flask_admin.babel import lazy_gettext
from flask_admin.babel import ngettext as admin_ngettext
from flask_admin.contrib.sqla import ModelView
from flask_admin.helpers import get_redirect_target
from flask_admin.menu import MenuLink
from flask_admin.model import BaseModelView
from wtforms.fields.core import UnboundField
from wtforms.validators import StopValidation

from ..context import _logged_in_user, current_custreg_user, custreg_state
from ..errors import DomainError, PermissionDenied
from ..extensions import db
from ..i18n import TEMPLATE_HELPERS, gettext
from ..rules import access
from ..rules.request_ids import number_problem, parse_id, parse_ids
from ..rules.roles import may_use_module
from .formatting import DETAIL_FORMATTERS, LIST_FORMATTERS
from .inline import InlineConverter

log = logging.getLogger(__name__)

#: the highest ``?page=`` a list accepts (page 0 beyond it)
MAX_PAGE = 1_000_000
#: Wraps a host's base template to add the module's stylesheet (see :meth:`ProtectedMixin.render`).
HOST_BASE_WRAPPER = "custreg_admin/host_base.html"


def custreg_may_access(roles: tuple[str, ...] | None = None) -> bool:
    """Whether the logged-in user may use the module (and has one of ``roles``, if given)."""
    return may_use_module(current_custreg_user(), roles)


def custreg_unauthorized():
    """The answer to a request the current user may not make: 403 when someone is logged in,
    else the login page of whoever does the login (the module's, or the host's LoginManager)."""
    if _logged_in_user() is not None:
        abort(403)
    state = custreg_state()
    if state.own_login:
        return redirect(url_for("custreg_auth.login", next=request.full_path.rstrip("?")))
    manager = getattr(current_app, "login_manager", None)
    if manager is not None:
        return manager.unauthorized()
    abort(401)


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


def _lock(field, obj, reason: str) -> None:
    """A form field the user may not set: shown read-only with the row's value, never copied
    into the row, and refused (with ``reason``) when a request posts it anyway."""
    posted = field.name in request.form if request.method == "POST" else False
    field.render_kw = {**(field.render_kw or {}), "disabled": True}
    field.flags.required = False
    if obj is not None and hasattr(obj, field.name):
        field.data = getattr(obj, field.name)

    def validate(form, extra_validators=()):
        field.errors = [reason] if posted else []
        return not posted

    field.validate = validate
    field.populate_obj = lambda obj, name: None


class ProtectedModelView(ProtectedMixin, ModelView):
    """A model view of the module, every permission from the access matrix
    (:mod:`custreg_admin.rules.access`): the menu entry and the list (``list``), the list and
    count queries and ``get_one`` (the rows the user may see), create / edit / delete (the
    buttons, then each row as stored and as it would be saved), each bulk action, the form's
    fields (those the user may not set are read-only and refused if posted) and the details.
    Refusals say why and change nothing; database refusals never show their raw text.

    Ids from requests are integers before they reach SQL.
    """

    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100, 500)
    column_type_formatters = LIST_FORMATTERS
    inline_model_form_converter = InlineConverter
    column_type_formatters_detail = DETAIL_FORMATTERS
    can_view_details = True
    details_modal = False
    edit_modal = False
    create_modal = False
    #: the view offers Flask-Admin's list export (then as the matrix's ``export`` allows)
    export_enabled = False
    #: a domain check before a row is deleted (e.g. what still refers to it), raising DomainError
    deletion_check = None

    # --- the matrix --------------------------------------------------------------------------

    def _may(self, action: str, target=None) -> access.Decision:
        return access.may(current_custreg_user(), action, self.model if target is None else target)

    def is_accessible(self) -> bool:
        return super().is_accessible() and bool(self._may("list"))

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return bool(self._may("create"))

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return bool(self._may("edit"))

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return bool(self._may("delete"))

    @property
    def can_export(self) -> bool:  # type: ignore[override]
        return self.export_enabled and bool(self._may("export"))

    def _visible(self, query):
        condition = access.readable_rows(current_custreg_user(), self.model)
        return query if isinstance(condition, sa.sql.elements.True_) else query.filter(condition)

    def get_query(self):
        return self._visible(super().get_query())

    def get_count_query(self):
        return self._visible(super().get_count_query())

    def get_one(self, id):
        """The row of a request's ``id`` among those the user may see; None (Flask-Admin:
        "Record does not exist") for anything else, also for anything that is not an id."""
        row_id = parse_id(id)
        if row_id is None:
            return None
        return self.get_query().filter(self.model.id == row_id).one_or_none()

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self):
        """Flask-Admin's, refused at once (the form is not even shown) for a row the user may
        not edit as stored."""
        model = self.get_one(request.args.get("id"))
        if model is not None:
            decision = self._may("edit", model)
            if not decision:
                flash(decision.reason, "error")
                return redirect(get_redirect_target() or self.get_url(".index_view"))
        return super().edit_view()

    def _lock_fields(self, form, obj=None):
        user = current_custreg_user()
        forbidden = access.forbidden_fields(user, self.model, obj)
        for name in forbidden:
            field = getattr(form, name, None)
            if field is not None:
                _lock(field, obj, access.may(user, "edit", self.model, name).reason)
        return form

    def create_form(self, obj=None):
        return self._lock_fields(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._lock_fields(super().edit_form(obj), obj)

    def _on_model_change(self, form, model, is_created):
        """Before the view's own ``on_model_change`` (which may call a service that commits):
        the row as the form made it, checked against the matrix."""
        user = current_custreg_user()
        if is_created:
            for name, value in access.creation_defaults(user, self.model).items():
                setattr(model, name, value)
        action = "create" if is_created else "edit"
        with db.session.no_autoflush:
            decision = access.check_write(user, action, model, access.changed_fields(model))
        if not decision:
            raise PermissionDenied(decision.reason)
        super()._on_model_change(form, model, is_created)

    def _deletion_problem(self, model) -> str | None:
        with db.session.no_autoflush:
            decision = access.check_write(current_custreg_user(), "delete", model)
        if not decision:
            return decision.reason
        if self.deletion_check is not None:
            try:
                type(self).deletion_check(model)
            except DomainError as error:
                return str(error)
        return None

    def delete_model(self, model) -> bool:
        problem = self._deletion_problem(model)
        if problem:
            flash(problem, "error")
            return False
        return super().delete_model(model)

    @action(
        "delete",
        lazy_gettext("Delete"),
        lazy_gettext("Are you sure you want to delete selected records?"),
    )
    def action_delete(self, ids):
        """The ticked rows, all deleted or none: one refusal (the first row's reason, or
        "Record does not exist." for a row the user may not see) and nothing deleted when any
        of them may not be. Ids that are not plain numbers are left out."""
        wanted = set(parse_ids(ids))
        rows = self.get_query().filter(self.model.id.in_(wanted)).all() if wanted else []
        if not rows or len(rows) != len(wanted):  # one the user may not see: as if missing
            flash(admin_gettext("Record does not exist."), "error")
            return None
        for row in rows:
            problem = self._deletion_problem(row)
            if problem:
                flash(problem, "error")
                return None
        session = db.session
        try:
            for row in rows:
                self.on_model_delete(row)
                session.delete(row)
            session.commit()
        except Exception as error:
            session.rollback()
            if not self.handle_view_exception(error):
                raise
            return None
        for row in rows:
            self.after_model_delete(row)
        count = len(rows)
        flash(
            admin_ngettext(
                "Record was successfully deleted.",
                "%(count)s records were successfully deleted.",
                count,
                count=count,
            ),
            "success",
        )
        return None

    def handle_view_exception(self, exc):
        """A rule's refusal shows its reason; a database refusal a clear message of its own
        (logged with the details), never the driver's text. Nothing is saved either way."""
        if isinstance(exc, DomainError):
            flash(str(exc), "error")
            return True
        if isinstance(exc, sa.exc.IntegrityError):
            log.warning("The database refused a change: %s", exc)
            flash(
                gettext(
                    "The database refused the change: another record still refers to this "
                    "one, or a value is already taken. Nothing was saved."
                ),
                "error",
            )
            return True
        if isinstance(exc, sa.exc.SQLAlchemyError) and not current_app.config.get(
            "FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION"
        ):
            log.exception("A database error in %s", self.endpoint)
            flash(gettext("The change could not be saved. Nothing was saved."), "error")
            return True
        return super().handle_view_exception(exc)

    # --- numbers that fit their columns ------------------------------------------------------

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


SettingsModelView = ProtectedModelView  # settings lists: read by all, changed as the matrix says


class ProtectedMenuLink(MenuLink):
    def is_accessible(self) -> bool:
        return custreg_may_access()
