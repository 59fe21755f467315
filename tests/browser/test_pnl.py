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
    # The site and the workspace's month travel to the P&L.
    until(
        lambda: (
            duo.find_element("#ws-pnl-link")
            .get_attribute("href")
            .endswith(f"/pnl?month=2026-11&site={site_id}")
        ),
        timeout=20,
    )
    duo.find_element("#ws-pnl-link").click()
    duo.wait_for_contains_text("#pnl-basis-named", "1 site(s)", timeout=30)


def _district_sites(portfolio, email):
    users = portfolio["app_user"]
    user_id = int(users.loc[users["email"] == email, "id"].iloc[0])
    grants = portfolio["scope_assignment"]
    districts = set(grants.loc[grants["user_id"] == user_id, "district_id"].dropna().astype(int))
    sites = portfolio["site"]
    return sites.loc[sites["district_id"].isin(districts), "site_number"].astype(str).tolist()


def test_district_manager_reads_the_district_pnl_against_a_chosen_basis(browser, portfolio):
    email = portfolio.demo_accounts["district_manager"]
    numbers = _district_sites(portfolio, email)
    duo = browser.duo
    browser.sign_in(email)
    browser.wait_for_role("District manager")
    duo.find_element("#shell-nav-pnl").click()
    duo.wait_for_contains_text("#pnl-basis-named", "variance against Budget", timeout=30)
    assert f"{len(numbers)} site(s)" in duo.find_element("#pnl-basis-named").text
    duo.wait_for_element("#pnl-grid .ag-row[row-id='flc']", timeout=20)

    duo.find_element("#pnl-view").find_element(
        By.XPATH, ".//label[contains(., 'Variance $')]"
    ).click()
    until(lambda: _cell(duo, "internal_revenue", "m12") != "", 10)
    against_budget = _cell(duo, "internal_revenue", "m12")
    basis_header = duo.find_element("#pnl-basis-named").text

    picker = duo.find_element("#pnl-basis")
    picker.click()
    option = "//*[@role='option'][normalize-space(.)='Prior year']"
    until(lambda: duo.driver.find_elements(By.XPATH, option), timeout=10)
    duo.driver.find_element(By.XPATH, option).click()
    duo.wait_for_contains_text("#pnl-basis-named", "variance against Prior year", timeout=30)
    assert duo.find_element("#pnl-basis-named").text != basis_header
    until(lambda: _cell(duo, "internal_revenue", "m12") != against_budget, 20)
    assert "Prior year" in _cell(duo, "flc_cumulative", "label")

    # Drill-down from a line and month to the district's sites behind it.
    duo.find_element("#pnl-grid .ag-row[row-id='internal_revenue'] .ag-cell[col-id='m12']").click()
    duo.wait_for_contains_text("#pnl-drill-title", "Internal Revenue · December", timeout=30)
    shown = browser.grid_column("pnl-drill-grid", "site")
    assert len(shown) == len(numbers)
    assert all(any(n in s for n in numbers) for s in shown)
    assert duo.get_logs() == []
