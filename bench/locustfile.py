"""Load test: people replaying the callback requests a real Chromium session made
(``bench/record.py``), in the mix of the issue: 60% account managers opening the Workspace and
paging statistics, 25% district managers opening Review, 15% executives opening the Regional
report. Each callback is reported under its output; each whole page open under
``OPEN <page>`` (the requests of the page one after another, as the slowest browser would).

Runs in its own virtual environment (locust's requests/urllib3 differ from the test suite's):
``bench/load.py`` sets it up and runs it. Environment: ``LOAD_RECORDED`` (the recording),
``LOAD_ACCOUNTS`` (role → e-mail JSON), ``LOAD_PASSWORD``.
"""

from __future__ import annotations

import json
import os
import re
import time

from locust import HttpUser, between, events, task

RECORDED = json.loads(open(os.environ["LOAD_RECORDED"]).read())  # noqa: SIM115
ACCOUNTS = json.loads(open(os.environ["LOAD_ACCOUNTS"]).read())  # noqa: SIM115
PASSWORD = os.environ.get("LOAD_PASSWORD", "forecast-demo")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class _Person(HttpUser):
    abstract = True
    role = ""
    wait_time = between(1, 3)

    def on_start(self):
        page = self.client.get("/login", name="GET /login").text
        token = CSRF.search(page).group(1)
        form = {"csrf": token, "email": ACCOUNTS[self.role], "password": PASSWORD, "next": "/"}
        # Every simulated person of a role signs in as the same demo account from the same
        # address, dozens at once: sign-in throttling counts attempts still being checked
        # against each other (so a burst of guesses cannot slip through), and asks the
        # surplus to wait a few seconds (429 + Retry-After). A person does as the form says:
        # waits and signs in again. Those waits are reported under their own name.
        for _ in range(8):
            with self.client.post(
                "/login", data=form, allow_redirects=False, name="POST /login", catch_response=True
            ) as answer:
                if answer.status_code == 429:
                    answer.success()
                    events.request.fire(
                        request_type="WAIT",
                        name="sign-in asked to wait (same account signing in at once)",
                        response_time=0,
                        response_length=0,
                        exception=None,
                        context={},
                    )
                    time.sleep(float(answer.headers.get("Retry-After", "2")))
                    continue
                if answer.status_code != 302:
                    answer.failure(f"sign-in answered {answer.status_code}")
                    raise RuntimeError(f"sign-in as {self.role} answered {answer.status_code}")
                return
        raise RuntimeError(f"sign-in as {self.role} still throttled after 8 tries")

    def replay(self, step: str) -> None:
        start = time.perf_counter()
        failed = None
        for request in RECORDED[step]["requests"]:
            if "cacheKey=" in request["url"]:
                # A background job's poll (the recording's report job): the job started by
                # its first request is not polled again here.
                continue
            body = request["body"]
            name = body.get("output", "?")
            if len(name) > 90:
                name = name[:87] + "..."
            with self.client.post(
                "/" + request["url"].split("?")[0],
                json=body,
                name=name,
                catch_response=True,
            ) as answer:
                if answer.status_code not in (200, 204):
                    failed = f"{answer.status_code} on {name}: {answer.error!r}"[:300]
                    answer.failure(failed)
                else:
                    answer.success()
        events.request.fire(
            request_type="OPEN",
            name=step,
            response_time=(time.perf_counter() - start) * 1000,
            response_length=0,
            exception=RuntimeError(failed) if failed else None,
            context={},
        )


class AccountManager(_Person):
    weight = 60
    role = "account_manager"

    @task(1)
    def open_workspace(self):
        self.replay("workspace_open")

    @task(2)
    def page_statistics(self):
        self.replay("statistics_page")


class DistrictManager(_Person):
    weight = 25
    role = "district_manager"

    @task
    def open_review(self):
        self.replay("review_open")


class Executive(_Person):
    weight = 15
    role = "executive"

    @task
    def open_report(self):
        self.replay("report_open")
