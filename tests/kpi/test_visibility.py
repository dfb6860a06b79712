"""The one visibility rule for money (custreg_admin.rules.visibility), asked by every path.

A plain user who manages a project on a colleague's customer sees that project's invoices and
costs - on the card, in the invoice and cost lists, in the KPI figures and in the Customers
report alike - and nothing else of that customer's money.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from custreg_admin.extensions import db
from custreg_admin.models import Customer, User
from custreg_admin.services.customer_filter import CustomerFilter
from custreg_admin.services.customers import card_records
from custreg_admin.services.kpi import compute_kpis
from custreg_admin.services.reports import make_spec, page

from ..builders import cost, customer, invoice, project
from ..helpers import log_in

TODAY = date(2024, 5, 15)


def _seed(app, make_user):
    colleague = make_user("user", name="Colleague")
    manager = make_user("user", name="Project Manager")
    with app.app_context():
        theirs = customer("Colleague's Oy", owner=colleague)
        managed = project(theirs, manager=manager, name="Managed work")
        own_work = project(theirs, manager=colleague, name="Colleague's work")
        invoice(theirs, "300.00", date(2024, 5, 3), project=managed, number="INV-MANAGED-1")
        invoice(theirs, "200.00", date(2024, 1, 9), project=managed, number="INV-MANAGED-2")
        invoice(theirs, "5000.00", date(2024, 5, 4), project=own_work, number="INV-HIDDEN-1")
        invoice(theirs, "7000.00", date(2024, 5, 5), number="INV-HIDDEN-2")  # no project
        cost(managed, "40.00", date(2024, 2, 1))
        cost(own_work, "900.00", date(2024, 2, 1))
        db.session.commit()
        return colleague, manager, theirs.id


def test_a_project_manager_sees_the_same_money_on_every_path(app, client, make_user):
    colleague, manager, customer_id = _seed(app, make_user)
    visible = {"INV-MANAGED-1", "INV-MANAGED-2"}
    hidden = {"INV-HIDDEN-1", "INV-HIDDEN-2"}

    with app.app_context():
        viewer = db.session.get(User, manager.id)
        card = card_records(db.session.get(Customer, customer_id), viewer=viewer)
        assert {i.number for i in card.invoices} == visible
        assert card.invoice_count == 2

        figures = compute_kpis(viewer, TODAY)
        assert figures.billing_this_month == Decimal("300.00")
        assert figures.margin_this_year == Decimal("460.00")  # 300 + 200 - 40
        assert compute_kpis(viewer, TODAY, CustomerFilter(active_state="all")) == figures

        spec = make_spec(
            "customers",
            ["name", "billing_this_year", "costs_this_year", "margin_this_year"],
            viewer=viewer,
            today=TODAY,
        )
        rows = {row[0]: row[1:] for row in page(spec)}
        assert rows["Colleague's Oy"] == (Decimal("500.00"), Decimal("40.00"), Decimal("460.00"))

        # its owner sees all of it, everywhere
        owner = db.session.get(User, colleague.id)
        assert compute_kpis(owner, TODAY).billing_this_month == Decimal("12300.00")
        owner_rows = {
            row[0]: row[1:]
            for row in page(
                make_spec("customers", ["name", "billing_this_year"], viewer=owner, today=TODAY)
            )
        }
        assert owner_rows["Colleague's Oy"] == (Decimal("12500.00"),)

    assert log_in(client, manager).status_code == 302
    card_page = client.get(f"/admin/customers/details/?id={customer_id}").get_data(as_text=True)
    invoice_list = client.get("/admin/invoices/").get_data(as_text=True)
    cost_list = client.get("/admin/costs/").get_data(as_text=True)
    for shown in (card_page, invoice_list):
        assert all(number in shown for number in visible)
        assert not any(number in shown for number in hidden)
    assert "Managed work" in cost_list and "Colleague&#39;s work" not in cost_list
