"""Settings > Registries: the installed registry plugins, loaded or failed."""

from __future__ import annotations

from flask_admin import expose

from ..registries import ENTRY_POINT_GROUP, loaded_providers
from .base import ProtectedView


class RegistriesView(ProtectedView):
    @expose("/")
    def index(self):
        return self.render(
            "custreg_admin/registries.html",
            report=loaded_providers(),
            group=ENTRY_POINT_GROUP,
        )
