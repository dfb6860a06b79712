"""Customer import (Settings > Data imports > Customer import; ``flask custreg import``).

A file is read (:mod:`.reading`), its columns mapped (:mod:`.columns`), every row checked and
matched in a dry run that saves nothing (:mod:`.validation`, :mod:`.matching`), optionally
filled in from the business registries (:mod:`.enrichment`), applied as one batch
(:mod:`.applying`) and undone (:mod:`.undo`). :func:`review_file` and :func:`check` put the
steps together for the CLI and tests (all rows in memory); :mod:`.jobs` runs the admin page's
review as a stored job (rows checked in batches and stored, applied from the store).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from . import jobs, reading, uploads
from .applying import ImportRefused, apply
from .columns import (
    FIELD_BY_KEY,
    FIELDS,
    apply_saved,
    auto_mapping,
    check_mapping,
    load_mapping,
    save_mapping,
    saved_mappings,
    template_csv,
    template_xlsx,
)
from .enrichment import Enricher
from .reading import BadFile, Table, read_table
from .report import cli_user, errors_csv, errors_xlsx, review_lines
from .undo import batch_changes, recent_batches, undo
from .validation import Options, Review, RowResult, validate

__all__ = [
    "batch_changes",
    "recent_batches",
    "FIELDS",
    "FIELD_BY_KEY",
    "BadFile",
    "Enricher",
    "ImportRefused",
    "Options",
    "Review",
    "RowResult",
    "Table",
    "apply",
    "cli_user",
    "errors_csv",
    "errors_xlsx",
    "jobs",
    "reading",
    "uploads",
    "review_lines",
    "apply_saved",
    "auto_mapping",
    "check",
    "check_mapping",
    "load_mapping",
    "read_table",
    "review_file",
    "save_mapping",
    "saved_mappings",
    "template_csv",
    "template_xlsx",
    "undo",
    "validate",
]


def review_file(
    data: bytes,
    filename: str,
    options: Options,
    *,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    separator: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[Table, Review]:
    """Read, map and check a file (the dry run). ``mapping``: as given (checked); default: the
    headers recognised."""
    table = read_table(data, filename, encoding=encoding, separator=separator)
    chosen = check_mapping(
        table.headers, mapping if mapping is not None else auto_mapping(table.headers)
    )
    return table, check(table, chosen, options, progress=progress)


def check(
    table: Table,
    mapping: Mapping[str, str],
    options: Options,
    *,
    progress: Callable[[int], None] | None = None,
) -> Review:
    """The dry run of a read file with a checked mapping, enriched from the registries when
    ``options.enrich``."""
    enricher = Enricher() if options.enrich else None
    review = validate(
        table.headers, table.rows, mapping, options, progress=progress, enricher=enricher
    )
    if enricher is not None:
        review.notes.extend(enricher.review_notes())
    return review
