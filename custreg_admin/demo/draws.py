"""Random draws of the demo generator: weighted spreads and picks, and the probability tables
of profiles, statuses, VAT rates, proposals and costs."""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence
from typing import Any


def cumulative_weights(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def spread(rng: random.Random, total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` items among len(weights) owners, each in proportion to its weight."""
    counts = [0] * len(weights)
    if total <= 0 or not weights:
        return counts
    cumulative = cumulative_weights(weights)
    if cumulative[-1] <= 0:
        return counts
    top, pick, size = cumulative[-1], rng.random, len(counts) - 1
    for _ in range(total):
        counts[min(bisect.bisect(cumulative, pick() * top), size)] += 1
    return counts


def pick(roll: float, choices: Sequence[tuple[Any, float]]) -> Any:
    """The first choice whose cumulative probability exceeds ``roll`` (the last one else)."""
    for value, cumulative in choices:
        if roll < cumulative:
            return value
    return choices[-1][0]


# Cumulative probabilities.
PROFILES = (("prospect", 0.12), ("dormant", 0.25), ("active", 1.0))
VAT_RATES = {
    "FI": (("General 25.5%", 0.92), ("Reduced 14%", 0.95), ("Reduced 10%", 0.97),
           ("Zero-rated", 1.0)),
    "NO": (("General 25%", 0.92), ("Reduced 15%", 0.95), ("Reduced 12%", 0.97),
           ("Zero-rated", 1.0)),
}  # fmt: skip
TEMPLATES = {"FI": "Standard", "NO": "Standard NO"}
SALES_CASE_STATUSES = (("in_progress", 0.4), ("won", 0.75), ("lost", 1.0))
PROJECT_STATUSES = (("won", 0.8), ("in_progress", 0.95), ("lost", 1.0))
CLOSED_SHARE = {  # (kind, sales status): share of closed ones among active customers' projects
    ("sales_case", "in_progress"): 0.0, ("sales_case", "won"): 0.5,
    ("sales_case", "lost"): 0.85, ("project", "in_progress"): 0.0, ("project", "won"): 0.35,
    ("project", "lost"): 1.0,
}  # fmt: skip
PROPOSAL_SHARE = {
    ("sales_case", "in_progress"): 0.7, ("sales_case", "won"): 0.9,
    ("sales_case", "lost"): 0.8, ("project", "in_progress"): 0.25, ("project", "won"): 0.25,
    ("project", "lost"): 0.25,
}  # fmt: skip
COST_WEIGHT = {
    ("sales_case", "in_progress"): 0.6, ("sales_case", "won"): 1.5, ("sales_case", "lost"): 0.3,
    ("project", "in_progress"): 4.0, ("project", "won"): 4.0, ("project", "lost"): 0.5,
}  # fmt: skip
# Invoice statuses by the invoice's age in days: recent ones are still drafts or unpaid.
INVOICE_STATUSES = (
    (14, (("Draft", 0.35), ("Approved", 0.55), ("Sent", 0.95), ("Paid", 1.0))),
    (45, (("Draft", 0.04), ("Approved", 0.08), ("Sent", 0.55), ("Paid", 1.0))),
    (None, (("Draft", 0.003), ("Sent", 0.04), ("Credited", 0.075), ("Paid", 1.0))),
)
PROJECT_WEIGHT = {"prospect": 0.4, "dormant": 2.0, "active": 3.6}
INVOICE_WEIGHT = {"prospect": 0.0, "dormant": 4.0, "active": 12.0}
