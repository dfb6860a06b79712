"""What the benchmark cases share: paired timing, the result row, memory in fresh processes,
``VACUUM ANALYZE`` after writes.

How a case measures (the API)
-----------------------------
* **Paired timing.** ``measured = paired(module, baseline, runs)`` runs each side once to warm
  up, then ``runs`` pairs. In each pair both sides run back to back, the order alternating
  (module first in even pairs, baseline first in odd ones), so that both see the same
  background load and neither profits from always running second. Every run ends with
  ``db.session.rollback()``; ``reset=`` (untimed) runs after every timed run of a side that
  writes, and ``module_after=`` / ``baseline_after=`` (untimed) give the side's result
  after its run (for example a count of the rows it changed), taken before ``reset``.
  :class:`Paired` holds both sides' milliseconds, their results, the **per-pair ratios**
  (module / baseline of the same pair), their median (:attr:`Paired.ratio`) and spread
  (:attr:`Paired.spread`: min–max, :attr:`Paired.iqr`: quartiles).
* **The row.** ``CaseResult.of("case name", measured, same_result=..., goal_ratio=1.5)``
  builds the printed and saved row. Its ``ratio`` is the median of the per-pair ratios (a
  ratio of medians only for rows that were not measured in pairs) and the table prints the
  spread beside it: ``1.12 [1.05–1.31]``. ``goal_ms`` compares the module's median.
* **Writes.** Decorate a case that writes much with :func:`write_heavy`: ``python -m bench``
  runs :func:`vacuum_analyze` after it on PostgreSQL (the bench server runs without
  autovacuum; dead rows would slow every later case), and once before the first case.
* **Memory.** ``memory_growth("bench.exports:csv_rows", (10_000, 100_000), env.database_url)``
  runs the target in a fresh Python process per size (``python -m bench.memory``) and returns a
  :class:`MemoryGrowth` (peak RSS added by the run at each size, and the growth between the
  sizes: ``describe()`` gives "+1.2 MiB at 10,000, +1.3 MiB at 100,000: x1.1 for x10 rows").
  The target is ``"module:function"``; the function takes ``(size)`` in an app context and
  returns the callable to measure (set-up before the return is not counted). Linux only.
* ``timed(function, runs)`` times one side alone (for cases without a baseline);
  ``timed_pair`` is the older tuple-returning form of :func:`paired`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import Engine, event

from custreg_admin.extensions import db


@dataclass
class BenchEnv:
    """Handed to every case: the app (an app context is pushed), the day, how many runs."""

    app: Flask
    today: date
    runs: int = 5
    customers: int = 0
    invoices: int = 0
    #: The bench database (for cases that start fresh processes: :func:`memory_growth`).
    database_url: str = ""


# --------------------------------------------------------------------------- paired timing


@dataclass
class Paired:
    """Both sides of a paired measurement (:func:`paired`)."""

    module_ms: list[float]
    baseline_ms: list[float]
    result: Any = None
    baseline_result: Any = None

    @property
    def ratios(self) -> list[float]:
        """module / baseline of each pair (both ran back to back, under the same load)."""
        return pair_ratios(self.module_ms, self.baseline_ms)

    @property
    def ratio(self) -> float:
        """The median of the per-pair ratios."""
        return median(self.ratios) if self.ratios else float("inf")

    @property
    def spread(self) -> tuple[float, float]:
        """The smallest and largest per-pair ratio."""
        return (min(self.ratios), max(self.ratios)) if self.ratios else (0.0, 0.0)

    @property
    def iqr(self) -> tuple[float, float]:
        """The first and third quartile of the per-pair ratios."""
        return quartiles(self.ratios)


def paired(
    module: Callable[[], Any],
    baseline: Callable[[], Any],
    runs: int,
    *,
    reset: Callable[[], Any] | None = None,
    module_after: Callable[[], Any] | None = None,
    baseline_after: Callable[[], Any] | None = None,
    warmup: bool = True,
) -> Paired:
    """Time ``module`` and ``baseline`` in ``runs`` pairs, alternating which runs first.

    After each run (untimed): ``module_after``/``baseline_after`` (its value becomes the side's
    result instead of the function's return), ``db.session.rollback()``, then ``reset``.
    """
    sides = (module, baseline)
    afters = (module_after, baseline_after)
    results: list[Any] = [None, None]
    times: tuple[list[float], list[float]] = ([], [])

    def run(index: int, timed_run: bool) -> None:
        started = time.perf_counter()
        value = sides[index]()
        elapsed = (time.perf_counter() - started) * 1000
        after = afters[index]
        results[index] = after() if after is not None else value
        db.session.rollback()
        if reset is not None:
            reset()
            db.session.rollback()
        if timed_run:
            times[index].append(elapsed)

    if warmup:
        run(0, False)
        run(1, False)
    for number in range(runs):
        for index in (0, 1) if number % 2 == 0 else (1, 0):
            run(index, True)
    return Paired(times[0], times[1], results[0], results[1])


def timed_pair(
    module: Callable[[], Any], baseline: Callable[[], Any], runs: int
) -> tuple[list[float], Any, list[float], Any]:
    """:func:`paired` as a tuple: (module ms, module result, baseline ms, baseline result)."""
    measured = paired(module, baseline, runs)
    return measured.module_ms, measured.result, measured.baseline_ms, measured.baseline_result


def timed(function: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Run ``function`` once to warm up, then ``runs`` times; (milliseconds per run, result).

    One side alone: a comparison with a baseline uses :func:`paired` instead.
    """
    result = function()
    db.session.rollback()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
        db.session.rollback()
    return times, result


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def pair_ratios(module_ms: Sequence[float], baseline_ms: Sequence[float]) -> list[float]:
    return [m / b for m, b in zip(module_ms, baseline_ms, strict=False) if b > 0]


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    if len(values) < 2:
        value = values[0] if values else 0.0
        return value, value
    first, _, third = statistics.quantiles(values, n=4, method="inclusive")
    return first, third


# --------------------------------------------------------------------------- the row


@dataclass
class CaseResult:
    case: str
    median_ms: float
    baseline_median_ms: float
    runs_ms: list[float]
    baseline_runs_ms: list[float]
    same_result: bool
    result: dict[str, Any] = field(default_factory=dict)
    baseline_result: dict[str, Any] = field(default_factory=dict)
    #: The issue's goal: the ratio at most this (0.2 = "5x faster than the baseline") ...
    goal_ratio: float | None = None
    #: ... or the module's median at most this many milliseconds.
    goal_ms: float | None = None
    #: One line printed beside the row (statement counts, peak memory...).
    note: str = ""
    #: True when runs_ms[i] and baseline_runs_ms[i] ran back to back (:func:`paired`).
    paired: bool = True

    @classmethod
    def of(
        cls,
        case: str,
        measured: Paired,
        *,
        same_result: bool,
        result: dict[str, Any] | None = None,
        baseline_result: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> CaseResult:
        """The row of a :func:`paired` measurement (results default to the sides' results)."""
        return cls(
            case=case,
            median_ms=round(median(measured.module_ms), 2),
            baseline_median_ms=round(median(measured.baseline_ms), 2),
            runs_ms=[round(t, 2) for t in measured.module_ms],
            baseline_runs_ms=[round(t, 2) for t in measured.baseline_ms],
            same_result=same_result,
            result=measured.result if result is None else result,
            baseline_result=(
                measured.baseline_result if baseline_result is None else baseline_result
            ),
            **kwargs,
        )

    @property
    def ratios(self) -> list[float]:
        if not self.paired or len(self.runs_ms) != len(self.baseline_runs_ms):
            return []
        return pair_ratios(self.runs_ms, self.baseline_runs_ms)

    @property
    def ratio(self) -> float:
        """The median of the per-pair ratios (the ratio of the medians if not paired)."""
        if self.ratios:
            return median(self.ratios)
        return self.median_ms / self.baseline_median_ms if self.baseline_median_ms else float("inf")

    @property
    def spread(self) -> tuple[float, float] | None:
        """min–max of the per-pair ratios; None if not paired."""
        ratios = self.ratios
        return (min(ratios), max(ratios)) if ratios else None

    @property
    def iqr(self) -> tuple[float, float] | None:
        return quartiles(self.ratios) if self.ratios else None

    @property
    def goal(self) -> str:
        if self.goal_ratio is not None:
            return f"<= {self.goal_ratio:g}"
        if self.goal_ms is not None:
            return f"< {self.goal_ms / 1000:g} s"
        return ""

    @property
    def goal_met(self) -> bool | None:
        """Whether this run met the goal; None without one. Reported, never asserted."""
        if self.goal_ratio is not None:
            return self.ratio <= self.goal_ratio
        if self.goal_ms is not None:
            return self.median_ms < self.goal_ms
        return None

    def as_dict(self) -> dict[str, Any]:
        spread, iqr = self.spread, self.iqr
        return {
            **asdict(self),
            "ratio": round(self.ratio, 3),
            "pair_ratios": [round(r, 3) for r in self.ratios],
            "ratio_min_max": [round(v, 3) for v in spread] if spread else None,
            "ratio_iqr": [round(v, 3) for v in iqr] if iqr else None,
            "goal": self.goal or None,
            "goal_met": self.goal_met,
        }


# --------------------------------------------------------------------------- writes


def write_heavy(case: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a case that writes many rows: the runner vacuums after it (:func:`vacuum_analyze`)."""
    case.write_heavy = True  # type: ignore[attr-defined]
    return case


def vacuum_analyze(engine: Engine | None = None, tables: Sequence[str] = ()) -> float:
    """``VACUUM ANALYZE`` (PostgreSQL; ``ANALYZE`` on SQLite), whole database or ``tables``.

    Returns the seconds it took. The session's transaction is ended first (VACUUM cannot run
    inside one).
    """
    db.session.rollback()
    engine = engine or db.engine
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for target in tables or ("",):
                connection.exec_driver_sql(f"VACUUM ANALYZE {target}".strip())
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - started


# --------------------------------------------------------------------------- memory


@dataclass
class MemoryGrowth:
    """Peak RSS that one run adds, in KiB, per size, each measured in a fresh process."""

    target: str
    peaks_kib: dict[int, int | None]

    @property
    def growth(self) -> float | None:
        """Peak at the largest size / peak at the smallest (1.0 = flat)."""
        sizes = sorted(self.peaks_kib)
        small, large = self.peaks_kib[sizes[0]], self.peaks_kib[sizes[-1]]
        if small is None or large is None or len(sizes) < 2:
            return None
        return large / max(small, 1)

    def describe(self) -> str:
        sizes = sorted(self.peaks_kib)
        parts = [f"+{kib(self.peaks_kib[size])} at {size:,}" for size in sizes]
        growth = self.growth
        if growth is None:
            return ", ".join(parts)
        return f"{', '.join(parts)}: x{growth:.2f} for x{sizes[-1] / sizes[0]:g} rows"

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "peaks_kib": {str(k): v for k, v in self.peaks_kib.items()},
            "growth": None if self.growth is None else round(self.growth, 3),
        }


def peak_memory_kib(target: str, size: int, database_url: str) -> int | None:
    """Peak RSS (KiB) one run of ``target`` at ``size`` adds, in a fresh ``python -m
    bench.memory`` process; None if it could not be measured (not Linux, or the run failed)."""
    if not os.path.exists("/proc/self/clear_refs"):
        return None
    completed = subprocess.run(
        [sys.executable, "-m", "bench.memory", target, str(size), database_url],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        sys.stderr.write(completed.stderr[-2000:])
        return None
    return json.loads(lines[-1])["peak_kib"]


def memory_growth(
    target: str, sizes: Sequence[int] = (10_000, 100_000), database_url: str = ""
) -> MemoryGrowth:
    """:func:`peak_memory_kib` at each size: how the peak grows with the rows."""
    url = database_url or db.engine.url.render_as_string(hide_password=False)
    return MemoryGrowth(target, {size: peak_memory_kib(target, size, url) for size in sizes})


# --------------------------------------------------------------------------- misc


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[int]]:
    """Count the SQL statements ``engine`` sends while the block runs: ``counter[0]``."""
    counter = [0]

    def count(*_args: Any) -> None:
        counter[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", count)


def kib(value: int | None) -> str:
    return "n/a" if value is None else f"{value / 1024:,.1f} MiB"
