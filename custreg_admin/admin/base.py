"""What every admin view of the module shares: login required, role checks, defaults."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_admin import BaseView
from flask_admin.contrib.sqla import ModelView
from flask_admin.menu import MenuLink
from flask_login import current_user

from ..services.permissions import has_role


class ProtectedMixin:
    """Views that need a logged-in user, and optionally one of some roles."""

    allowed_roles: tuple[str, ...] = ("admin", "manager", "user")

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated) and has_role(current_user, self.allowed_roles)

    def inaccessible_callback(self, name, **kwargs):
        if current_user.is_authenticated:
            abort(403)
        return redirect(url_for("custreg_auth.login", next=request.full_path.rstrip("?")))


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
        return has_role(current_user, ("admin", "manager"))

    can_edit = can_create
    can_delete = can_create


class ProtectedMenuLink(MenuLink):
    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated)
