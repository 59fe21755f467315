"""The browser console stays clean of AG Grid's complaints: every role opens every page (and
every tab of the pages that have tabs) in real Chromium, and AG Grid logs no warning and no
error — no #29 (a grid sized while hidden), no #25 (rows without an id), no deprecated
``rowSelection`` / ``checkboxSelection`` options.

dash[testing] asks Chromium for SEVERE log entries only, so warnings are caught by a console
wrapper installed through the DevTools protocol before any of the page's scripts (the
Content-Security-Policy does not apply to it)."""

from __future__ import annotations

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By

CONSOLE_WATCH = """
window.agGridConsole = [];
["warn", "error"].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    try {
      var text = Array.prototype.map.call(arguments, function (a) {
        return typeof a === "string" ? a : (a && a.message) || String(a);
      }).join(" ");
      if (text.indexOf("AG Grid") !== -1) { window.agGridConsole.push(level + ": " + text); }
    } catch (e) { /* never break the page's own logging */ }
    return original.apply(console, arguments);
  };
});
"""

ROLES = {
    "account_manager": "Account manager",
    "district_manager": "District manager",
    "regional_vp": "Regional vice president",
    "executive": "Executive",
    "admin": "Administrator",
}


def _text(duo, selector: str) -> str:
    found = duo.driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0].get_attribute("textContent") if found else ""


def _rows(selector: str):
    return lambda duo: duo.wait_for_element(selector, timeout=40)


def _tabs(prefix: str, names: list[str], shown: dict[str, str]):
    """Open each tab in turn and wait for what shows it rendered."""

    def visit(duo):
        for name in names:
            tab = duo.find_element(f"#{prefix}{name}")
            duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tab)
            tab.click()
            if name in shown:
                duo.wait_for_element(shown[name], timeout=40)

    return visit


def _performance_tabs(duo):
    for label in ("Benchmarking", "Variance breakdown", "KPI trends"):
        duo.driver.find_element(
            By.XPATH, f"//*[@id='perf-tabs']//button[@role='tab'][contains(., '{label}')]"
        ).click()
        until(lambda: duo.driver.find_elements(By.CSS_SELECTOR, "#perf-tabs .js-plotly-plot"), 30)


def _drill_once(duo):
    """Click the report's first row (a region, or the one site an account manager sees)."""
    duo.find_element("#report-grid .ag-row[row-index='0'] .ag-cell[col-id='name']").click()
    until(lambda: _text(duo, "#report-crumbs").count("All regions") == 1, timeout=20)
    duo.driver.execute_script("return new Promise(r => setTimeout(r, 1000))")


WORKSPACE_TABS = _tabs(
    "ws-tab-",
    ["rates", "payroll", "other-revenue", "other-expense", "submission", "statistics"],
    {"rates": "#rates-grid .ag-row", "submission": "#ws-sub-status"},
)

# Every page, what shows that it rendered, and what else to open on it (for any role that
# may open it; an account manager has no review or report page in the navigation but may
# still type its address).
PAGES = {
    "/": [lambda duo: duo.wait_for_contains_text("#home-content", "Budget", timeout=40)],
    "/workspace": [_rows("#stats-grid .ag-row[row-index='0'] .ag-cell"), WORKSPACE_TABS],
    "/pnl": [_rows("#pnl-grid .ag-row[row-id='flc']")],
    "/review": [_rows("#review-grid .ag-row")],
    "/inbox": [lambda duo: until(lambda: _text(duo, "#inbox-items").strip(), timeout=40)],
    "/audit": [lambda duo: duo.wait_for_contains_text("#audit-count", "change", timeout=40)],
    "/performance": [_rows("#perf-trend-chart .trace"), _performance_tabs],
    "/report": [
        _rows("#report-grid .ag-floating-bottom .ag-cell[col-id='forecast_flc']"),
        _rows("#report-risk-grid .ag-header-cell"),
        _drill_once,
    ],
    # A site's Submission tab opened from the review: the statistics grid starts hidden.
    "/workspace?tab=submission": [_rows("#ws-sub-status"), WORKSPACE_TABS],
}


class ConsoleWatch:
    def __init__(self, duo) -> None:
        self.duo = duo
        duo.driver.execute_cdp_cmd(
            "Page.addScriptToEvaluateOnNewDocument", {"source": CONSOLE_WATCH}
        )

    def ag_grid_messages(self) -> list[str]:
        seen = self.duo.driver.execute_script(
            "var v = window.agGridConsole || []; return v.splice(0);"
        )
        # Whatever the log level Chromium was asked for, its log is read too.
        logged = [
            f"{entry['level']}: {entry['message']}"
            for entry in self.duo.driver.get_log("browser")
            if "AG Grid" in entry["message"] or entry["level"] == "SEVERE"
        ]
        return list(seen or []) + logged


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_and_tab_leaves_no_ag_grid_warning(browser, portfolio, role):
    duo = browser.duo
    watch = ConsoleWatch(duo)
    browser.sign_in(portfolio.demo_accounts[role])
    browser.wait_for_role(ROLES[role])
    problems = {}
    for path, steps in PAGES.items():
        duo.driver.get(duo.server_url + path)
        for step in steps:
            step(duo)
        # Let the grids settle (column sizing runs after the rows arrive and on resize).
        duo.driver.set_window_size(1440, 900)
        duo.driver.set_window_size(1280, 900)
        until(lambda: duo.driver.execute_script("return document.readyState") == "complete", 10)
        duo.driver.execute_script("return new Promise(r => setTimeout(r, 500))")
        problems[path] = watch.ag_grid_messages()
    assert {path: seen for path, seen in problems.items() if seen} == {}


def test_the_watch_sees_an_ag_grid_warning(browser, portfolio):
    """The wrapper catches what AG Grid logs (the test above can fail)."""
    duo = browser.duo
    watch = ConsoleWatch(duo)
    browser.sign_in(portfolio.demo_accounts["account_manager"])
    browser.wait_for_role("Account manager")
    duo.driver.execute_script("console.warn('AG Grid: warning #29 sample')")
    assert watch.ag_grid_messages() == ["warn: AG Grid: warning #29 sample"]
