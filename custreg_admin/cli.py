"""``flask custreg ...``: init-db, demo, kpi-rebuild, create-user, plugins, import."""

from __future__ import annotations

import os

import click
from flask.cli import AppGroup

from .demo import (
    BULK_FROM,
    DEMO_ADMIN_EMAIL,
    DEMO_PASSWORD,
    generate,
    has_customers,
    progress_length,
    uses_bulk,
)
from .errors import DomainError
from .extensions import db
from .registries import load_providers
from .services import imports, kpi_totals
from .services.setup import seed_defaults, upgrade_schema
from .services.users import create_user

custreg_cli = AppGroup("custreg", help="Customer registry: database, demo data, users, plugins.")


@custreg_cli.command("init-db")
def init_db() -> None:
    """Create or upgrade the schema (Alembic migrations) and add the default settings."""
    upgrade_schema()
    added = seed_defaults()
    click.echo(f"Database is at the newest schema; {added} default settings added.")


@custreg_cli.command("create-user")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option(
    "--role", type=click.Choice(["admin", "manager", "user"]), default="admin", show_default=True
)
@click.option("--can-view-all-invoices", is_flag=True, default=False)
@click.password_option()
def create_user_command(email, name, role, can_view_all_invoices, password) -> None:
    """Create a user (the first administrator, say)."""
    try:
        user = create_user(email, name, password, role, can_view_all_invoices)
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {user.role} {user.email}.")


@custreg_cli.command("demo")
@click.option(
    "--customers",
    default=200,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="How many customers to create.",
)
@click.option("--seed", default=42, show_default=True, help="Random seed (same seed, same data).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has customers.")
@click.option(
    "--bulk/--no-bulk",
    default=None,
    help=f"PostgreSQL: load in one set-based transaction (default from {BULK_FROM:,} customers).",
)
def demo_command(customers: int, seed: int, if_empty: bool, bulk: bool | None) -> None:
    """Load deterministic, realistic demo data."""
    if if_empty and has_customers():
        click.echo("The database already has customers; no demo data loaded.")
        click.echo(f"Demo login (if the demo data is yours): {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}")
        return
    try:
        bulk = uses_bulk(customers, bulk)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    label = "Creating customers"
    with click.progressbar(length=progress_length(customers, bulk), label=label) as bar:

        def phase(name: str) -> None:
            bar.label = f"Bulk load: {name:<15}"
            bar.update(0)

        summary = generate(
            customers=customers, seed=seed, progress=bar.update, bulk=bulk, phase=phase
        )
    click.echo(summary.describe())
    click.echo(f"Log in as {summary.admin_email} with password {DEMO_PASSWORD}")


@custreg_cli.command("kpi-rebuild")
def kpi_rebuild_command() -> None:
    """Recompute the KPI aggregates from scratch (after writes that bypassed the module)."""
    rows = kpi_totals.rebuild(db.session)
    db.session.commit()
    click.echo(f"KPI aggregates rebuilt: {rows} rows.")


@custreg_cli.command("plugins")
def plugins_command() -> None:
    """List the installed registry plugins; exits non-zero when one failed to load."""
    report = load_providers()
    for entry in report.entries:
        status = "loaded" if entry.ok else f"FAILED: {entry.error}"
        click.echo(
            f"{entry.id or entry.name:12} {entry.country or '--':3} {entry.label or '':40} "
            f"{entry.distribution or '?'} {entry.version or ''}  {status}"
        )
    if not report.entries:
        click.echo("No registry plugins installed.")
    if report.failed:
        raise SystemExit(1)


@custreg_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and show the review; save nothing.")
@click.option("--mapping", "mapping_name", help="A saved column mapping to use.")
@click.option("--update-existing", is_flag=True, help="Update the customers the rows match.")
@click.option("--create-settings", is_flag=True, help="Create missing industries, segments…")
@click.option("--skip-errors", is_flag=True, help="Import the good rows, skip those with errors.")
@click.option("--enrich", is_flag=True, help="Fill missing fields from the business registries.")
@click.option("--encoding", type=click.Choice(imports.reading.ENCODINGS), help="Else detected.")
@click.option("--separator", type=click.Choice([";", ",", "tab"]), help="Else detected.")
@click.option("--as-user", "as_user", help="E-mail of the user the import is recorded for.")
def import_command(
    file, dry_run, mapping_name, update_existing, create_settings, skip_errors, enrich, encoding,
    separator, as_user,
) -> None:  # fmt: skip
    """Import customers from a CSV or XLSX file (the same review as the admin page)."""
    options = imports.Options(
        update_existing=update_existing,
        create_settings=create_settings,
        skip_errors=skip_errors,
        enrich=enrich,
    )
    try:
        user = imports.cli_user(as_user)
        with open(file, "rb") as handle:
            data = handle.read()
        name = os.path.basename(file)
        table = imports.read_table(
            data, name, encoding=encoding, separator="\t" if separator == "tab" else separator
        )
        saved = imports.load_mapping(mapping_name) if mapping_name else None
        mapping = imports.check_mapping(
            table.headers,
            imports.apply_saved(table.headers, saved)
            if saved
            else imports.auto_mapping(table.headers),
        )
        estimate = max(data.count(b"\n"), 1)  # rows of a CSV; an XLSX's bar just ends
        with click.progressbar(length=estimate, label="Checking rows") as bar:
            review = imports.check(
                table, mapping, options, progress=lambda n: bar.update(n - bar.pos)
            )
            bar.update(estimate)
        for line in imports.review_lines(table, review):
            click.echo(line)
        if review.error_rows and not skip_errors:
            raise click.ClickException(
                f"{review.error_rows} rows have errors; nothing saved. "
                "Fix them, or use --skip-errors."
            )
        if dry_run:
            click.echo("Dry run: nothing saved.")
            return
        batch = imports.apply(user, review, file_name=name)
    except DomainError as error:
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Import #{batch.id}: {batch.created_count} customers created, "
        f"{batch.updated_count} updated, {batch.skipped_count} rows skipped."
    )
