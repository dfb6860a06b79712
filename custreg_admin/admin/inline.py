"""Inline forms (a customer's addresses, contacts) with the module's template: "Add address",
not Flask-Admin's "Add" followed by the capitalised label ("Lisää Osoite", "Legge til Adresse")."""

from __future__ import annotations

from flask_admin.contrib.sqla.form import InlineModelConverter, InlineModelFormList
from flask_admin.form.widgets import RenderTemplateWidget

from ..i18n import TEMPLATE_HELPERS


class InlineListWidget(RenderTemplateWidget):
    def __init__(self) -> None:
        super().__init__("custreg_admin/inline_field_list.html")

    def __call__(self, field, **kwargs):
        kwargs.update(TEMPLATE_HELPERS)
        return super().__call__(field, **kwargs)


class InlineFormList(InlineModelFormList):
    widget = InlineListWidget()


class InlineConverter(InlineModelConverter):
    """Flask-Admin's converter, building :class:`InlineFormList` fields."""

    inline_field_list_type = InlineFormList
