"""Context carried between pages in real Chromium: the workspace's year reaches its P&L link
and its Rates tab, and the regional report drills to a site — the cards follow the drill and
the site's P&L and Performance open from there."""

from __future__ import annotations

from dash.testing.wait import until
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from tests.conftest import sites_of


def _text(duo, selector: str) -> str:
    """The element's text ('' while it is drawn anew)."""
    try:
        found = duo.driver.find_elements(By.CSS_SELECTOR, selector)
        return found[0].get_attribute("textContent") if found else ""
    except StaleElementReferenceException:
        return ""


def _value(duo, selector: str) -> str:
    found = duo.driver.find_elements(By.CSS_SELECTOR, selector)
    return (found[0].get_attribute("value") or "") if found else ""


def _open_workspace(browser, portfolio, start: str) -> tuple[object, int]:
    email = portfolio.demo_accounts["account_manager"]
    site_id = max(sites_of(portfolio, email))
    duo = browser.duo
    browser.sign_in(email)
    browser.wait_for_role("Account manager")
    duo.driver.get(f"{duo.server_url}/workspace?site={site_id}&start={start}")
    duo.wait_for_element("#stats-grid .ag-row[row-index='0'] .ag-cell", timeout=40)
    return duo, site_id


def test_the_pnl_opened_from_the_january_2027_workspace_shows_2027(browser, portfolio):
    duo, site_id = _open_workspace(browser, portfolio, "2027-01")
    until(lambda: "month=2027-01" in (_link(duo) or ""), timeout=20)
    assert f"site={site_id}" in _link(duo)
    duo.find_element("#ws-pnl-link").click()
    duo.wait_for_contains_text("#pnl-basis-named", "1 site(s) · 2027", timeout=40)
    assert _value(duo, "#pnl-year") == "2027"
    assert duo.get_logs() == []


def _link(duo) -> str | None:
    return duo.find_element("#ws-pnl-link").get_attribute("href")


def test_the_rates_tab_opens_on_the_workspace_year(browser, portfolio):
    duo, _site = _open_workspace(browser, portfolio, "2027-01")
    tab = duo.find_element("#ws-tab-rates")
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tab)
    tab.click()
    duo.wait_for_element("#rates-grid .ag-row", timeout=30)
    assert _value(duo, "#rates-year") == "2027"
    # The months of 2027 are the grid's columns (January is editable, not a past month).
    until(lambda: duo.driver.find_elements(By.CSS_SELECTOR, "#rates-grid .ag-header-cell"), 20)
    # Moving the workspace to a month of 2026 moves the Rates tab with it.
    duo.find_element("#ws-start").click()
    duo.driver.find_element(
        By.XPATH, "//*[@role='option'][normalize-space(.)='December 2026']"
    ).click()
    until(lambda: _value(duo, "#rates-year") == "2026", timeout=20)
    assert duo.get_logs() == []


def _names(browser) -> list[str]:
    try:
        return browser.grid_column("report-grid", "name")
    except StaleElementReferenceException:
        return []


def _cell(duo, name: str, field: str) -> str:
    """The ``field`` of the report grid's row named ``name`` ('' while it re-renders)."""
    try:
        rows = duo.driver.find_elements(By.CSS_SELECTOR, "#report-grid .ag-row")
        for row in rows:
            row_id = row.get_attribute("row-id")
            named = duo.driver.find_elements(
                By.CSS_SELECTOR,
                f"#report-grid .ag-row[row-id='{row_id}'] .ag-cell[col-id='name']",
            )
            if named and named[0].get_attribute("textContent") == name:
                cell = duo.driver.find_elements(
                    By.CSS_SELECTOR,
                    f"#report-grid .ag-row[row-id='{row_id}'] .ag-cell[col-id='{field}']",
                )
                return cell[0].get_attribute("textContent") if cell else ""
    except StaleElementReferenceException:
        return ""
    return ""


def _click_row(duo, name: str) -> None:
    cells = duo.driver.find_elements(By.CSS_SELECTOR, "#report-grid .ag-cell[col-id='name']")
    next(c for c in cells if c.get_attribute("textContent") == name).click()


def _card(duo) -> str:
    return _text(duo, "#report-total-forecast")


def test_the_report_drills_to_a_site_and_its_cards_follow(browser, portfolio):
    duo = browser.duo
    browser.sign_in(portfolio.demo_accounts["executive"])
    browser.wait_for_role("Executive")
    duo.find_element("#shell-nav-report").click()
    duo.wait_for_element("#report-grid .ag-floating-bottom .ag-cell[col-id='forecast_flc']", 40)
    until(lambda: _card(duo).startswith("$"), timeout=30)
    everything = _card(duo)
    assert everything == _text(
        duo, "#report-grid .ag-floating-bottom .ag-cell[col-id='forecast_flc']"
    )

    # A region: the cards show the region's figures.
    region = _names(browser)[0]
    region_flc = _cell(duo, region, "forecast_flc")
    _click_row(duo, region)
    until(lambda: _card(duo) == region_flc, timeout=20)
    assert region_flc != everything
    assert region in _text(duo, "#report-cards-scope")

    # A district, then one of its sites.
    until(lambda: _names(browser) and region not in _names(browser), timeout=20)
    district = _names(browser)[0]
    district_flc = _cell(duo, district, "forecast_flc")
    _click_row(duo, district)
    until(lambda: _card(duo) == district_flc, timeout=20)
    until(lambda: "·" in (_names(browser) or [""])[0], timeout=20)
    sites = _names(browser)
    site = sites[-1]
    site_flc = _cell(duo, site, "forecast_flc")
    _click_row(duo, site)
    duo.wait_for_contains_text("#report-crumb-site", site, timeout=20)
    until(lambda: _card(duo) == site_flc, timeout=20)
    assert _text(duo, "#report-at-risk").endswith("of 1")
    assert _names(browser) == [site]

    # The site's P&L and Performance open from the drill, on the report's year.
    pnl = duo.find_element("#report-site-pnl").get_attribute("href")
    performance = duo.find_element("#report-site-performance").get_attribute("href")
    assert "site=" in pnl and "month=2026-" in pnl
    assert "site=" in performance and "month=2026-" in performance

    # Back to the district through its crumb: the cards follow back.
    duo.find_element("#report-crumb-district").click()
    until(lambda: _card(duo) == district_flc, timeout=20)

    duo.driver.get(pnl)
    duo.wait_for_contains_text("#pnl-basis-named", "1 site(s) · 2026", timeout=40)
    assert duo.get_logs() == []
