"""The set-based SQL of the demo's bulk path (PostgreSQL): projects and sales cases, proposals,
invoices and costs made by ``INSERT ... SELECT`` from the customers already loaded, drawing
from the same probability tables as the row-by-row generator (:mod:`.draws`, :mod:`.words`).

The customers come from the temporary table :data:`CUSTOMERS` (id, owner, profile ``p``rospect
/ ``d``ormant / ``a``ctive, size), filled while they were copied in. How many projects,
invoices and costs each gets is its share of the total by weight (size times the profile's
weight, as :func:`.draws.spread` gives it), allotted by systematic sampling so that the totals
are exact: a customer gets ``floor(c * R / W + 1/2) - floor(c' * R / W + 1/2)`` of ``R`` rows,
``c'`` and ``c`` being the cumulative weights before and with it and ``W`` all of them.

Each ``random()`` is drawn in an inner query's select list (PostgreSQL does not flatten a query
whose outputs are volatile), so every row gets its own draws and the outer queries can use one
draw several times. Run with ``setseed`` first and without parallel workers, the same seed on
the same database gives the same rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..models import Cost, Invoice, Project, Proposal
from .draws import (
    CLOSED_SHARE,
    COST_WEIGHT,
    INVOICE_STATUSES,
    INVOICE_WEIGHT,
    PROJECT_STATUSES,
    PROJECT_WEIGHT,
    PROPOSAL_SHARE,
    SALES_CASE_STATUSES,
)
from .words import INTERNAL_PROJECT_NAMES, PROJECT_NAMES

#: The temporary tables of one bulk run (dropped at its commit).
CUSTOMERS = "custreg_demo_customer"
ALLOTTED = "custreg_demo_allotted"
BILLABLE = "custreg_demo_billable"
PROJECT_COSTS = "custreg_demo_project_costs"
#: Temporary sequences numbering invoices and proposals (dropped at the end of the run).
INVOICE_NUMBERS = "custreg_demo_invoice_number"
PROPOSAL_NUMBERS = "custreg_demo_proposal_number"

PROFILE_CODES = {"prospect": "p", "dormant": "d", "active": "a"}

CREATE_CUSTOMERS = (
    f"CREATE TEMPORARY TABLE {CUSTOMERS} (customer_id integer NOT NULL, owner_id integer, "
    "profile char(1) NOT NULL, size float8 NOT NULL) ON COMMIT DROP"
)


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _texts(values: Iterable[str]) -> str:
    return "ARRAY[" + ", ".join(_text(v) for v in values) + "]::text[]"


def _number(value: float) -> str:
    return repr(float(value))


def _by_profile(column: str, weights: dict[str, float]) -> str:
    whens = " ".join(
        f"WHEN {_text(PROFILE_CODES[name])} THEN {_number(w)}" for name, w in weights.items()
    )
    return f"CASE {column} {whens} ELSE 0 END"


def _pick(roll: str, choices: Sequence[tuple[Any, float]], quote=_text) -> str:
    """:func:`.draws.pick` in SQL: the first choice whose cumulative probability exceeds the
    roll (the last one else)."""
    whens = " ".join(f"WHEN {roll} < {_number(p)} THEN {quote(v)}" for v, p in choices[:-1])
    return f"CASE {whens} ELSE {quote(choices[-1][0])} END"


def _by_kind_status(table: dict[tuple[str, str], float]) -> str:
    whens = " ".join(
        f"WHEN kind = {_text(kind)} AND sales_status = {_text(status)} THEN {_number(value)}"
        for (kind, status), value in table.items()
    )
    return f"CASE {whens} ELSE 0 END"


def money(mu: float, sigma: float, low: int, high: int) -> str:
    """:meth:`.customer_rows.CustomerRows._money` in SQL: euros with cents, log-normal (the
    normal draw by Box-Muller), clamped, cut to whole cents."""
    normal = "sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())"
    euros = f"least(greatest(exp({_number(mu)} + {_number(sigma)} * {normal}), {low}), {high})"
    return f"(trunc({euros} * 100) / 100)::numeric(14, 2)"


def _share(cumulative: str, previous: str, total: str, rows: str) -> str:
    """A row's count of ``rows`` by systematic sampling (see the module's docstring)."""
    return (
        f"COALESCE((floor({cumulative} * {rows} / NULLIF({total}, 0) + 0.5)"
        f" - floor({previous} * {rows} / NULLIF({total}, 0) + 0.5))::integer, 0)"
    )


def allot() -> str:
    """Projects and invoices per customer (``:projects``, ``:invoices`` in all). Every prospect
    has a sales case in progress first (the first ``:projects`` of them, by id)."""
    projects = _by_profile("profile", PROJECT_WEIGHT)
    invoices = _by_profile("profile", INVOICE_WEIGHT)
    return f"""
        CREATE TEMPORARY TABLE {ALLOTTED} ON COMMIT DROP AS
        SELECT customer_id, owner_id, profile,
               {_share("p_cum", "p_prev", "p_all", "(:projects - first_cases)")}
                 + (profile = 'p' AND prospect <= :projects)::integer AS projects,
               {_share("i_cum", "i_prev", "i_all", ":invoices")} AS invoices
        FROM (
            SELECT *, lag(p_cum, 1, 0::float8) OVER w AS p_prev, max(p_cum) OVER () AS p_all,
                   lag(i_cum, 1, 0::float8) OVER w AS i_prev, max(i_cum) OVER () AS i_all,
                   LEAST(count(*) FILTER (WHERE profile = 'p') OVER (), :projects) AS first_cases
            FROM (
                SELECT customer_id, owner_id, profile,
                       sum(size * {projects}) OVER w AS p_cum,
                       sum(size * {invoices}) OVER w AS i_cum,
                       count(*) FILTER (WHERE profile = 'p') OVER w AS prospect
                FROM {CUSTOMERS}
                WINDOW w AS (ORDER BY customer_id)
            ) cumulated
            WINDOW w AS (ORDER BY customer_id)
        ) shares
    """


def insert_projects(managers: list[int]) -> str:
    """The projects and sales cases (:meth:`.generator.Generator._projects`'s rules)."""
    manager_ids = "ARRAY[" + ", ".join(str(int(m)) for m in managers) + "]::integer[]"
    names, internal_names = _texts(PROJECT_NAMES), _texts(INTERNAL_PROJECT_NAMES)
    year = "((EXTRACT(YEAR FROM CAST(:today AS date)))::integer - (r_year < 0.5)::integer)::text"
    return f"""
        INSERT INTO {Project.__tablename__}
            (customer_id, name, manager_id, is_internal, kind, sales_status, is_closed)
        SELECT customer_id,
               CASE WHEN is_internal
                    THEN replace(({internal_names})[1 + floor(r_name * {len(INTERNAL_PROJECT_NAMES)})::integer], '{{year}}', {year})
                    ELSE CASE WHEN kind = 'sales_case' AND r_tender < 0.3 THEN 'Tender: ' ELSE '' END
                         || replace(({names})[1 + floor(r_name * {len(PROJECT_NAMES)})::integer], '{{year}}', {year})
               END,
               CASE WHEN r_manager < 0.65 THEN owner_id
                    ELSE ({manager_ids})[1 + floor(r_pick * {len(managers)})::integer] END,
               is_internal, kind, sales_status,
               CASE WHEN profile = 'p' THEN sales_status = 'lost' AND r_closed < 0.8
                    WHEN profile = 'd' THEN true
                    WHEN is_internal THEN r_closed < 0.2
                    ELSE r_closed < {_by_kind_status(CLOSED_SHARE)} END
        FROM (
            SELECT *,
                   CASE WHEN profile = 'p' THEN
                            CASE WHEN n = 1 OR r_status < 0.6 THEN 'in_progress' ELSE 'lost' END
                        WHEN profile = 'd' THEN
                            CASE WHEN kind = 'project' OR r_status < 0.5 THEN 'won' ELSE 'lost' END
                        WHEN is_internal THEN 'won'
                        WHEN kind = 'sales_case' THEN {_pick("r_status", SALES_CASE_STATUSES)}
                        ELSE {_pick("r_status", PROJECT_STATUSES)} END AS sales_status
            FROM (
                SELECT *,
                       CASE WHEN profile = 'p' THEN 'sales_case'
                            WHEN profile = 'd' THEN
                                CASE WHEN r_kind < 0.5 THEN 'project' ELSE 'sales_case' END
                            WHEN is_internal THEN 'project'
                            WHEN r_kind < 0.44 THEN 'sales_case' ELSE 'project' END AS kind
                FROM (
                    SELECT *, profile = 'a' AND r_internal < 0.04 AS is_internal
                    FROM (
                        SELECT a.customer_id, a.owner_id, a.profile, g.n,
                               random() AS r_internal, random() AS r_kind,
                               random() AS r_status, random() AS r_closed, random() AS r_year,
                               random() AS r_name, random() AS r_tender,
                               random() AS r_manager, random() AS r_pick
                        FROM {ALLOTTED} a CROSS JOIN LATERAL generate_series(1, a.projects) g(n)
                    ) drawn
                ) internal
            ) kinds
        ) statuses
    """  # noqa: E501


def _new_projects() -> str:
    return f"{Project.__tablename__} p JOIN {CUSTOMERS} d ON d.customer_id = p.customer_id"


def insert_proposals() -> str:
    """Proposals of the new projects: 1 or 2 on a share of them (none on internal ones),
    numbered ``year-nnnnn`` by the sequence :data:`PROPOSAL_NUMBERS`."""
    share = _by_kind_status(PROPOSAL_SHARE)
    days = "CASE WHEN q.profile = 'p' THEN 300 ELSE 700 END"
    return f"""
        INSERT INTO {Proposal.__tablename__} (project_id, number, created_at, total)
        SELECT id,
               EXTRACT(YEAR FROM created)::integer::text || '-'
                 || lpad(n::text, greatest(5, length(n::text)), '0'),
               created, total
        FROM (
            SELECT id, created, total, nextval('{PROPOSAL_NUMBERS}') AS n
            FROM (
                SELECT q.id,
                       CAST(:reference AS timestamp)
                         - make_interval(secs => floor(random() * ({days} * 86400 + 1))) AS created,
                       {money(8.5, 1.0, 300, 900_000)} AS total
                FROM (
                    SELECT p.id, d.profile,
                           CASE WHEN p.is_internal OR random() >= {share} THEN 0
                                WHEN random() < 0.85 THEN 1 ELSE 2 END AS proposals
                    FROM {_new_projects()}
                ) q
                CROSS JOIN LATERAL generate_series(1, q.proposals) g
            ) drawn
        ) numbered
    """


def billable() -> str:
    """Per customer with invoices to get: the ids of the projects it can be invoiced for (won,
    or a delivery project not lost; never internal)."""
    return f"""
        CREATE TEMPORARY TABLE {BILLABLE} ON COMMIT DROP AS
        SELECT a.customer_id, a.profile, a.invoices, b.ids
        FROM {ALLOTTED} a
        LEFT JOIN (
            SELECT p.customer_id, array_agg(p.id ORDER BY p.id) AS ids
            FROM {_new_projects()}
            WHERE NOT p.is_internal
              AND (p.sales_status = 'won' OR (p.kind = 'project' AND p.sales_status <> 'lost'))
            GROUP BY p.customer_id
        ) b ON b.customer_id = a.customer_id
        WHERE a.invoices > 0
    """


def _day(last_year_only: str) -> str:
    """A day of the window (1 January last year up to ``:today``): last year's only when
    ``last_year_only``, else one in eight of the last 45 days, the rest anywhere."""
    start = "CAST(:window_start AS date)"
    return f"""CASE WHEN {last_year_only}
                    THEN {start} + floor(random() * :last_year_days)::integer
                    WHEN random() < 0.12
                    THEN CAST(:today AS date) - 44 + floor(random() * 45)::integer
                    ELSE {start} + floor(random() * :days)::integer END"""


def insert_invoices(statuses: dict[str, int]) -> str:
    """The invoices (:meth:`.generator.Generator._invoices`'s rules): status by age, a number
    from :data:`INVOICE_NUMBERS` unless a draft (or half of the approved ones), a billable
    project of the customer on 85 %."""
    age_cases = []
    for limit, mix in INVOICE_STATUSES:
        pick = _pick("r_status", [(statuses[name], p) for name, p in mix], quote=str)
        age_cases.append(f"WHEN age <= {limit} THEN {pick}" if limit is not None else pick)
    status = "CASE " + " ".join(age_cases[:-1]) + f" ELSE {age_cases[-1]} END"
    return f"""
        INSERT INTO {Invoice.__tablename__}
            (customer_id, project_id, number, date, status_id, total)
        SELECT customer_id, project_id,
               CASE WHEN status_id = {statuses["Draft"]}
                      OR (status_id = {statuses["Approved"]} AND r_number < 0.5) THEN NULL
                    ELSE nextval('{INVOICE_NUMBERS}')::text END,
               day, status_id, total
        FROM (
            SELECT *, {status} AS status_id
            FROM (
                SELECT *, CAST(:today AS date) - day AS age
                FROM (
                    SELECT b.customer_id,
                           CASE WHEN b.ids IS NOT NULL AND random() < 0.85
                                THEN b.ids[1 + floor(random() * cardinality(b.ids))::integer]
                           END AS project_id,
                           {_day("b.profile = 'd'")} AS day,
                           random() AS r_status, random() AS r_number,
                           {money(6.9, 1.0, 40, 250_000)} AS total
                    FROM {BILLABLE} b CROSS JOIN LATERAL generate_series(1, b.invoices) g
                ) drawn
            ) aged
        ) statused
    """


def allot_costs() -> str:
    """Costs per new project (``:costs`` in all): mostly on delivery projects, some presales
    on sales cases (weights :data:`.draws.COST_WEIGHT`, internal ones 3)."""
    # times a Gamma(4) draw of mean 1: projects of one kind get about as unequal counts as
    # the row-by-row generator's random spread gives them (there they differ by kind only)
    gamma = "(-ln((1 - random()) * (1 - random()) * (1 - random()) * (1 - random())) / 4)"
    weight = (
        f"(CASE WHEN p.is_internal THEN 3.0 ELSE {_by_kind_status(COST_WEIGHT)} END)::float8"
        f" * {gamma}"
    )
    return f"""
        CREATE TEMPORARY TABLE {PROJECT_COSTS} ON COMMIT DROP AS
        SELECT id, dormant, {_share("cum", "prev", "total", ":costs")} AS costs
        FROM (
            SELECT *, lag(cum, 1, 0::float8) OVER (ORDER BY id) AS prev,
                   max(cum) OVER () AS total
            FROM (
                SELECT p.id, d.profile = 'd' AS dormant,
                       sum({weight}) OVER (ORDER BY p.id) AS cum
                FROM {_new_projects()}
            ) cumulated
        ) shares
    """


def insert_costs() -> str:
    """The costs: dated last year on dormant customers' projects, else anywhere in the window."""
    start = "CAST(:window_start AS date)"
    return f"""
        INSERT INTO {Cost.__tablename__} (project_id, date, amount)
        SELECT c.id,
               CASE WHEN c.dormant THEN {start} + floor(random() * :last_year_days)::integer
                    ELSE {start} + floor(random() * :days)::integer END,
               {money(6.2, 1.0, 10, 150_000)}
        FROM {PROJECT_COSTS} c CROSS JOIN LATERAL generate_series(1, c.costs) g
        WHERE c.costs > 0
    """
