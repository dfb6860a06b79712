"""The run's table as Markdown (``python -m bench --markdown PATH``; default
``bench/results.md``): the same rows as the printed table, with the command, the data's size
and the load average before and after, so that the table can be pasted into a note as it is."""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .common import CaseResult


def load_average() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:  # not available on this system
        return "n/a"


def _ms(value: float) -> str:
    if value >= 1000:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def row(result: CaseResult) -> str:
    spread, iqr = result.spread, result.iqr
    met = {True: "yes", False: "**no**", None: ""}[result.goal_met]
    cells = [
        result.case,
        _ms(result.median_ms),
        _ms(result.baseline_median_ms) if result.baseline_median_ms else "",
        f"{result.ratio:.2f}" if result.baseline_median_ms else "",
        f"{iqr[0]:.2f}–{iqr[1]:.2f}" if iqr else "",
        f"{spread[0]:.2f}–{spread[1]:.2f}" if spread else "",
        result.goal.replace("<=", "≤"),
        met,
        "yes" if result.same_result else "**no**",
        result.note,
    ]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def markdown(
    results: Sequence[CaseResult],
    report: dict[str, Any],
    *,
    load_before: str,
    skipped: Sequence[str],
) -> str:
    command = "python -m bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    lines = [
        f"Benchmark run {report['generated_at']}: {report['database']}, "
        f"{report['customers']:,} customers, {report['projects']:,} projects, "
        f"{report['invoices']:,} invoices, {report['costs']:,} costs; median of "
        f"{report['runs']} runs (at least); ratio = median of the per-pair ratios "
        "(module / baseline, both sides alternating run by run).",
        "",
        f"Command: `{command}`  ",
        f"Load average (1, 5, 15 min) before: {load_before}; after: {load_average()}.",
        "",
        "| case | module ms | baseline ms | ratio | IQR | min–max | goal | met | same | notes |",
        "|---|---:|---:|---:|---|---|---|---|---|---|",
        *(row(result) for result in results),
    ]
    if skipped:
        lines += ["", "Not run at this size: " + "; ".join(skipped) + "."]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    path.write_text(text)
