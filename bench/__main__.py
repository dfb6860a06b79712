"""``python -m bench [--size N] [--database-url URL] [--quick] [--rebuild] [--only WORD]``.

``--size N`` is the number of customers (``--customers N`` is the same option); ``make bench
BENCH_ARGS="--size 1000000 --database-url postgresql+psycopg://..."`` runs the 1M set.

Builds (or reuses) a database of N demo customers with :func:`custreg_admin.demo.generate`
(3 projects, 10 invoices and 10 costs per customer), runs every case in :data:`CASES`, prints
one row per case (its median, the baseline's median in the same run, the median of the
per-pair ratios with their min–max spread, the issue's goal and whether this run met it, notes)
and writes ``bench/results.json`` (with every run, every pair's ratio and the quartiles). On
PostgreSQL the run starts with ``VACUUM ANALYZE`` and repeats it after every write-heavy case
(:func:`bench.common.write_heavy`). The measuring helpers are described in
:mod:`bench.common`. Timings are reported, never asserted: the exit status is 1 only when a
case's result differs from its baseline's.

Without ``--database-url`` the data lives in a SQLite file in the system's temporary folder,
one per size, kept for the next run. A database that already holds exactly N customers is
reused; other data is only ever dropped with ``--rebuild``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from custreg_admin import create_app
from custreg_admin.extensions import db
from custreg_admin.models import Cost, Customer, Invoice, Project
from custreg_admin.services.kpi import local_today

from . import exports, imports, kpi, mass_update, registry, summary, summary_scale
from .common import BenchEnv, CaseResult, vacuum_analyze
from .data import count_rows, prepare_data
from .report import load_average, markdown

#: Each case returns its row, or several rows (one per search of the registry case).
CASES: list[Callable[[BenchEnv], CaseResult | list[CaseResult]]] = [
    *kpi.CASES,
    *summary.CASES,
    *summary_scale.CASES,
    *mass_update.CASES,
    *exports.CASES,
    *registry.CASES,
    *imports.CASES,
]

RESULTS = Path(__file__).with_name("results.json")
DEFAULT_CUSTOMERS = 100_000
QUICK_CUSTOMERS = 2_000


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--size",
        "--customers",
        dest="customers",
        type=int,
        metavar="N",
        help=f"customers in the bench database (default {DEFAULT_CUSTOMERS:,})",
    )
    parser.add_argument("--database-url", help="default: a SQLite file in the temp folder")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_CUSTOMERS:,} customers, 3 runs"
    )
    parser.add_argument("--runs", type=int, help="timed runs per measurement (default 5)")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data")
    parser.add_argument(
        "--search-set",
        action="store_true",
        help="PostgreSQL: load customers and addresses only, by set-based SQL (bench/data.py), "
        "for the search and paging cases (--only summary)",
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--markdown",
        type=Path,
        help="the table as Markdown, with the command and the load average (default: the "
        "--results path with .md: bench/results.md)",
    )
    parser.add_argument(
        "--only",
        metavar="WORD",
        action="append",
        help="run only the cases whose function name contains WORD (repeatable): --only summary",
    )
    return parser.parse_args(argv)


def _print_row(result: CaseResult) -> None:
    met = {True: "yes", False: "NO", None: ""}[result.goal_met]

    def ms(value: float) -> str:
        return f"{value:.1f}" if value >= 10 else f"{value:.2f}"

    spread, iqr = result.spread, result.iqr
    spread_text = (
        f"{iqr[0]:.2f}–{iqr[1]:.2f} [{spread[0]:.2f}–{spread[1]:.2f}]"
        if spread and iqr
        else "(unpaired)"
    )
    print(
        f"{result.case:<44} {ms(result.median_ms):>10} {ms(result.baseline_median_ms):>12}"
        f" {result.ratio:>7.2f} {spread_text:<22}  {result.goal:<9} {met:<4} "
        f"{'yes ' if result.same_result else 'NO  '}  {result.note}",
        flush=True,
    )
    if not result.same_result:
        print(f"    module:   {result.result}\n    baseline: {result.baseline_result}")


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    customers = args.customers or (QUICK_CUSTOMERS if args.quick else DEFAULT_CUSTOMERS)
    runs = args.runs or (3 if args.quick else 5)
    if args.quick:  # the smoke test: a small import file too (bench/imports.py)
        os.environ.setdefault("BENCH_IMPORT_ROWS", "1000")
    url = args.database_url or (
        f"sqlite:///{Path(tempfile.gettempdir()) / f'custreg-bench-{customers}.db'}"
    )
    app = create_app(
        {"CUSTREG_DATABASE_URL": url, "CUSTREG_SECRET_KEY": "bench", "CUSTREG_REGISTRIES": ""}
    )
    results: list[CaseResult] = []
    load_before = load_average()
    with app.app_context():
        prepare_data(customers, seed=args.seed, rebuild=args.rebuild, search_set=args.search_set)
        env = BenchEnv(
            app=app,
            today=local_today(app.config["CUSTREG_TIMEZONE"]),
            runs=runs,
            customers=count_rows(Customer),
            invoices=count_rows(Invoice),
            database_url=url,
        )
        projects, costs = count_rows(Project), count_rows(Cost)
        db.session.commit()
        dialect = db.engine.dialect.name
        print(
            f"\n{dialect}, {env.customers:,} customers, {projects:,} projects, "
            f"{env.invoices:,} invoices, {costs:,} costs, today {env.today}, "
            f"median of {runs} runs; ratio = median of per-pair ratios, IQR [min–max]\n"
        )
        header = (
            f"{'case':<44} {'median ms':>10} {'baseline ms':>12} {'ratio':>7} "
            f"{'IQR [min–max]':<22}  {'goal':<9} {'met':<4} same  notes"
        )
        print(header)
        print("-" * len(header))
        cases = [
            case for case in CASES if not args.only or any(w in case.__name__ for w in args.only)
        ]
        # Cases too slow for a set this big (an XLSX of a million rows, the stock exports that
        # hold every row in memory, the imports) run only when --only names them.
        skipped = [
            case.__name__
            for case in cases
            if env.customers > getattr(case, "largest_size", env.customers) and not args.only
        ]
        cases = [case for case in cases if case.__name__ not in skipped]
        if skipped:
            print(f"Not run at {env.customers:,} customers: {', '.join(skipped)}\n", flush=True)
        if dialect == "postgresql":
            print(f"VACUUM ANALYZE before the cases: {vacuum_analyze():.1f} s\n", flush=True)
        for case in cases:
            if getattr(case, "postgresql_only", False) and dialect != "postgresql":
                print(f"{case.__name__}: PostgreSQL only (skipped on {dialect})", flush=True)
                continue
            outcome = case(env)
            for result in outcome if isinstance(outcome, list) else [outcome]:
                results.append(result)
                _print_row(result)
            if dialect == "postgresql" and getattr(case, "write_heavy", False):
                print(f"    VACUUM ANALYZE after it: {vacuum_analyze():.1f} s", flush=True)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": dialect,
        "database_url": app.config["SQLALCHEMY_DATABASE_URI"].split("@")[-1],
        "python": platform.python_version(),
        "customers": env.customers,
        "projects": projects,
        "invoices": env.invoices,
        "costs": costs,
        "today": env.today.isoformat(),
        "runs": runs,
        "cases": [result.as_dict() for result in results],
    }
    args.results.write_text(json.dumps(report, indent=2) + "\n")
    markdown_path = args.markdown or args.results.with_suffix(".md")
    markdown_path.write_text(markdown(results, report, load_before=load_before, skipped=skipped))
    print(f"\nWrote {args.results} and {markdown_path}")
    return 0 if all(result.same_result for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
