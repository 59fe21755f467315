"""The P&L page in real Chromium: lines and months, the basis named, variance, drill-down."""

from dash.testing.wait import until
from selenium.webdriver.common.by import By

from tests.conftest import sites_of


def _cell(duo, line, column):
    return duo.find_element(
        f"#pnl-grid .ag-row[row-id='{line}'] .ag-cell[col-id='{column}']"
    ).get_attribute("textContent")


def test_account_manager_reads_pnl_variance_and_drills_to_sites(browser, portfolio):
    email = portfolio.demo_accounts["account_manager"]
    own = sites_of(portfolio, email)
    duo = browser.duo
    browser.sign_in(email)
    browser.wait_for_role("Account manager")
    duo.find_element("#shell-nav-pnl").click()
    duo.wait_for_contains_text("#pnl-basis-named", "variance against Budget", timeout=30)
    assert f"{len(own)} site(s)" in duo.find_element("#pnl-basis-named").text
    duo.wait_for_element("#pnl-grid .ag-row[row-id='flc']", timeout=20)
    headers = [
        h.get_attribute("textContent")
        for h in duo.driver.find_elements(By.CSS_SELECTOR, "#pnl-grid .ag-header-cell-text")
    ]
    assert "Oct (A)" in headers and "Dec" in headers  # closed months marked actual
    assert _cell(duo, "internal_revenue", "total").startswith("$")

    duo.find_element("#pnl-view").find_element(
        By.XPATH, ".//label[contains(., 'Variance %')]"
    ).click()
    until(
        lambda: _cell(duo, "flc", "total").endswith("%") or _cell(duo, "flc", "total") == "n/a", 10
    )

    duo.find_element("#pnl-grid .ag-row[row-id='payroll'] .ag-cell[col-id='m12']").click()
    duo.wait_for_contains_text("#pnl-drill-title", "Payroll · December", timeout=30)
    shown = browser.grid_column("pnl-drill-grid", "site")
    assert len(shown) == len(own)
    assert duo.get_logs() == []


def test_opening_the_pnl_from_a_site_preselects_it(browser, portfolio):
    email = portfolio.demo_accounts["account_manager"]
    site_id = max(sites_of(portfolio, email))
    duo = browser.duo
    browser.sign_in(email)
    browser.wait_for_role("Account manager")
    duo.driver.get(f"{duo.server_url}/workspace?site={site_id}&start=2026-11")
    until(
        lambda: (
            duo.find_element("#ws-pnl-link").get_attribute("href").endswith(f"/pnl?site={site_id}")
        ),
        timeout=20,
    )
    duo.find_element("#ws-pnl-link").click()
    duo.wait_for_contains_text("#pnl-basis-named", "1 site(s)", timeout=30)
