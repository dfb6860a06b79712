"""``python -m bench.login_timing [--runs N]``: does the log-in page's answer time tell which
e-mail addresses have accounts?

Posts the login form (through Flask's test client, CSRF and all, the throttle off) with a
wrong password for an existing account and with an unknown e-mail address, alternating the two
so that both see the same background load, and prints both medians and their ratio. 1.00 means
the timing tells nothing; before the dummy-hash check an unknown address answered about ten
times faster. Reported, never asserted.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from custreg_admin import create_app
from custreg_admin.extensions import db
from custreg_admin.services.users import create_user

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.login_timing")
    parser.add_argument("--runs", type=int, default=30, help="attempts of each kind")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "CUSTREG_ENV": "development",
                "CUSTREG_SECRET_KEY": "bench",
                "CUSTREG_DATABASE_URL": f"sqlite:///{Path(folder) / 'login.db'}",
                "CUSTREG_LOGIN_THROTTLE": False,
                "CUSTREG_REGISTRIES": "",
            }
        )
        with app.app_context():
            db.create_all()
            create_user("known@example.com", "Known", "the-right-password", "user")
        client = app.test_client()
        token = _CSRF.search(client.get("/admin/login").get_data(as_text=True)).group(1)

        def attempt(email: str) -> float:
            started = time.perf_counter()
            response = client.post(
                "/admin/login",
                data={"email": email, "password": "a-wrong-password", "csrf_token": token},
            )
            took = time.perf_counter() - started
            assert response.status_code == 401, response.status_code
            return took

        attempt("known@example.com"), attempt("unknown@example.com")  # warm up
        known, unknown = [], []
        for n in range(args.runs):
            known.append(attempt("known@example.com"))
            unknown.append(attempt(f"unknown{n}@example.com"))
    known_ms, unknown_ms = statistics.median(known) * 1000, statistics.median(unknown) * 1000
    print(f"wrong password, existing account: median {known_ms:.1f} ms ({args.runs} runs)")
    print(f"unknown e-mail address:           median {unknown_ms:.1f} ms ({args.runs} runs)")
    print(f"ratio of medians (unknown / known): {unknown_ms / known_ms:.3f}")


if __name__ == "__main__":
    main()
