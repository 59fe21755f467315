"""Other revenue and Other expenses tabs as an account manager uses them, in real Chromium."""

import time

from dash.testing.wait import until
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.keys import Keys

from tests.conftest import sites_of

DECEMBER = "m2026_12"


def _cell(duo, grid, row_id, column):
    return duo.find_element(
        f"#{grid} .ag-center-cols-container .ag-row[row-id='{row_id}'] .ag-cell[col-id='{column}']"
    )


def _type(duo, grid, row_id, column, text):
    # The grid sizes its columns once rendered (the first page of a session renders slowest):
    # a click landing mid-resize is refused or hits a neighbour, so click again once it stands.
    deadline = time.monotonic() + 5
    while True:
        try:
            _cell(duo, grid, row_id, column).click()
            break
        except (
            ElementClickInterceptedException,
            ElementNotInteractableException,
            StaleElementReferenceException,
        ):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    duo.driver.switch_to.active_element.send_keys(text)
    duo.driver.switch_to.active_element.send_keys(Keys.ENTER)


def _open(browser, portfolio, tab):
    email = portfolio.demo_accounts["account_manager"]
    site_id = min(sites_of(portfolio, email))
    duo = browser.duo
    browser.sign_in(email)
    browser.wait_for_role("Account manager")
    url = f"{duo.server_url}/workspace?site={site_id}&start=2026-11"
    duo.driver.get(url)
    duo.wait_for_element(f"#ws-tab-{tab}", timeout=20).click()
    duo.wait_for_element(f"#{tab}-grid .ag-center-cols-container .ag-row", timeout=20)
    return duo, url


def test_other_revenue_sign_rules_save_and_reload(browser, portfolio):
    duo, url = _open(browser, portfolio, "other-revenue")
    grid = "other-revenue-grid"
    before = _cell(duo, grid, "gpo_fees", DECEMBER).get_attribute("textContent")
    _type(duo, grid, "gpo_fees", DECEMBER, "250")
    duo.wait_for_contains_text("#other-revenue-refused", "GPO Fees", timeout=10)
    until(lambda: _cell(duo, grid, "gpo_fees", DECEMBER).get_attribute("textContent") == before, 10)
    assert duo.find_element("#other-revenue-dirty").text == ""

    _type(duo, grid, "gpo_fees", DECEMBER, "-250")
    until(lambda: duo.find_element("#other-revenue-dirty").text != "", timeout=10)
    duo.find_element("#other-revenue-save").click()
    duo.wait_for_contains_text("#other-revenue-saved", "Saved 1 change", timeout=20)

    duo.driver.get(url)
    duo.wait_for_element("#ws-tab-other-revenue", timeout=20).click()
    until(
        lambda: "250" in _cell(duo, grid, "gpo_fees", DECEMBER).get_attribute("textContent"),
        timeout=20,
    )
    assert "cell-modified" in _cell(duo, grid, "gpo_fees", DECEMBER).get_attribute("class")
    assert duo.get_logs() == []


def test_a_negative_expense_is_refused(browser, portfolio):
    duo, _ = _open(browser, portfolio, "other-expense")
    grid = "other-expense-grid"
    _type(duo, grid, "uniforms", DECEMBER, "-10")
    duo.wait_for_contains_text("#other-expense-refused", "negative", timeout=10)
    assert duo.find_element("#other-expense-dirty").text == ""
