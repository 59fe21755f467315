"""Browser helpers: sign in through the real form in headless Chromium."""

from __future__ import annotations

import contextlib
import os
import threading
import time

import pytest
from dash.testing.application_runners import BaseDashRunner
from dash.testing.wait import until
from selenium.webdriver.common.by import By

from dashboard.data.seed import DEMO_PASSWORD

# Each test process serves its apps on ports of its own (dash counts up from one fixed port),
# so two suites on one machine do not answer each other's browsers.
BaseDashRunner._next_port = 20_000 + (os.getpid() % 400) * 100
REQUESTS_END_S = 30  # the longest a request of a page may still take when its test ends


class BrowserSession:
    def __init__(self, dash_duo) -> None:
        self.duo = dash_duo

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> None:
        duo = self.duo
        duo.driver.get(duo.server_url + "/login")
        duo.wait_for_element("#login-email").send_keys(email)
        duo.find_element("#login-password").send_keys(password)
        duo.find_element("#login-submit").click()

    def wait_for_role(self, label: str, timeout: float = 15) -> None:
        """The header's role badge (styled upper-case, so compare its text content)."""
        until(lambda: self._text_content("#shell-user-role") == label, timeout=timeout)

    def _text_content(self, selector: str) -> str | None:
        found = self.duo.driver.find_elements(By.CSS_SELECTOR, selector)
        return found[0].get_attribute("textContent") if found else None

    def sign_out(self) -> None:
        self.duo.wait_for_element("#shell-sign-out").click()

    def grid_column(self, grid_id: str, field: str) -> list[str]:
        cells = self.duo.driver.find_elements(
            By.CSS_SELECTOR,
            f"#{grid_id} .ag-center-cols-container .ag-row .ag-cell[col-id='{field}'], "
            f"#{grid_id} .ag-pinned-left-cols-container .ag-row .ag-cell[col-id='{field}']",
        )
        return [c.text for c in cells]


@pytest.fixture
def dash_duo(app, dash_duo):
    """dash[testing]'s ``dash_duo``, set up after the app: at the end the browser quits and the
    server stops before the app is disposed and the test's database dropped (a page's timers
    must not reach a dropped database)."""
    return dash_duo


@pytest.fixture
def dash_thread_server(dash_thread_server):
    """dash[testing]'s server thread; at the end, after the browser has quit, the requests
    it was still answering finish before the server is stopped (stopping it raises
    SystemExit in every thread it started)."""
    yield dash_thread_server
    deadline = time.monotonic() + REQUESTS_END_S
    while time.monotonic() < deadline and any(
        t.name.endswith("(process_request_thread)") for t in threading.enumerate()
    ):
        time.sleep(0.05)


@pytest.fixture
def browser(dash_duo, app):
    # The first page is the (non-Dash) sign-in form, so do not wait for Dash's entry point.
    dash_duo.start_server(app, navigate=False)
    dash_duo._url = dash_duo.server.url
    return BrowserSession(dash_duo)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep a screenshot of a failed browser test for the person debugging it."""
    outcome = yield
    report = outcome.get_result()
    duo = item.funcargs.get("dash_duo")
    if report.failed and duo is not None and call.when == "call":
        # The test already failed: keep its own error even if the screenshot fails.
        with contextlib.suppress(Exception):
            duo.driver.save_screenshot(f"/tmp/failed-{item.name}.png")
