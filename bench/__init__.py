"""Benchmarks of custreg-admin: each case times the module's code against a hand-written
baseline measured in the same run on the same engine, and prints the ratio.

Run ``python -m bench [--customers N] [--database-url URL] [--quick]``; results also go to
``bench/results.json``. Cases live in modules of this package (``bench.kpi``) and are listed in
:data:`bench.__main__.CASES`.
"""
