"""What the benchmark cases share: timing, the result row, the run's environment."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from flask import Flask

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

    @property
    def ratio(self) -> float:
        return self.median_ms / self.baseline_median_ms if self.baseline_median_ms else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": round(self.ratio, 3)}


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


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0
