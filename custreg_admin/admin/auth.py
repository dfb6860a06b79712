"""Log in and log out (Flask-Login, hashed passwords, CSRF through Flask-WTF)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length, ValidationError

from ..errors import DomainError
from ..i18n import TEMPLATE_HELPERS, current_language, gettext, lazy_gettext
from ..login_throttle import Verdict
from ..security import safe_next
from ..services.users import authenticate, end_sessions, valid_email
from .language import save_pending_language

auth_blueprint = Blueprint("custreg_auth", __name__)


def login_email(form, field) -> None:
    """The e-mail rule of :func:`custreg_admin.services.users.valid_email` (the one
    ``create-user`` applies too)."""
    try:
        valid_email(field.data or "")
    except DomainError as error:
        raise ValidationError(str(error)) from error


class LoginForm(FlaskForm):
    email = EmailField(
        lazy_gettext("E-mail"), validators=[DataRequired(), login_email, Length(max=254)]
    )
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(lazy_gettext("Keep me signed in"))
    next = HiddenField()


def _home() -> str:
    return url_for("custreg_admin_home.index")


@auth_blueprint.route("/login/", methods=["GET", "POST"])  # also with a trailing slash
@auth_blueprint.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or _home())
    form = LoginForm(next=request.args.get("next", ""))
    state = current_app.extensions["custreg_admin"]
    throttle = state.login_throttle
    status, headers = (401 if request.method == "POST" else 200), {}
    if form.validate_on_submit():
        ip = request.remote_addr or "unknown"
        verdict = throttle.check(form.email.data, ip) if throttle else Verdict()
        refusal = verdict.refusal
        if refusal is None and verdict.delay:
            time.sleep(verdict.delay)  # the account is under attack from elsewhere: slowed
        if refusal is not None:
            flash(
                gettext(
                    "Too many failed log-in attempts. Wait %(seconds)s seconds and try again.",
                    seconds=refusal.retry_after,
                ),
                "error",
            )
            status, headers = 429, {"Retry-After": str(refusal.retry_after)}
        else:
            user = authenticate(form.email.data, form.password.data)
            if user is None:
                if throttle:
                    throttle.failed(form.email.data, ip)
                flash(gettext("Wrong e-mail or password, or the account is not active."), "error")
            else:
                login_user(user, remember=form.remember.data)
                save_pending_language(user)
                return redirect(safe_next(form.next.data) or _home())
    return (
        render_template(
            "custreg_admin/login.html",
            form=form,
            admin_static=f"{state.admin.endpoint}.static",
            language=current_language(),
            **TEMPLATE_HELPERS,
        ),
        status,
        headers,
    )


@auth_blueprint.route("/logout", methods=["POST"])
def logout():
    """Log out here and end the user's sessions on the server: a copy of the session or of the
    remember-me cookie (another browser, a stolen cookie) stops working too."""
    if current_user.is_authenticated:
        end_sessions(current_user._get_current_object())
    logout_user()
    flash(gettext("You have been logged out."), "info")
    return redirect(url_for("custreg_auth.login"))
