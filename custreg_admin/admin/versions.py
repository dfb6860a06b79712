"""Edit forms that cannot undo someone else's change: see :mod:`custreg_admin.services.versions`."""

from __future__ import annotations

from flask import flash, g, request
from sqlalchemy.orm.exc import StaleDataError
from wtforms import HiddenField

from ..extensions import db
from ..models.versioning import advance
from ..services.versions import (
    StaleEdit,
    ensure_current,
    form_stamp,
    parse_stamp,
    stale_message,
)

#: the hidden fields an edit form carries (a view with form rules lists them, see CustomerView)
VERSION_FIELD, LOADED_AT_FIELD = "custreg_version", "custreg_loaded_at"


def _value(form, name: str):
    field = getattr(form, name, None)
    return None if field is None else field.data


class VersionedEditMixin:
    """For model views of versioned models (customers, projects, invoices, proposals).

    The edit form carries the version it showed and when it was loaded. Saving, a stale form is
    refused before anything is written, with a message naming what changed meanwhile and by
    whom; the form keeps what was typed (and its old version: saving again is refused again).
    ``advance_on_save``: every save advances the version, also when only inline rows changed.
    """

    advance_on_save = False

    def scaffold_form(self):
        form_class = super().scaffold_form()  # type: ignore[misc]
        setattr(form_class, VERSION_FIELD, HiddenField())
        setattr(form_class, LOADED_AT_FIELD, HiddenField())
        return form_class

    def edit_form(self, obj=None):
        form = super().edit_form(obj)  # type: ignore[misc]
        if request.method == "GET" and obj is not None:
            form[VERSION_FIELD].data = obj.version
            form[LOADED_AT_FIELD].data = form_stamp()
        return form

    def update_model(self, form, model) -> bool:
        # a list's inline-edit form has no hidden fields: only the write's version check applies
        loaded_at = _value(form, LOADED_AT_FIELD)
        g._custreg_editing = (model, loaded_at)
        try:
            ensure_current(model, _value(form, VERSION_FIELD), loaded_at)
        except StaleEdit as refused:
            flash(str(refused), "error")
            return False
        if self.advance_on_save:
            advance(model)
        return super().update_model(form, model)  # type: ignore[misc]

    def handle_view_exception(self, exc):
        """Someone saved between the comparison and the write: the database's version check
        refused it (SQLAlchemy's ``StaleDataError``); nothing was written."""
        editing = g.get("_custreg_editing")
        if isinstance(exc, StaleDataError) and editing is not None:
            db.session.rollback()
            model, loaded_at = editing
            flash(stale_message(model, parse_stamp(loaded_at)), "error")
            return True
        return super().handle_view_exception(exc)  # type: ignore[misc]
