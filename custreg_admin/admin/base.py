"""What every admin view of the module shares: login required, role checks, defaults.

Who is logged in comes from :func:`custreg_admin.extension.current_custreg_user` (the module's own
login, or the host's through ``CustReg.init_app(user_loader=..., access=...)``), never from
Flask-Login directly.
"""

from __future__ import annotations

from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.menu import MenuLink

from ..extension import (
    HOST_BASE_WRAPPER,
    current_custreg_user,
    custreg_may_access,
    custreg_unauthorized,
)
from ..i18n import TEMPLATE_HELPERS
from ..services.permissions import has_role


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
    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100, 500)
    can_view_details = True
    details_modal = False
    edit_modal = False
    create_modal = False


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
