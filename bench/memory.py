"""``python -m bench.memory MODULE:FUNCTION SIZE DATABASE_URL``: one measurement of
:func:`bench.common.peak_memory_kib`, in this fresh process.

Makes the bench app on DATABASE_URL, pushes its context, calls ``FUNCTION(SIZE)`` (the set-up:
imports, queries, warm-up; not counted) and gets back the callable to measure. Then it resets
the peak resident set (``/proc/self/clear_refs``), calls it once, and prints
``{"peak_kib": VmHWM - VmRSS before}`` as the last line.
"""

from __future__ import annotations

import importlib
import json
import sys

from custreg_admin import create_app


def _status(key: str) -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def main(argv: list[str]) -> int:
    target, size, url = argv[0], int(argv[1]), argv[2]
    module_name, _, function_name = target.partition(":")
    setup = getattr(importlib.import_module(module_name), function_name)
    app = create_app(
        {"CUSTREG_DATABASE_URL": url, "CUSTREG_SECRET_KEY": "bench", "CUSTREG_REGISTRIES": ""}
    )
    with app.app_context():
        run = setup(size)
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
        before = _status("VmRSS")
        run()
        peak = _status("VmHWM") - before
    print(json.dumps({"peak_kib": peak, "size": size, "target": target}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
