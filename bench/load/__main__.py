"""``python -m bench.load [--database-url URL] [--customers N] [--users 50] [--run-time 60s]``.

One command for the load test of issue #9:

1. the PostgreSQL database (default ``postgresql://postgres@127.0.0.1:5432/custreg_load``) is
   created when missing and migrated; it gets N demo customers (default 20,000: setup stays at
   a minute or two; a database that already holds N is reused, other data only goes with
   ``--rebuild``);
2. 50 load users (``load00@load.custreg.example``... password ``load-password``; 10 admins,
   15 managers, 25 users, every other manager with "sees all invoices") are created once; each
   manager and user becomes the account owner of 1 % of the customers, so that their KPI
   figures, lists and downloads are of their own customers;
3. gunicorn serves :mod:`bench.load.wsgi` with 4 sync workers on 127.0.0.1 (a free port), with
   login throttling off for this app only (every virtual user logs in from 127.0.0.1) and
   ``CUSTREG_CACHE_URL`` from ``--cache-url`` (Redis: one cache for the workers);
4. locust runs headless, ``--users 50 --spawn-rate 10 --run-time 60s``, with the users of
   :mod:`bench.load.locustfile`;
5. it prints requests/s, p50 and p99 latency per request type and in total, and the error
   count; writes ``bench/load_results.json``; stops gunicorn; exits 1 if there was any error.

Needs the ``load`` extra (gunicorn, locust): ``pip install -e '.[dev,load]'`` or ``make load``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from custreg_admin import create_app
from custreg_admin.config import sqlalchemy_url
from custreg_admin.extensions import db
from custreg_admin.models import Customer, User

from ..data import count_rows, prepare_data
from . import LOAD_CONFIG

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS = HERE.parent / "load_results.json"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/custreg_load"
PASSWORD = "load-password"
EMAIL = "load{:02d}@load.custreg.example"
#: How many of the load users have each role (in this order).
ROLES = (("admin", 10), ("manager", 15), ("user", 25))
OWNED_PERCENT = 1  # of the customers, for each manager and user


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    parser.add_argument("--customers", type=int, default=20_000, help="default 20,000")
    parser.add_argument("--rebuild", action="store_true", help="drop and rebuild the data")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--users", type=int, default=50, help="concurrent users (default 50)")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--run-time", default="60s", help="locust --run-time (default 60s)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument(
        "--wait", default="1,3", help="think time between a user's pages, seconds (default 1,3)"
    )
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("CUSTREG_CACHE_URL") or "memory://",
        help="CUSTREG_CACHE_URL of the served app: redis://host:6379/N shares the KPI and "
        "filter-choice cache between the workers; memory:// (default) is one per worker; "
        "off computes every figure per request",
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- setup


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in ``url`` when it does not exist."""
    target = make_url(sqlalchemy_url(url))
    if not target.get_backend_name().startswith("postgresql"):
        return
    engine = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            )
            if not exists:
                print(f"Creating database {target.database}...", flush=True)
                quoted = connection.dialect.identifier_preparer.quote(target.database)
                connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        engine.dispose()


def ensure_users(count: int) -> list[dict[str, Any]]:
    """The load users (made once, with their share of customers); their logins as dicts."""
    roles = [role for role, n in ROLES for _ in range(n)]
    roles += ["user"] * max(0, count - len(roles))
    password_hash = None
    owners: list[User] = []
    accounts = []
    for index, role in enumerate(roles[:count]):
        email = EMAIL.format(index)
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            password_hash = password_hash or generate_password_hash(PASSWORD)
            user = User(
                email=email,
                name=f"Load {role} {index:02d}",
                role=role,
                can_view_all_invoices=role == "manager" and index % 2 == 0,
                is_active=True,
                password_hash=password_hash,
            )
            db.session.add(user)
            db.session.flush()
            if role != "admin":
                owners.append(user)
        accounts.append(
            {
                "email": email,
                "password": PASSWORD,
                "role": role,
                "id": user.id,
                "owns": role != "admin",
            }
        )
    for share, owner in enumerate(owners):  # only for users made just now
        db.session.execute(
            update(Customer)
            .where(Customer.id % (100 // OWNED_PERCENT) == share % (100 // OWNED_PERCENT))
            .values(owner_id=owner.id)
        )
    db.session.commit()
    if owners:
        print(f"Created {len(owners)} load users owning customers, and the admins.", flush=True)
    return accounts


# --------------------------------------------------------------------------- processes


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped (exit {server.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/admin/login", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    sys.exit(f"gunicorn did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of the workers
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --------------------------------------------------------------------------- report


def _number(value: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def read_stats(prefix: Path) -> tuple[list[dict[str, Any]], int]:
    """Rows of locust's ``_stats.csv`` (the total last) and the number of exceptions."""
    rows = []
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows.append(
                {
                    "name": row["Name"] if row["Name"] != "Aggregated" else "total",
                    "method": row["Type"],
                    "requests": int(_number(row["Request Count"])),
                    "failures": int(_number(row["Failure Count"])),
                    "requests_per_s": round(_number(row["Requests/s"]), 2),
                    "p50_ms": _number(row["50%"]),
                    "p99_ms": _number(row["99%"]),
                    "max_ms": round(_number(row["Max Response Time"]), 1),
                }
            )
    exceptions = 0
    path = Path(f"{prefix}_exceptions.csv")
    if path.exists():
        with open(path, newline="", encoding="utf-8") as handle:
            exceptions = sum(int(_number(row.get("Count"))) for row in csv.DictReader(handle))
    return rows, exceptions


def _failures(prefix: Path) -> list[dict[str, Any]]:
    path = Path(f"{prefix}_failures.csv")
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return [
            {"name": row["Name"], "error": row["Error"], "count": int(_number(row["Occurrences"]))}
            for row in csv.DictReader(handle)
        ]


def print_table(rows: list[dict[str, Any]]) -> None:
    header = (
        f"{'request':<30} {'requests':>9} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        if row["name"] == "total":
            print("-" * len(header))
        print(
            f"{row['name']:<30} {row['requests']:>9,} {row['failures']:>7,} "
            f"{row['requests_per_s']:>8.2f} {row['p50_ms']:>8.0f} {row['p99_ms']:>8.0f}"
        )


# --------------------------------------------------------------------------- main


def _shown_url(url: str) -> str:
    """A URL without its password."""
    return make_url(url).render_as_string(hide_password=True) if "://" in url else url


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    ensure_database(args.database_url)
    secret = secrets.token_hex(32)
    app = create_app({"CUSTREG_DATABASE_URL": args.database_url, "CUSTREG_SECRET_KEY": secret})
    with app.app_context():
        prepare_data(args.customers, seed=args.seed, rebuild=args.rebuild)
        accounts = ensure_users(args.users)
        customers = count_rows(Customer)
        dialect = db.engine.dialect.name
        db.session.remove()
        db.engine.dispose()

    work = Path(tempfile.mkdtemp(prefix="custreg-load-"))
    users_file = work / "users.json"
    users_file.write_text(json.dumps(accounts), encoding="utf-8")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = work / "gunicorn.log"
    environment = {
        **os.environ,
        "CUSTREG_DATABASE_URL": args.database_url,
        "CUSTREG_SECRET_KEY": secret,
        "CUSTREG_CACHE_URL": args.cache_url,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    settings = ", ".join(f"{key}={value}" for key, value in LOAD_CONFIG.items())
    print(
        f"\n{dialect}, {customers:,} customers; gunicorn, {args.workers} workers, on {url}; "
        f"login throttling off for this app ({settings}); cache {_shown_url(args.cache_url)}",
        flush=True,
    )
    with open(log, "wb") as log_file:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{port}",
                "--chdir",
                str(ROOT),
                "--timeout",
                "120",
                "bench.load.wsgi:app",
            ],
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(url, server, log)
        print(
            f"locust: {args.users} users, spawn rate {args.spawn_rate:g}/s, "
            f"run time {args.run_time}, think time {args.wait} s\n",
            flush=True,
        )
        prefix = work / "locust"
        started = time.monotonic()
        locust = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.spawn_rate),
                "--run-time",
                args.run_time,
                "--host",
                url,
                "--csv",
                str(prefix),
                "--only-summary",
                "--stop-timeout",
                "30",
                "--loglevel",
                "WARNING",
            ],
            env={
                **environment,
                "CUSTREG_LOAD_USERS": str(users_file),
                "CUSTREG_LOAD_WAIT": args.wait,
            },
            capture_output=True,
            text=True,
        )
        elapsed = time.monotonic() - started
    finally:
        _stop(server)
    if not Path(f"{prefix}_stats.csv").exists():
        print(locust.stdout[-3000:], locust.stderr[-3000:], sep="\n")
        sys.exit(f"locust wrote no statistics (exit {locust.returncode}); see {work}")

    rows, exceptions = read_stats(prefix)
    total = next(row for row in rows if row["name"] == "total")
    failures = _failures(prefix)
    errors = total["failures"] + exceptions
    print_table(rows)
    print(
        f"\n{total['requests_per_s']:.1f} requests/s, p50 {total['p50_ms']:.0f} ms, "
        f"p99 {total['p99_ms']:.0f} ms, {errors} errors "
        f"({total['failures']} failed requests, {exceptions} exceptions in the users' code)"
    )
    for failure in failures:
        print(f"  {failure['count']} x {failure['name']}: {failure['error']}")
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": dialect,
        "database_url": args.database_url.split("@")[-1],
        "python": platform.python_version(),
        "customers": customers,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "run_time": args.run_time,
        "think_time_s": args.wait,
        "gunicorn_workers": args.workers,
        "login_throttling": f"off for the load app: {LOAD_CONFIG}",
        "cache_url": _shown_url(args.cache_url),
        "wall_time_s": round(elapsed, 1),
        "requests_per_s": total["requests_per_s"],
        "p50_ms": total["p50_ms"],
        "p99_ms": total["p99_ms"],
        "errors": errors,
        "failures": failures,
        "requests": rows,
    }
    args.results.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nWrote {args.results}")
    if errors:
        print(f"gunicorn's log and locust's CSV files are kept in {work}")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
