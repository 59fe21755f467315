"""The Content-Security-Policy holds in real Chromium: each role signs in and opens every page,
renders a chart, downloads a table and a chart image, and the browser reports no refused
script, style, image, font or request, and no other console error.

Violations are read twice: from the console (Chromium logs each as an error, "Refused to ...
because it violates the following Content Security Policy directive") and from a
``securitypolicyviolation`` listener that Chromium runs before any of the page's scripts.
"""

from __future__ import annotations

import pathlib

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By

# Installed through the DevTools protocol, so the policy does not apply to it.
VIOLATION_LISTENER = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.cspViolations.push(
    [event.violatedDirective, event.blockedURI, event.sourceFile, event.sample].join(" | ")
  );
});
"""

ROLES = {
    "account_manager": "Account manager",
    "district_manager": "District manager",
    "executive": "Executive",
    "admin": "Administrator",
}


def _text(duo, selector: str) -> str:
    found = duo.driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0].get_attribute("textContent") if found else ""


def _rows(selector: str):
    return lambda duo: duo.wait_for_element(selector, timeout=40)


# Every page, and what shows that it has rendered its data (for any role).
PAGES = {
    "/": lambda duo: duo.wait_for_contains_text("#home-content", "Budget", timeout=40),
    "/workspace": _rows("#stats-grid .ag-row[row-index='0'] .ag-cell"),
    "/pnl": _rows("#pnl-grid .ag-row[row-id='flc']"),
    "/review": _rows("#review-grid .ag-row"),
    "/inbox": lambda duo: until(lambda: _text(duo, "#inbox-items").strip(), timeout=40),
    "/audit": lambda duo: duo.wait_for_contains_text("#audit-count", "change", timeout=40),
    "/performance": _rows("#perf-trend-chart .trace"),  # a Plotly chart drawn
    "/report": _rows("#report-grid .ag-floating-bottom .ag-cell[col-id='forecast_flc']"),
}


class PolicyWatch:
    """What the browser refused or complained about since the last look."""

    def __init__(self, duo) -> None:
        self.duo = duo
        duo.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": VIOLATION_LISTENER}
        )

    def problems(self) -> list:
        driver = self.duo.driver
        seen = driver.execute_script("var v = window.cspViolations || []; return v.splice(0);")
        return list(seen or []) + self.duo.get_logs()

    def assert_clean(self, where: str) -> None:
        problems = self.problems()
        assert problems == [], f"{where}: {problems}"


@pytest.fixture
def watch(browser) -> PolicyWatch:
    return PolicyWatch(browser.duo)


def _downloaded(duo, suffix: str) -> pathlib.Path:
    folder = pathlib.Path(duo.download_path)
    until(
        lambda: [p for p in folder.iterdir() if p.name.endswith(suffix)],
        timeout=60,
    )
    return next(p for p in folder.iterdir() if p.name.endswith(suffix))


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_keeps_the_policy(browser, watch, portfolio, role):
    duo = browser.duo
    duo.driver.get(duo.server_url + "/login")
    duo.wait_for_element("#login-form")
    watch.assert_clean("sign-in page")

    browser.sign_in(portfolio.demo_accounts[role])
    browser.wait_for_role(ROLES[role])
    for path, rendered in PAGES.items():
        duo.driver.get(duo.server_url + path)
        rendered(duo)
        watch.assert_clean(path)

    # A chart image through Plotly's own download (an SVG drawn on a canvas, saved as a file).
    duo.driver.get(duo.server_url + "/performance")
    PAGES["/performance"](duo)
    camera = duo.wait_for_element(
        "#perf-trend-chart .modebar-btn[data-title='Download plot as a PNG']", timeout=20
    )
    duo.driver.execute_script("arguments[0].click();", camera)
    assert _downloaded(duo, ".png").stat().st_size > 1000
    # A table export: a background callback writes it, dcc.Download saves it.
    duo.find_element("#perf-trend-grid-export-csv").click()
    assert _downloaded(duo, ".csv").read_text(encoding="utf-8-sig").startswith("# KPI trends")
    watch.assert_clean("downloads")


def test_a_refused_script_would_be_reported(browser, watch, portfolio):
    """The watch sees violations: an injected inline script and an eval are refused."""
    duo = browser.duo
    browser.sign_in(portfolio.demo_accounts["account_manager"])
    browser.wait_for_role("Account manager")
    watch.assert_clean("home")
    duo.driver.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.injected = 1;';"
        "document.body.appendChild(s);"
    )
    # Later, from the page's own event loop: DevTools' evaluation itself may eval.
    duo.driver.execute_script(
        "setTimeout(function () {"
        "  try { window.evaluated = new Function('return 1')(); }"
        "  catch (e) { window.evaluated = e.name; }"
        "}, 0);"
    )
    until(lambda: duo.driver.execute_script("return window.evaluated") is not None, 5)
    assert duo.driver.execute_script("return window.evaluated") == "EvalError"
    assert duo.driver.execute_script("return window.injected === undefined")
    until(lambda: len(duo.driver.execute_script("return window.cspViolations")) >= 2, 5)
    problems = watch.problems()
    assert any("script-src" in str(p) and "inline" in str(p) for p in problems), problems
    assert any("script-src" in str(p) and "eval" in str(p) for p in problems), problems
    assert any("Content Security Policy" in str(p) for p in problems), problems
