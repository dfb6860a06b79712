"""Benchmarks of custreg-admin: each case times the module's code against a hand-written
baseline measured in the same run on the same engine, and prints the ratio.

Run ``python -m bench [--customers N] [--database-url URL] [--quick] [--only WORD]``; results
also go to ``bench/results.json``. Cases live in modules of this package (``bench.kpi``,
``bench.summary``, ``bench.mass_update``, ``bench.exports``, ``bench.registry``) and are listed
in :data:`bench.__main__.CASES`. The load test is :mod:`bench.load` (``python -m bench.load``).
"""
