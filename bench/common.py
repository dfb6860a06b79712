"""What the benchmark cases share: timing, the result row, the run's environment."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
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

    @property
    def ratio(self) -> float:
        return self.median_ms / self.baseline_median_ms if self.baseline_median_ms else float("inf")

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
        return {
            **asdict(self),
            "ratio": round(self.ratio, 3),
            "goal": self.goal or None,
            "goal_met": self.goal_met,
        }


def timed(function: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    """Run ``function`` once to warm up, then ``runs`` times; (milliseconds per run, result).

    Each run ends its transaction, so every run starts from the same state.
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


def timed_pair(
    module: Callable[[], Any], baseline: Callable[[], Any], runs: int
) -> tuple[list[float], Any, list[float], Any]:
    """Like :func:`timed` for both sides, alternating module and baseline run by run, so that
    both see the same background load (for cases of milliseconds on a shared machine).

    Returns (module ms per run, module result, baseline ms per run, baseline result).
    """
    sides = (module, baseline)
    results: list[Any] = [None, None]
    times: tuple[list[float], list[float]] = ([], [])
    for index, function in enumerate(sides):  # warm-up
        results[index] = function()
        db.session.rollback()
    for _ in range(runs):
        for index, function in enumerate(sides):
            started = time.perf_counter()
            results[index] = function()
            times[index].append((time.perf_counter() - started) * 1000)
            db.session.rollback()
    return times[0], results[0], times[1], results[1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


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
