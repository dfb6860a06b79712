"""The demo generator: the rows of one chunk of customers at a time, with their projects and
sales cases, proposals, invoices and costs."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from ..models import (
    Address,
    Contact,
    Cost,
    Customer,
    EInvoiceAddress,
    Invoice,
    Project,
    Proposal,
    customer_segment,
)
from .customer_rows import CustomerRows
from .draws import (
    CLOSED_SHARE,
    COST_WEIGHT,
    INVOICE_STATUSES,
    INVOICE_WEIGHT,
    PROJECT_STATUSES,
    PROJECT_WEIGHT,
    PROPOSAL_SHARE,
    SALES_CASE_STATUSES,
    cumulative_weights,
    pick,
    spread,
)
from .settings import Refs
from .words import (
    FI_CITIES,
    FI_OPERATORS,
    INDUSTRIES,
    INTERNAL_PROJECT_NAMES,
    NO_CITIES,
    PROJECT_NAMES,
)

TABLES = (
    ("customer", Customer.__table__),
    ("address", Address.__table__),
    ("einvoice", EInvoiceAddress.__table__),
    ("contact", Contact.__table__),
    ("segment", customer_segment),
    ("project", Project.__table__),
    ("proposal", Proposal.__table__),
    ("invoice", Invoice.__table__),
    ("cost", Cost.__table__),
)
TABLE_KEYS = tuple(key for key, _table in TABLES)


class Generator(CustomerRows):
    """Builds the rows of one chunk of customers at a time; all randomness from one ``rng``."""

    def __init__(
        self,
        rng: random.Random,
        refs: Refs,
        today: date,
        *,
        taken_ids: set[str],
        taken_names: set[str],
        invoice_number: int,
        proposal_number: int,
    ) -> None:
        self.rng = rng
        self.refs = refs
        self.today = today
        self.taken_ids = taken_ids
        self.taken_names = taken_names
        self.invoice_number = invoice_number
        self.proposal_number = proposal_number
        window_start = date(today.year - 1, 1, 1)
        self.days = [
            window_start + timedelta(days=n) for n in range((today - window_start).days + 1)
        ]
        self.last_year_days = [d for d in self.days if d.year < today.year] or self.days
        self.recent_days = self.days[-45:]
        self.reference = datetime(today.year, today.month, today.day, 12, 0)
        # Status of an invoice by its date.
        self.invoice_status_mix = {}
        for day in self.days:
            age = (today - day).days
            self.invoice_status_mix[day] = next(
                [(refs.invoice_status[name], p) for name, p in mix]
                for limit, mix in INVOICE_STATUSES
                if limit is None or age <= limit
            )
        self.numberless = {refs.invoice_status["Draft"]}
        self.approved = refs.invoice_status["Approved"]
        self.owner_cumulative = cumulative_weights(refs.owner_weights)
        self.segment_cumulative = cumulative_weights(refs.segment_weights)
        self.industry_cumulative = {
            country: cumulative_weights([row[2 if country == "FI" else 3] for row in INDUSTRIES])
            for country in ("FI", "NO")
        }
        self.city_cumulative = {
            "FI": cumulative_weights([c[1] for c in FI_CITIES]),
            "NO": cumulative_weights([c[1] for c in NO_CITIES]),
        }
        self.operator_cumulative = cumulative_weights([w for _, w in FI_OPERATORS])
        # Managers and users (not the admin) manage projects of customers they do not own.
        self.project_managers = refs.owners[1:] or refs.owners

    def build(
        self,
        numbers: Sequence[int],
        customer_ids: Sequence[int],
        take_project_ids: Callable[[int], list[int]],
        targets: tuple[int, int, int],
    ) -> dict[str, list[dict[str, Any]]]:
        """All rows of the customers with these numbers and ids, by table key (see TABLES).

        ``targets``: how many projects, invoices and costs the chunk gets in all.
        """
        rows: dict[str, list[dict[str, Any]]] = {key: [] for key in TABLE_KEYS}
        customers = self.customers(numbers, customer_ids, rows)
        sizes = self.sizes(len(customers))
        projects, billable = self._projects(customers, sizes, targets[0], take_project_ids, rows)
        self._invoices(customers, sizes, billable, targets[1], rows["invoice"])
        self._costs(projects, targets[2], rows["cost"])
        return rows

    def customers(
        self,
        numbers: Sequence[int],
        customer_ids: Sequence[int],
        rows: dict[str, list[dict[str, Any]]],
    ) -> list[tuple[dict[str, Any], str]]:
        """The customers with these numbers and ids and their own rows (addresses, e-invoicing
        addresses, contacts, segment links), appended to ``rows``; returns (row, profile) each."""
        customers = []
        for number, customer_id in zip(numbers, customer_ids, strict=True):
            row, profile, city, domain = self._customer(number, customer_id)
            rows["customer"].append(row)
            customers.append((row, profile))
            self._addresses(row, city, rows["address"])
            self._einvoice_addresses(row, rows["einvoice"])
            self._contacts(row, domain, rows["contact"])
            self._segments(row, rows["segment"])
        return customers

    def sizes(self, count: int) -> list[float]:
        """How big each of ``count`` customers is: big customers have more of everything."""
        return [self.rng.lognormvariate(0, 0.6) for _ in range(count)]

    # --- projects, proposals, invoices, costs -------------------------------------------------

    def _projects(
        self,
        customers: list[tuple[dict[str, Any], str]],
        sizes: list[float],
        target: int,
        take_ids: Callable[[int], list[int]],
        rows: dict[str, list[dict[str, Any]]],
    ) -> tuple[list[tuple[dict[str, Any], bool]], list[list[int]]]:
        """Projects and sales cases with their proposals: ``target`` of them in all.

        Returns the projects (row, of a dormant customer) and, per customer, the ids of the
        projects it can be invoiced for.
        """
        rng = self.rng
        chance = rng.random
        # Every prospect has a sales case in progress; the rest go by the customers' size.
        prospects = [i for i, (_, profile) in enumerate(customers) if profile == "prospect"]
        first_cases = prospects[:target]
        weights = [size * PROJECT_WEIGHT[p] for size, (_, p) in zip(sizes, customers, strict=True)]
        counts = spread(rng, target - len(first_cases), weights)
        for i in first_cases:
            counts[i] += 1
        ids = iter(take_ids(sum(counts)))
        years = (self.today.year - 1, self.today.year)
        projects: list[tuple[dict[str, Any], bool]] = []
        billable: list[list[int]] = [[] for _ in customers]
        for index, ((customer, profile), count) in enumerate(zip(customers, counts, strict=True)):
            for n in range(count):
                internal = False
                if profile == "prospect":
                    kind = "sales_case"
                    status = "in_progress" if n == 0 or chance() < 0.6 else "lost"
                    closed = status == "lost" and chance() < 0.8
                elif profile == "dormant":  # everything is over
                    kind = "project" if chance() < 0.5 else "sales_case"
                    status = "won" if kind == "project" or chance() < 0.5 else "lost"
                    closed = True
                elif chance() < 0.04:
                    internal, kind, status, closed = True, "project", "won", chance() < 0.2
                else:
                    kind = "sales_case" if chance() < 0.44 else "project"
                    statuses = SALES_CASE_STATUSES if kind == "sales_case" else PROJECT_STATUSES
                    status = pick(chance(), statuses)
                    closed = chance() < CLOSED_SHARE[kind, status]
                year = rng.choice(years)
                if internal:
                    name = rng.choice(INTERNAL_PROJECT_NAMES).format(year=year)
                else:
                    name = rng.choice(PROJECT_NAMES).format(year=year)
                    if kind == "sales_case" and chance() < 0.3:
                        name = f"Tender: {name}"
                owner = customer["owner_id"]
                row = {
                    "id": next(ids),
                    "customer_id": customer["id"],
                    "name": name,
                    "manager_id": owner if chance() < 0.65 else rng.choice(self.project_managers),
                    "is_internal": internal,
                    "kind": kind,
                    "sales_status": status,
                    "is_closed": closed,
                }
                rows["project"].append(row)
                projects.append((row, profile == "dormant"))
                if not internal and (status == "won" or (kind == "project" and status != "lost")):
                    billable[index].append(row["id"])
                if not internal and chance() < PROPOSAL_SHARE[kind, status]:
                    for _ in range(1 if chance() < 0.85 else 2):
                        created = self._moment(300 if profile == "prospect" else 700)
                        rows["proposal"].append(
                            {"project_id": row["id"],
                             "number": f"{created.year}-{self.proposal_number:05d}",
                             "created_at": created, "total": self._money(8.5, 1.0, 300, 900_000)}
                        )  # fmt: skip
                        self.proposal_number += 1
        return projects, billable

    def _invoices(
        self,
        customers: list[tuple[dict[str, Any], str]],
        sizes: list[float],
        billable: list[list[int]],
        target: int,
        out: list,
    ) -> None:
        """``target`` invoices: none for prospects, only last year's for dormant customers."""
        rng = self.rng
        chance = rng.random
        weights = [size * INVOICE_WEIGHT[p] for size, (_, p) in zip(sizes, customers, strict=True)]
        days, recent, last_year = self.days, self.recent_days, self.last_year_days
        status_mix, numberless, approved = self.invoice_status_mix, self.numberless, self.approved
        for (customer, profile), count, projects in zip(
            customers, spread(rng, target, weights), billable, strict=True
        ):
            customer_id, dormant = customer["id"], profile == "dormant"
            for _ in range(count):
                if dormant:
                    day = last_year[int(chance() * len(last_year))]
                elif chance() < 0.12:
                    day = recent[int(chance() * len(recent))]
                else:
                    day = days[int(chance() * len(days))]
                status = pick(chance(), status_mix[day])
                if status in numberless or (status == approved and chance() < 0.5):
                    number = None
                else:
                    number = str(self.invoice_number)
                    self.invoice_number += 1
                project = None
                if projects and chance() < 0.85:
                    project = projects[int(chance() * len(projects))]
                out.append(
                    {"customer_id": customer_id, "project_id": project, "number": number,
                     "date": day, "status_id": status, "total": self._money(6.9, 1.0, 40, 250_000)}
                )  # fmt: skip

    def _costs(self, projects: list[tuple[dict[str, Any], bool]], target: int, out: list) -> None:
        """``target`` costs, mostly on delivery projects, some presales on sales cases."""
        chance = self.rng.random
        weights = [
            3.0 if row["is_internal"] else COST_WEIGHT[row["kind"], row["sales_status"]]
            for row, _dormant in projects
        ]
        for (row, dormant), count in zip(projects, spread(self.rng, target, weights), strict=True):
            days = self.last_year_days if dormant else self.days
            for _ in range(count):
                out.append(
                    {"project_id": row["id"], "date": days[int(chance() * len(days))],
                     "amount": self._money(6.2, 1.0, 10, 150_000)}
                )  # fmt: skip
