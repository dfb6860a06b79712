"""The access matrix (``custreg_admin.rules.access``), checked through every view of the app.

The model views and their forms come from the app itself (the module's registered views, their
forms and inline forms); every other endpoint of the module must be named in :data:`CUSTOM`
with the matrix action it performs, so that a view added later is covered or fails
:func:`test_every_view_and_endpoint_is_covered`. Per actor (admin, manager, a user on a row of a
customer they own, the same user on a colleague's row) every model view is asked to list, show,
create, edit, delete, bulk-delete and to take each field its form offers, with a valid session
and CSRF token as an attacker would; each answer must be what ``access.may`` /
``access.check_write`` say, each refusal must flash that reason and change no row.
"""

from __future__ import annotations

import html
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask import url_for
from flask_admin.contrib.sqla import ModelView
from sqlalchemy import inspect
from wtforms import BooleanField, DateField, DecimalField, HiddenField, PasswordField, SelectField
from wtforms.fields import FieldList

from custreg_admin.extensions import db
from custreg_admin.models import (
    Address,
    Contact,
    Customer,
    CustomerStatus,
    Industry,
    InvoiceStatus,
    InvoiceTemplate,
    MarketSegment,
    Proposal,
    VatRate,
)
from custreg_admin.rules import access
from custreg_admin.services import mass_update as mu
from custreg_admin.services.reports import make_spec
from custreg_admin.services.reports import saved as saved_reports

from .. import builders as b
from ..helpers import csrf_token, flashes, log_in, snapshot

ACTORS = ("admin", "manager", "owner", "stranger")

#: every endpoint of the module that is not one of a model view's standard ones, with what it
#: does in the matrix's words (``None``: reads nothing of a row, or is not an action on data)
CUSTOM = {
    "custreg_admin_home.index": None,
    "custreg_auth.login": None,
    "custreg_auth.logout": None,
    "custreg_language.set_language": ("edit", "self: the user's own language"),
    "custreg_customer.kpi_cards_view": ("list", "customer"),
    "custreg_customer.registry_search_view": ("create", "customer"),
    "custreg_customer.registry_fill_view": ("create", "customer"),
    "custreg_customer.registry_refresh_view": ("refresh", "customer"),
    "custreg_customer.inactivate_view": ("inactivate", "customer"),
    "custreg_customer.reactivate_view": ("reactivate", "customer"),
    "custreg_moves.index": None,
    "custreg_moves.search": ("list", "customer"),
    "custreg_moves.projects": ("move", "customer"),
    "custreg_moves.merge": ("merge", "customer"),
    "custreg_moves.history": ("details", "customer"),
    "custreg_mass_update.index": ("mass_update", "customer"),
    "custreg_mass_update.from_report": ("mass_update", "customer"),
    "custreg_mass_update.preview": ("mass_update", "customer"),
    "custreg_mass_update.apply_view": ("mass_update", "customer"),
    "custreg_mass_update.history": ("list", "mass_update"),
    "custreg_mass_update.batch_view": ("details", "mass_update"),
    "custreg_mass_update.undo_view": ("edit", "mass_update"),
    "custreg_import.index": ("create", "customer_import"),
    "custreg_import.template": ("create", "customer_import"),
    "custreg_import.review": ("create", "customer_import"),
    "custreg_import.status": ("create", "customer_import"),
    "custreg_import.errors": ("create", "customer_import"),
    "custreg_import.batch": ("edit", "customer_import"),
    "custreg_reports.index": ("list", "saved_report"),
    "custreg_reports.build_view": ("details", "saved_report"),
    "custreg_reports.download_view": ("export", "saved_report"),
    "custreg_reports.saved_action_view": ("edit", "saved_report"),
    "custreg_registries.index": None,
}
#: bulk actions of the model views and the matrix action each performs per ticked row
BULK_ACTIONS = {"delete": "delete", "mass_update": "mass_update"}
#: Flask-Admin's endpoints of every model view (``ajax_*``: the form's lookups of related rows)
STANDARD = {
    "index_view",
    "create_view",
    "edit_view",
    "details_view",
    "delete_view",
    "action_view",
    "export",
    "ajax_lookup",
    "ajax_update",
    "index",
}
_FLASH_TAG = re.compile(r"<[^>]+>")


# --- the world ------------------------------------------------------------------------------------


def _rows_of(customer, other_user):
    """A row of each kind hanging on ``customer``, and two deletable spares of each."""
    work = b.project(customer, manager=other_user, name=f"Work of {customer.name}")
    proposal = Proposal(project_id=work.id, number=f"P-{customer.id}", total=Decimal("10"))
    db.session.add(proposal)
    invoice = b.invoice(customer, "100.00", date(2026, 1, 5), project=work)
    cost = b.cost(work, "5.00", date(2026, 1, 5))
    db.session.add_all(
        [
            Address(customer_id=customer.id, kind="postal", street="Street 1", city="Town"),
            Contact(customer_id=customer.id, first_name="Cora", last_name="Contact"),
        ]
    )
    db.session.flush()
    rows = {"project": work.id, "proposal": proposal.id, "invoice": invoice.id, "cost": cost.id}
    spares = {"project": [], "proposal": [], "invoice": [], "cost": [], "customer": []}
    for n in range(2):
        spare = b.project(customer, name=f"Spare {n} of {customer.name}")
        spares["project"].append(spare.id)
        extra = Proposal(project_id=work.id, number=f"SP-{customer.id}-{n}", total=Decimal("1"))
        db.session.add(extra)
        db.session.flush()
        spares["proposal"].append(extra.id)
        spares["invoice"].append(b.invoice(customer, "1.00", date(2026, 1, 6)).id)
        spares["cost"].append(b.cost(work, "1.00", date(2026, 1, 6)).id)
        owner = customer.owner_id
        spares["customer"].append(b.customer(f"Spare {n} {customer.name}", owner=owner).id)
    return rows, spares


SETTINGS = {
    Industry: lambda n: Industry(name=f"Industry {n}", code=f"9{n}"),
    InvoiceTemplate: lambda n: InvoiceTemplate(name=f"Template {n}", language="fi"),
    VatRate: lambda n: VatRate(name=f"Rate {n}", percent=Decimal("10"), country="FI"),
    CustomerStatus: lambda n: CustomerStatus(name=f"Status {n}"),
    MarketSegment: lambda n: MarketSegment(name=f"Segment {n}"),
    InvoiceStatus: lambda n: InvoiceStatus(name=f"Invoice status {n}", counts_as_sent=False),
}


@pytest.fixture
def world(app, make_user):
    users = {
        "admin": make_user("admin", name="Ada Admin"),
        "manager": make_user("manager", name="Max Manager"),
        "me": make_user("user", name="Me Myself"),
        "other": make_user("user", name="Other Owner"),
    }
    spare_users = [make_user("user", name=f"Spare User {n}") for n in range(2)]
    with app.app_context():
        mine = b.customer("My Customer Oy", owner=users["me"])
        theirs = b.customer("Their Customer Oy", owner=users["other"])
        world = {"users": users, "customer": {"mine": mine.id, "theirs": theirs.id}}
        for side, customer, colleague in (("mine", mine, None), ("theirs", theirs, users["other"])):
            rows, spares = _rows_of(customer, colleague)
            for kind, row_id in rows.items():
                world.setdefault(kind, {})[side] = row_id
            for kind, ids in spares.items():
                world.setdefault(f"spare_{kind}", {})[side] = ids
        for model, make in SETTINGS.items():
            made = [make(n) for n in range(3)]
            db.session.add_all(made)
            db.session.flush()
            world[model.__name__] = {"row": made[0].id, "spares": [m.id for m in made[1:]]}
        world["User"] = {"row": users["other"].id, "spares": [u.id for u in spare_users]}
        spec = make_spec("customers", ["name"], {}, None, viewer=users["other"])
        world["report"] = saved_reports.create_report(users["other"], "Theirs", spec).id
        status = b.customer_status().id
        plan = mu.plan(users["other"], mu.Selection.of_ids([theirs.id]), "status", status)
        world["batch"] = mu.apply(users["other"], plan).id
        db.session.commit()
        db.session.remove()
    return world


# --- views and forms, from the app -------------------------------------------------------


def _module_views(app):
    state = app.extensions["custreg_admin"]
    return [view for view in state.admin._views if view.endpoint in state.blueprints]


def _model_views(app):
    return [view for view in _module_views(app) if isinstance(view, ModelView)]


def _kind(view) -> str:
    return access.kind_of(view.model)


def _sample(world, view, side: str, spare: int | None = None) -> int:
    """The id of a row of the view's model: on my customer (``mine``) or a colleague's."""
    kind = _kind(view)
    if kind == "setting" or kind == "user":
        entry = world[view.model.__name__]
        return entry["row"] if spare is None else entry["spares"][spare]
    if spare is not None:
        return world[f"spare_{kind}"][side][spare]
    return world[kind][side]


def _posted(field):
    """What a browser posts for ``field`` holding its current value (None: nothing)."""
    if isinstance(field, FieldList) or field.type in ("CSRFTokenField", "InlineModelFormList"):
        return None
    if isinstance(field, PasswordField):
        return None
    if isinstance(field, BooleanField):
        return "y" if field.data else None
    data = field.data
    if isinstance(data, list):
        return [str(inspect(item).identity[0]) for item in data]
    if hasattr(data, "__table__"):
        return str(inspect(data).identity[0])
    if data is None:
        return ""
    if isinstance(field, DateField):
        return data.isoformat()
    if isinstance(field, DecimalField | SelectField | HiddenField):
        return str(data)
    return str(data)


def _form_data(app, view, row_id: int) -> dict:
    """The view's edit form of the row, as a browser would post it unchanged."""
    with app.test_request_context():
        row = db.session.get(view.model, row_id)
        form = view.edit_form(obj=row)
        data = {}
        for field in form:
            value = _posted(field)
            if value is not None:
                data[field.name] = value
        db.session.remove()
    return data


def _probe(view) -> str:
    """A text field of the view's form to change in an edit."""
    for name in ("name", "number", "first_name"):
        if name in (view.form_columns or ()):
            return name
    return next(c for c in view.form_columns if c in ("amount", "total"))


def _changed(value: str, name: str, suffix: str = "X") -> str:
    if name in ("amount", "total"):
        return str(Decimal(value or "0") + 1)
    return f"{value}{suffix}"


def _expected(app, user, action: str, model, row_id: int | None = None, fields=()):
    """What the matrix says, in English (the flashed reason), for ``user`` on a row."""
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with db.session.no_autoflush:
            row = db.session.get(model, row_id) if row_id is not None else None
            if action == "create":
                decision = access.may(user, "create", model)
                if decision and row is not None:
                    fresh = model()
                    mapper = inspect(model)
                    for column in mapper.columns:
                        if not column.primary_key and column.foreign_keys:
                            setattr(
                                fresh,
                                mapper.get_property_by_column(column).key,
                                getattr(row, mapper.get_property_by_column(column).key),
                            )
                    for name, value in access.creation_defaults(user, model).items():
                        setattr(fresh, name, db.session.merge(value))
                    db.session.add(fresh)
                    decision = access.check_write(user, "create", fresh)
                    db.session.expunge(fresh)
            elif row is None:
                decision = access.may(user, action, model)
            else:
                decision = (
                    access.check_write(user, action, row, fields)
                    if action
                    in (
                        "edit",
                        "delete",
                    )
                    else access.may(user, action, row)
                )
        db.session.remove()
    return decision


# --- the tests ------------------------------------------------------------------------------


def test_every_view_and_endpoint_is_covered(app):
    """Every model view's model (and inline form's) has a kind in the matrix; every other
    endpoint of the module is named in CUSTOM. A new view fails here until it is covered."""
    assert len(_model_views(app)) >= 12
    for view in _model_views(app):
        assert access.kind_of(view.model) in access.MATRIX, view.endpoint
        assert isinstance(view, access_base()), view.endpoint
        for name, _text in view._actions:
            assert name in BULK_ACTIONS, (view.endpoint, name)
        for inline in getattr(view, "inline_models", None) or ():
            model = getattr(inline, "model", inline)
            assert access.kind_of(model) in access.MATRIX, (view.endpoint, model)
    model_endpoints = {view.endpoint for view in _model_views(app)}
    state = app.extensions["custreg_admin"]
    uncovered = []
    for rule in app.url_map.iter_rules():
        blueprint, _, name = rule.endpoint.rpartition(".")
        if blueprint not in state.blueprints or name == "static" or blueprint == "custreg_admin":
            continue
        if blueprint in model_endpoints and name in STANDARD:
            continue
        if rule.endpoint not in CUSTOM:
            uncovered.append(rule.endpoint)
    assert not uncovered, f"endpoints the access matrix test does not know: {uncovered}"
    assert set(CUSTOM) <= {rule.endpoint for rule in app.url_map.iter_rules()}  # none stale


def access_base():
    from custreg_admin.admin.base import ProtectedModelView

    return ProtectedModelView


def _edit_and_delete_are_refused(app, client, token, base, row_id) -> bool:
    before = snapshot(app)
    gone = "Record does not exist."
    data = {"csrf_token": token, "id": row_id, "name": "Taken", "rowid": row_id}
    for path in (f"edit/?id={row_id}", "delete/"):
        client.post(base + path, data=data)
        assert [m for _c, m in flashes(client)] == [gone], path
    client.post(base + "action/", data={**data, "action": "delete"})
    assert not any(c == "success" for c, _m in flashes(client))
    return snapshot(app) == before


def _actor(world, actor: str):
    user = world["users"]["me" if actor in ("owner", "stranger") else actor]
    side = "theirs" if actor == "stranger" else "mine"
    return user, side


@pytest.mark.parametrize("actor", ACTORS)
def test_every_model_view_answers_as_the_matrix_says(app, world, actor):
    user, side = _actor(world, actor)
    client = app.test_client()
    log_in(client, user)
    token = csrf_token(client, "/admin/")
    checked = 0
    for view in _model_views(app):
        model = view.model
        with app.test_request_context():
            base = url_for(f"{view.endpoint}.index_view")
        row_id = _sample(world, view, side)
        where = f"{view.endpoint} as {actor}"

        forbidden = access.forbidden_fields(user, model)
        # list and details
        listed = access.may(user, "list", model)
        response = client.get(base)
        assert (response.status_code == 200) == bool(listed), (where, "list", response.status_code)
        if not listed:  # the whole view is closed: every request is refused and changes nothing
            before = snapshot(app)
            for path in ("new/", f"edit/?id={row_id}", "delete/", "action/"):
                data = {"csrf_token": token, "id": row_id, "rowid": row_id, "action": "delete"}
                assert client.post(base + path, data=data).status_code == 403, (where, path)
            assert snapshot(app) == before, where
            checked += 1
            continue
        # downloads of the list: only where the view offers them and the matrix allows
        response = client.get(f"{base}export/csv/")
        exported = view.export_enabled and access.may(user, "export", model)
        assert (response.status_code == 200) == bool(exported), (where, "export")
        flashes(client)
        seen = _expected(app, user, "details", model, row_id)
        response = client.get(f"{base}details/?id={row_id}")
        assert (response.status_code == 200) == bool(seen), (where, "details")
        flashes(client)
        if not seen:  # what the user may not see does not exist for them
            assert _edit_and_delete_are_refused(app, client, token, base, row_id), where
            checked += 1
            continue

        # the edit form: each field it offers, locked or not as the matrix says
        data = _form_data(app, view, row_id)
        typed = {k: v for k, v in data.items() if k not in forbidden}  # disabled: not posted
        editable = _expected(app, user, "edit", model, row_id)
        response = client.get(f"{base}edit/?id={row_id}")
        if editable:
            page = response.get_data(as_text=True)
            for name in data:
                if name in ("csrf_token",) or name not in (view.form_columns or ()):
                    continue
                tag = re.search(rf'<[^>]*\bname="{re.escape(name)}"[^>]*>', page)
                assert tag, (where, name)
                assert ("disabled" in tag.group(0)) == (name in forbidden), (where, name)
                settable = access.may(user, "edit", model, name)
                assert bool(settable) == (name not in forbidden), (where, name)
            for name in forbidden & set(data):
                before = snapshot(app)
                posted = {**data, "csrf_token": token, name: str(world["users"]["other"].id)}
                page = client.post(f"{base}edit/?id={row_id}", data=posted).get_data(as_text=True)
                assert access.may(user, "edit", model, name).reason in html.unescape(page)
                assert snapshot(app) == before, (where, name)
                flashes(client)
        else:
            assert response.status_code == 302, (where, "edit form")
            assert [m for _c, m in flashes(client)] == [editable.reason], where

        # edit: change one text field
        probe = _probe(view)
        before = snapshot(app)
        posted = {**typed, "csrf_token": token, probe: _changed(data.get(probe, ""), probe)}
        response = client.post(f"{base}edit/?id={row_id}", data=posted)
        messages = flashes(client)
        if editable:
            assert response.status_code == 302, (where, "edit", messages, response.status_code)
            assert snapshot(app) != before, (where, "edit")
        else:
            assert snapshot(app) == before, (where, "edit")
            assert [m for _c, m in messages] == [editable.reason], (where, "edit")

        # create: a copy of the row (on the same customer)
        creatable = _expected(app, user, "create", model, row_id)
        before = snapshot(app)
        posted = {**typed, "csrf_token": token, probe: _changed(data.get(probe, ""), probe, "Y")}
        for column in model.__table__.columns:  # unique values: new ones
            if column.unique and column.name in posted and column.name != "email":
                posted[column.name] = _changed(posted[column.name], column.name, "Y")
        if "email" in posted:
            posted["email"] = f"new-{actor}@example.com"
        if "new_password" in (view.form_columns or ()):
            posted["new_password"] = "a-long-password"
        if model is Customer:
            posted["number"] = ""
        response = client.post(f"{base}new/", data=posted)
        messages = flashes(client)
        if creatable:
            assert response.status_code == 302, (where, "create", messages)
            assert snapshot(app) != before, (where, "create")
        else:
            assert snapshot(app) == before, (where, "create")
            if access.may(user, "create", model):  # the form is offered; the row is refused
                shown = [m for _c, m in messages] or [
                    html.unescape(response.get_data(as_text=True))
                ]
                assert creatable.reason in shown[0], (where, "create")

        # delete, one row and a bulk action
        spare = _sample(world, view, side, spare=0)
        deletable = _expected(app, user, "delete", model, spare)
        before = snapshot(app)
        client.post(f"{base}delete/", data={"csrf_token": token, "id": spare})
        messages = flashes(client)
        if deletable:
            assert snapshot(app) != before, (where, "delete", messages)
        else:
            assert snapshot(app) == before, (where, "delete")
            if access.may(user, "delete", model):
                assert [m for _c, m in messages] == [deletable.reason], (where, "delete")
        spare = _sample(world, view, side, spare=1)
        before = snapshot(app)
        for action_name, _text in view._actions:
            if action_name != "delete":
                continue
            client.post(
                f"{base}action/",
                data={"csrf_token": token, "action": "delete", "rowid": [spare]},
            )
            messages = flashes(client)
            if deletable:
                assert snapshot(app) != before, (where, "bulk delete", messages)
            else:
                assert snapshot(app) == before, (where, "bulk delete")
                assert len(messages) <= 1 and all(c == "error" for c, _m in messages), messages
        checked += 1
    assert checked == len(_model_views(app))


def test_the_documented_table_is_the_matrix():
    page = (Path(__file__).parents[2] / "docs" / "access.md").read_text(encoding="utf-8")
    assert access.matrix_markdown() in page
