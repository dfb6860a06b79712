"""What one virtual user of the load test does (locust; started by ``python -m bench.load``).

Each user takes its own account from the JSON file named by ``CUSTREG_LOAD_USERS`` (e-mail,
password, role, id), logs in through the login form with its CSRF token, lands on the home
dashboard, then browses with a think time of ``CUSTREG_LOAD_WAIT`` seconds ("1,3": 1 to 3):

* Customers > Summary (the list, then its KPI cards in their own request, as the page's
  script fetches them), the most frequent;
* a search on Summary (and its cards);
* a customer card, picked from the rows it has seen;
* Reports: the report list and a customers report preview;
* now and then a CSV download of the customers the user owns (or of one country's).

Every answer is checked for what the user would look for, not only for the status: a login
page instead of the list, a list without rows or cards without figures count as failures.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from pathlib import Path

from locust import HttpUser, between, task

ACCOUNTS = json.loads(Path(os.environ["CUSTREG_LOAD_USERS"]).read_text(encoding="utf-8"))
WAIT = tuple(float(x) for x in os.environ.get("CUSTREG_LOAD_WAIT", "1,3").split(","))
SEARCHES = ("oy", "consulting", "as", "ab", "group", "tech", "nord", "lvi", "1234", "aalto")

_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_KPI_URL = re.compile(r'data-kpi-url="([^"]+)"')
_CARD = re.compile(r"/customers/details/\?id=(\d+)")
_accounts = itertools.count()


class BackOfficeUser(HttpUser):
    wait_time = between(*WAIT)

    def on_start(self) -> None:
        self.account = ACCOUNTS[next(_accounts) % len(ACCOUNTS)]
        self.customer_ids: list[str] = []
        self.logged_in = False
        with self.client.get("/admin/login", name="login page", catch_response=True) as page:
            token = _CSRF.search(page.text or "")
            if page.status_code != 200 or not token:
                page.failure(f"no login form (HTTP {page.status_code})")
                return
        form = {
            "email": self.account["email"],
            "password": self.account["password"],
            "csrf_token": token.group(1),
        }
        with self.client.post(
            "/admin/login", data=form, name="login", allow_redirects=False, catch_response=True
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"login refused (HTTP {answer.status_code})")
                return
        self.logged_in = True
        self._page("/admin/", "home dashboard", 'data-testid="kpi-cards"')

    def _page(self, url: str, name: str, expected: str, **kwargs) -> str | None:
        """GET ``url``; a failure unless it answers 200 with ``expected`` in the page."""
        with self.client.get(
            url, name=name, allow_redirects=False, catch_response=True, **kwargs
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"HTTP {answer.status_code}")
                return None
            if expected not in answer.text:
                answer.failure(f"{expected!r} is not on the page")
                return None
            return answer.text

    def _summary(self, url: str, name: str) -> None:
        page = self._page(url, name, "data-kpi-url=")  # a Summary page, rows or none
        if page is None:
            return
        self.customer_ids = _CARD.findall(page) or self.customer_ids
        cards = _KPI_URL.search(page)
        if cards is None:
            return
        self._page(
            cards.group(1).replace("&amp;", "&"),
            "summary KPI cards" + (" (search)" if "search=" in url else ""),
            'data-testid="kpi-cards"',
            headers={"X-Custreg-Fragment": "1"},
        )

    @task(4)
    def summary(self) -> None:
        if self.logged_in:
            self._summary("/admin/customers/", "summary list")

    @task(2)
    def search(self) -> None:
        if self.logged_in:
            term = random.choice(SEARCHES)
            self._summary(f"/admin/customers/?search={term}", "summary search")

    @task(3)
    def customer_card(self) -> None:
        if self.logged_in and self.customer_ids:
            customer = random.choice(self.customer_ids)
            self._page(f"/admin/customers/details/?id={customer}", "customer card", "Edit")

    @task(1)
    def report_preview(self) -> None:
        if not self.logged_in:
            return
        self._page("/admin/reports/", "reports page", "Report creation")
        query = "type=customers&columns=number&columns=name&columns=owner&columns=industry"
        self._page(
            f"/admin/reports/build/?{query}&f_country=NO&sort=name",
            "report preview",
            "<table",
        )

    @task(1)
    def csv_download(self) -> None:
        if not self.logged_in:
            return
        query = "type=customers&columns=number&columns=name&columns=business_id&columns=owner"
        mine = f"f_owner={self.account['id']}" if self.account["owns"] else "f_country=NO"
        with self.client.get(
            f"/admin/reports/download/csv/?{query}&{mine}",
            name="report CSV download",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 200 or not answer.headers.get("Content-Type", "").startswith(
                "text/csv"
            ):
                answer.failure(f"HTTP {answer.status_code} {answer.headers.get('Content-Type')}")
            elif answer.text.count("\n") < 2:
                answer.failure("the CSV has no rows")
