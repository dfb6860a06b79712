"""Invariants that hold whatever code touches the database, and no lost updates (issue 14).

* The database refuses, on SQLite and PostgreSQL alike, what a raw write could break: moving a
  project with invoices or proposals, an invoice on another customer's project, a market segment
  loop of any length.
* The module's project-move guard is on its own sessions only: a host's sessions are untouched.
* Customers, projects, invoices and proposals carry a version; a stale edit form is refused with
  what changed meanwhile and by whom, nothing is overwritten, and set-based changes (mass updates,
  moves, merges, registry refreshes) advance the version.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from datetime import date
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from custreg_admin.config import sqlalchemy_url
from custreg_admin.extensions import db
from custreg_admin.models import (
    Address,
    Contact,
    Customer,
    Invoice,
    MarketSegment,
    Project,
    Proposal,
)
from custreg_admin.registries import CompanyRecord
from custreg_admin.services import customers as customer_service
from custreg_admin.services import mass_update as mu
from custreg_admin.services import move_guard, registry_search

from .. import builders as b
from ..helpers import recorded_statements

# --- helpers -----------------------------------------------------------------------------------


class _FormFields(HTMLParser):
    """The values a browser would post from the page's Flask-Admin form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""
        self._in_form = False
        self._done = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if self._done:
            return
        if tag == "form" and "admin-form" in (a.get("class") or ""):
            self._in_form = True
        if not self._in_form:
            return
        name = a.get("name")
        if "disabled" in a:  # a browser posts no disabled field
            name = None
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value") or "y"))
            elif kind != "submit":
                self.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, unescape(self._text).lstrip("\n")))
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def _form_of(client, url: str) -> dict[str, str]:
    """The edit form at ``url`` as it was loaded: every field's value."""
    page = client.get(url)
    assert page.status_code == 200, url
    parser = _FormFields()
    parser.feed(page.get_data(as_text=True))
    data: dict[str, str] = {}
    for name, value in parser.fields:
        data.setdefault(name, value)  # first value (multi-selects are not needed here)
    return data


def _flashes(page: str) -> str:
    return " ".join(
        unescape(m) for m in re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', page, re.S)
    )


def _raw(statement: str, **params) -> None:
    """Run SQL on a connection of its own, outside any session, and commit."""
    with db.engine.begin() as connection:
        connection.execute(text(statement), params)


def _refused(statement: str, **params) -> str:
    with pytest.raises(IntegrityError) as refused:
        _raw(statement, **params)
    message = str(refused.value.orig)
    assert "custreg:" in message
    return message


@pytest.fixture
def invoiced(ctx):
    """Acme with an invoiced project, a project with a proposal only and a free project; Nokia."""
    acme, nokia = b.customer("Acme Oy"), b.customer("Nokia Oyj")
    billed = b.project(acme, name="Billed")
    proposed = b.project(acme, name="Proposed")
    free = b.project(acme, name="Free")
    b.invoice(acme, "100.00", date(2026, 3, 1), project=billed)
    db.session.add(Proposal(project_id=proposed.id, number="P-1"))
    db.session.commit()
    return {
        "acme": acme.id,
        "nokia": nokia.id,
        "billed": billed.id,
        "proposed": proposed.id,
        "free": free.id,
    }


def _customer_of(project_id: int) -> int:
    return db.session.scalar(select(Project.customer_id).where(Project.id == project_id))


# --- the database refuses ----------------------------------------------------------------------


def test_raw_sql_cannot_move_a_project_with_invoices_or_proposals(invoiced):
    for blocked in ("billed", "proposed"):
        message = _refused(
            "UPDATE custreg_project SET customer_id = :to WHERE id = :id",
            to=invoiced["nokia"],
            id=invoiced[blocked],
        )
        assert "cannot change customer" in message
        assert _customer_of(invoiced[blocked]) == invoiced["acme"]
    # a set-based statement over all of Acme's projects: refused as a whole
    _refused(
        "UPDATE custreg_project SET customer_id = :to WHERE customer_id = :from_",
        to=invoiced["nokia"],
        from_=invoiced["acme"],
    )
    assert _customer_of(invoiced["free"]) == invoiced["acme"]
    # a project without invoices and proposals moves; other columns of a blocked one change
    _raw(
        "UPDATE custreg_project SET customer_id = :to WHERE id = :id",
        to=invoiced["nokia"],
        id=invoiced["free"],
    )
    _raw("UPDATE custreg_project SET name = 'Renamed' WHERE id = :id", id=invoiced["billed"])
    db.session.expire_all()
    assert _customer_of(invoiced["free"]) == invoiced["nokia"]
    assert db.session.get(Project, invoiced["billed"]).name == "Renamed"


def test_raw_sql_cannot_put_an_invoice_on_another_customers_project(invoiced):
    status = b.invoice_status("Sent").id
    db.session.commit()
    _refused(
        "INSERT INTO custreg_invoice (customer_id, project_id, number, date, status_id, total, "
        "version) VALUES (:customer, :project, 'X-1', '2026-03-02', :status, 10, 1)",
        customer=invoiced["nokia"],
        project=invoiced["free"],
        status=status,
    )
    invoice_id = db.session.scalar(select(Invoice.id))
    _refused(
        "UPDATE custreg_invoice SET customer_id = :customer WHERE id = :id",
        customer=invoiced["nokia"],
        id=invoice_id,
    )
    nokia_project = b.project(db.session.get(Customer, invoiced["nokia"]), name="Nokia work")
    db.session.commit()
    _refused(
        "UPDATE custreg_invoice SET project_id = :project WHERE id = :id",
        project=nokia_project.id,
        id=invoice_id,
    )
    # both at once, consistently: allowed (the invoice moves with a project of its new customer)
    _raw(
        "UPDATE custreg_invoice SET customer_id = :customer, project_id = :project WHERE id = :id",
        customer=invoiced["nokia"],
        project=nokia_project.id,
        id=invoice_id,
    )
    db.session.expire_all()
    assert db.session.get(Invoice, invoice_id).customer_id == invoiced["nokia"]


@pytest.mark.parametrize("length", [1, 2, 3])
def test_raw_sql_cannot_make_a_segment_loop(ctx, length):
    top = b.segment("Top")
    chain = [top]
    for n in range(length - 1):
        chain.append(b.segment(f"Level {n + 1}", parent=chain[-1]))
    db.session.commit()
    # the top made a child of the lowest one: a loop of ``length`` segments
    message = _refused(
        "UPDATE custreg_market_segment SET parent_id = :parent WHERE id = :id",
        parent=chain[-1].id,
        id=top.id,
    )
    assert "own parent or ancestor" in message
    db.session.expire_all()
    assert db.session.get(MarketSegment, top.id).parent_id is None
    # a new segment under the chain is fine; one that is its own parent is not
    _raw(
        "INSERT INTO custreg_market_segment (id, name, parent_id) VALUES (900, 'Leaf', :p)",
        p=chain[-1].id,
    )
    _refused("INSERT INTO custreg_market_segment (id, name, parent_id) VALUES (901, 'Self', 901)")


def test_raw_sql_cannot_swap_two_segments_in_one_statement(ctx):
    first, second = b.segment("First"), b.segment("Second")
    db.session.commit()
    _refused(
        "UPDATE custreg_market_segment SET parent_id = CASE WHEN id = :a THEN :b ELSE :a END "
        "WHERE id IN (:a, :b)",
        a=first.id,
        b=second.id,
    )


@pytest.mark.commits
def test_a_script_that_imports_only_the_models_cannot_move_an_invoiced_project(
    invoiced, database_url
):
    script = textwrap.dedent(
        """
        import sys
        from sqlalchemy import create_engine
        from sqlalchemy.exc import IntegrityError
        from sqlalchemy.orm import Session
        from custreg_admin.config import sqlalchemy_url
        from custreg_admin.models import Project

        engine = create_engine(sqlalchemy_url(sys.argv[1]))
        with Session(engine) as session:
            project = session.get(Project, int(sys.argv[2]))
            project.customer_id = int(sys.argv[3])
            try:
                session.commit()
            except IntegrityError as error:
                print("REFUSED", error.orig)
            else:
                print("MOVED")
        """
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            database_url,
            str(invoiced["billed"]),
            str(invoiced["nokia"]),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("REFUSED"), result.stdout
    assert "cannot change customer" in result.stdout
    assert _customer_of(invoiced["billed"]) == invoiced["acme"]


# --- the guard is the module's own -------------------------------------------------------------


def test_the_move_guard_is_on_the_modules_sessions_not_on_sqlalchemys_session_class(ctx):
    assert move_guard.installed(db.session.session_factory)
    for name, listener in move_guard.LISTENERS:
        from sqlalchemy import event

        assert not event.contains(Session, name, listener)


def test_a_host_session_in_the_same_process_is_not_touched_by_the_guard(invoiced, database_url):
    host_engine = create_engine(sqlalchemy_url(database_url))
    try:
        # a host's session moving a project without invoices: no look at invoices or proposals
        with Session(host_engine) as host, recorded_statements(host_engine) as seen:
            host.get(Project, invoiced["free"]).customer_id = invoiced["nokia"]
            host.commit()
        assert not [s for s in seen if "custreg_invoice" in s or "custreg_proposal" in s]
        # moving an invoiced one: the database refuses, not the module's listener
        with Session(host_engine) as host:
            host.get(Project, invoiced["billed"]).customer_id = invoiced["nokia"]
            with pytest.raises(IntegrityError):
                host.commit()
    finally:
        host_engine.dispose()
    db.session.expire_all()
    assert _customer_of(invoiced["free"]) == invoiced["nokia"]
    assert _customer_of(invoiced["billed"]) == invoiced["acme"]


def test_the_modules_session_still_gives_the_friendly_message_first(invoiced):
    project = db.session.get(Project, invoiced["billed"])
    project.customer_id = invoiced["nokia"]
    with pytest.raises(
        customer_service.ProjectMoveBlocked, match="cannot move to another customer"
    ):
        db.session.flush()
    db.session.rollback()


# --- segment loops in the settings form --------------------------------------------------------


@pytest.mark.parametrize("length", [1, 2, 3])
def test_the_segment_form_refuses_loops_of_any_length_with_a_clear_message(
    app, admin_client, length
):
    with app.app_context():
        top = b.segment("Top")
        chain = [top]
        for n in range(length - 1):
            chain.append(b.segment(f"Level {n + 1}", parent=chain[-1]))
        db.session.commit()
        top_id, bottom_id = top.id, chain[-1].id
    url = f"/admin/settings/market-segments/edit/?id={top_id}"
    data = _form_of(admin_client, url)
    data["parent"] = str(bottom_id)
    response = admin_client.post(url, data=data, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    shown = _flashes(page)
    assert "Circular dependency" not in page
    if length == 1:
        assert 'Market segment "Top" cannot be its own parent segment' in shown
    else:
        assert f'cannot be placed under "Level {length - 1}"' in shown
        assert "Top › " in shown  # the loop is named
    with app.app_context():
        assert db.session.get(MarketSegment, top_id).parent_id is None


def test_the_segment_form_saves_a_parent_that_makes_no_loop(app, admin_client):
    with app.app_context():
        a, c = b.segment("A"), b.segment("C")
        child = b.segment("B", parent=a)
        db.session.commit()
        ids = a.id, child.id, c.id
    url = f"/admin/settings/market-segments/edit/?id={ids[2]}"
    data = _form_of(admin_client, url)
    data["parent"] = str(ids[1])
    assert admin_client.post(url, data=data).status_code == 302
    with app.app_context():
        assert db.session.get(MarketSegment, ids[2]).parent_id == ids[1]


# --- no lost updates ---------------------------------------------------------------------------


def _version(model, row_id: int) -> int:
    return db.session.scalar(select(model.version).where(model.id == row_id))


def test_a_stale_edit_form_does_not_undo_a_mass_update(app, client, login, make_user):
    """The issue's scenario: open a customer's edit form, a manager mass-updates its industry,
    save the old form with only the phone changed: refused, the industry stays, the message names
    the mass update and the manager."""
    owner = login("user", name="Ulla User")
    manager = make_user("manager", name="Maija Manager")
    with app.app_context():
        it, retail = b.industry("IT services"), b.industry("Retail trade")
        customer = b.customer("Acme Oy", owner=owner, industry=it)
        db.session.add(Address(customer_id=customer.id, kind="visiting", street="Old street 1"))
        db.session.commit()
        cid, retail_id, it_id = customer.id, retail.id, it.id
    url = f"/admin/customers/edit/?id={cid}"
    form = _form_of(client, url)
    assert form["custreg_version"] == "1" and form["custreg_loaded_at"]
    assert form["industry"] == str(it_id)

    with app.app_context():
        batch = mu.apply(manager, [cid], "industry", retail_id)
        batch_id = batch.id

    form["phone"] = "+358 40 123 4567"
    form["addresses-0-street"] = "Typed street 2"  # an inline row of the same stale form
    response = client.post(url, data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200  # the form again, not a redirect
    shown = _flashes(page)
    assert "was changed by someone else after you opened this form" in shown
    assert f"mass update #{batch_id}" in shown
    assert "Maija Manager" in shown and "Retail trade" in shown
    assert 'value="+358 40 123 4567"' in page  # what was typed is kept
    with app.app_context():
        saved = db.session.get(Customer, cid)
        assert saved.industry_id == retail_id  # the mass update stands
        assert saved.phone is None  # nothing of the stale form was written
        assert [a.street for a in saved.addresses] == ["Old street 1"]
    # saving the same stale form again is refused again
    assert client.post(url, data=form).status_code == 200
    # a fresh form saves
    fresh = _form_of(client, url)
    assert fresh["industry"] == str(retail_id)
    fresh["phone"] = "+358 40 123 4567"
    assert client.post(url, data=fresh).status_code == 302
    with app.app_context():
        saved = db.session.get(Customer, cid)
        assert (saved.phone, saved.industry_id) == ("+358 40 123 4567", retail_id)


def test_a_colleagues_save_makes_an_open_customer_form_stale_also_for_inline_rows(
    app, client, login, make_user
):
    login("admin", name="Anna Admin")
    with app.app_context():
        customer = b.customer("Acme Oy")
        db.session.add(Contact(customer_id=customer.id, last_name="Virtanen"))
        db.session.commit()
        cid = customer.id
    url = f"/admin/customers/edit/?id={cid}"
    mine, theirs = _form_of(client, url), _form_of(client, url)
    # the colleague changes only a contact (an inline row): the customer's version advances
    theirs["contacts-0-last_name"] = "Korhonen"
    assert client.post(url, data=theirs).status_code == 302
    mine["contacts-0-last_name"] = "Nieminen"
    mine["website"] = "acme.example"
    response = client.post(url, data=mine)
    assert response.status_code == 200
    assert "was changed by someone else" in _flashes(response.get_data(as_text=True))
    with app.app_context():
        saved = db.session.get(Customer, cid)
        assert [c.last_name for c in saved.contacts] == ["Korhonen"]
        assert saved.website is None


def test_a_save_racing_past_the_version_comparison_is_refused_by_the_write(
    app, admin_client, monkeypatch
):
    """A colleague saves between the form's comparison and the write: SQLAlchemy's version
    check refuses the write; the same message, nothing written."""
    with app.app_context():
        customer = b.customer("Acme Oy")
        db.session.commit()
        cid = customer.id
    url = f"/admin/customers/edit/?id={cid}"
    form = _form_of(admin_client, url)
    from custreg_admin.admin import versions as admin_versions

    compare = admin_versions.ensure_current

    def colleague_saves_right_after(obj, version, loaded_at):
        compare(obj, version, loaded_at)
        _raw(
            "UPDATE custreg_customer SET website = 'theirs.example', version = version + 1 "
            "WHERE id = :id",
            id=cid,
        )

    monkeypatch.setattr(admin_versions, "ensure_current", colleague_saves_right_after)
    form["website"] = "mine.example"
    response = admin_client.post(url, data=form)
    assert response.status_code == 200
    assert "was changed by someone else" in _flashes(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Customer, cid).website == "theirs.example"


@pytest.mark.parametrize("what", ["project", "invoice", "proposal"])
def test_stale_edits_of_projects_invoices_and_proposals_are_refused(app, admin_client, what):
    with app.app_context():
        acme = b.customer("Acme Oy")
        work = b.project(acme, name="Work")
        bill = b.invoice(acme, "100.00", date(2026, 3, 1), project=work, number="INV-1")
        offer = Proposal(project_id=work.id, number="P-1")
        db.session.add(offer)
        db.session.commit()
        rows = {
            "project": (Project, work.id),
            "invoice": (Invoice, bill.id),
            "proposal": (Proposal, offer.id),
        }
    model, row_id = rows[what]
    base = {"project": "projects", "invoice": "invoices", "proposal": "proposals"}[what]
    url = f"/admin/{base}/edit/?id={row_id}"
    mine, theirs = _form_of(admin_client, url), _form_of(admin_client, url)
    field = "name" if what == "project" else "number"
    theirs[field] = "Theirs"
    assert admin_client.post(url, data=theirs).status_code == 302
    mine[field] = "Mine"
    response = admin_client.post(url, data=mine)
    assert response.status_code == 200
    assert "was changed by someone else after you opened this form" in _flashes(
        response.get_data(as_text=True)
    )
    with app.app_context():
        assert getattr(db.session.get(model, row_id), field) == "Theirs"
        assert _version(model, row_id) == 2


def test_mass_updates_and_their_undo_advance_the_version(ctx, make_user):
    manager = make_user("manager")
    retail = b.industry("Retail")
    segment = b.segment("Export")
    first, second = b.customer("First Oy"), b.customer("Second Oy", industry=retail)
    db.session.commit()
    ids = [first.id, second.id]
    batch = mu.apply(manager, ids, "industry", retail.id)  # only First changes
    assert [_version(Customer, i) for i in ids] == [2, 1]
    mu.apply(manager, ids, "add_segments", [segment.id])
    assert [_version(Customer, i) for i in ids] == [3, 2]
    mu.undo(manager, batch.id)
    assert [_version(Customer, i) for i in ids] == [4, 2]


def test_moves_advance_the_moved_projects_version(invoiced):
    source = db.session.get(Customer, invoiced["acme"])
    target = db.session.get(Customer, invoiced["nokia"])
    customer_service.move_projects(source, target, [invoiced["free"]])
    assert _version(Project, invoiced["free"]) == 2
    assert _version(Project, invoiced["billed"]) == 1


def test_a_move_from_the_project_form_saves_its_other_changes_too(app, admin_client):
    with app.app_context():
        acme, nokia = b.customer("Acme Oy"), b.customer("Nokia Oyj")
        work = b.project(acme, name="Work")
        db.session.commit()
        work_id, nokia_id = work.id, nokia.id
    url = f"/admin/projects/edit/?id={work_id}"
    form = _form_of(admin_client, url)
    form["customer"], form["name"] = str(nokia_id), "Work for Nokia"
    assert admin_client.post(url, data=form).status_code == 302
    with app.app_context():
        saved = db.session.get(Project, work_id)
        assert (saved.customer_id, saved.name) == (nokia_id, "Work for Nokia")


def test_merges_advance_both_customers_versions(ctx):
    keep, duplicate = b.customer("Acme Oy"), b.customer("Acme Oy (dup)")
    db.session.add(Contact(customer_id=duplicate.id, last_name="Virtanen"))
    db.session.commit()
    keep_id, duplicate_id = keep.id, duplicate.id
    customer_service.merge_customers(duplicate, keep)
    assert _version(Customer, keep_id) > 1
    assert _version(Customer, duplicate_id) > 1


def test_registry_refreshes_advance_the_version(ctx):
    customer = b.customer("Acme (old)", business_id="0112038-9")
    db.session.commit()
    record = CompanyRecord(source="ytj", country="FI", business_id="0112038-9", name="Acme Oyj")
    registry_search.apply_refresh(customer, record, {"name"})
    assert _version(Customer, customer.id) == 2
