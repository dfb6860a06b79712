"""The language switcher: ``POST <module url>/language`` with ``locale`` (a key of
:data:`custreg_admin.i18n.LANGUAGES`), ``next`` (where to go back: a path on this site) and the
CSRF token.

A logged-in user's choice is saved in their profile (``custreg_user.locale``) and kept in the
session; a choice made while logged out (the login page) is kept in the session and saved to the
profile at the next login. Registered only when the module chooses the locale (not when a host
app's own locale selector does).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, session, url_for

from ..context import EXTENSION_KEY, current_custreg_user
from ..i18n import LANGUAGES, PENDING_KEY, SESSION_KEY, current_language, gettext
from ..security import safe_next
from ..services import users as user_service

language_blueprint = Blueprint("custreg_language", __name__)


def _home() -> str:
    return url_for("custreg_admin_home.index")


@language_blueprint.route("/language", methods=["POST"])
def set_language():
    back = safe_next(request.form.get("next")) or _home()
    code = (request.form.get("locale") or "").strip()
    if code not in LANGUAGES:
        flash(
            gettext(
                "There is no language %(code)s here; choose %(choices)s.",
                code=repr(code[:20]),
                choices=", ".join(LANGUAGES.values()),
            ),
            "error",
        )
        return redirect(back)
    session[SESSION_KEY] = code
    user = current_custreg_user()
    if user is not None and getattr(user, "id", None) is not None:
        user_service.set_locale(user.id, code)
        session.pop(PENDING_KEY, None)
    else:
        session[PENDING_KEY] = True
    return redirect(back)


def save_pending_language(user: Any) -> None:
    """At login: keep the language picked on the login page in the user's profile; else bring
    the profile's language into the session (the login page after logging out keeps it)."""
    code = session.get(SESSION_KEY)
    if session.pop(PENDING_KEY, False) and code in LANGUAGES:
        user_service.set_locale(user.id, code)
    elif getattr(user, "locale", None) in LANGUAGES:
        session[SESSION_KEY] = user.locale


def switcher() -> dict[str, Any] | None:
    """What the switcher template shows; None where the module does not choose the language."""
    state = current_app.extensions.get(EXTENSION_KEY)
    if state is None or not state.chooses_locale:
        return None
    current = current_language()
    return {
        "action": url_for("custreg_language.set_language"),
        "next": request.full_path.rstrip("?") if request else "",
        "current": current,
        "current_name": LANGUAGES[current],
        "options": LANGUAGES,
        "label": gettext("Language"),
    }
