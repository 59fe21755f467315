"""The Rates grid in real Chromium: guardrail, carry forward, save, read-only months."""

from dash.testing.wait import until
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.test_statistics import _open_workspace
from tests.conftest import TEST_TODAY


def _rate_cell(duo, category, month):
    return duo.find_element(
        f"#rates-grid .ag-center-cols-container .ag-row[row-id='{category}'] "
        f".ag-cell[col-id='m{month:02d}']"
    )


def _rate_number(duo, category, month):
    return float(_rate_cell(duo, category, month).text.replace("$", "").replace(",", ""))


def _open_rates(browser, portfolio, year):
    duo = browser.duo
    url = _open_workspace(browser, portfolio)
    duo.find_element("#ws-tab-rates").click()
    duo.find_element("#rates-year").click()
    option = f"//*[@role='option'][normalize-space(.)='{year}']"
    until(lambda: duo.driver.find_elements(By.XPATH, option), timeout=10)
    duo.driver.find_element(By.XPATH, option).click()
    # The grid shows the current year first: wait for the chosen year's rates (March is
    # read-only in the current year only), else an edit typed now is lost when they come.
    until(lambda: _shows_year(duo, year), timeout=15)
    return url


def _shows_year(duo, year):
    try:
        march = _rate_cell(duo, "valet_daily", 3)
        past = "cell-readonly" in march.get_attribute("class")
        return march.text.startswith("$") and past == (year <= TEST_TODAY.year)
    except (NoSuchElementException, StaleElementReferenceException):
        return False


def _type(duo, cell, text):
    cell.click()
    duo.driver.switch_to.active_element.send_keys(text)
    duo.driver.switch_to.active_element.send_keys(Keys.ENTER)


def test_rate_within_guardrail_carries_forward_and_saves(browser, portfolio):
    duo = browser.duo
    url = _open_rates(browser, portfolio, 2027)
    budget = _rate_number(duo, "self_daily", 3)
    new = round(budget * 1.05, 2)  # +5%: inside the ±10% guardrail, no confirmation
    _type(duo, _rate_cell(duo, "self_daily", 3), f"{new:.2f}")
    duo.wait_for_element("#rates-carry", timeout=10).click()
    duo.wait_for_contains_text("#rates-carried", "forward to 9 later month(s)", timeout=10)
    until(lambda: _rate_number(duo, "self_daily", 12) == new, timeout=10)
    assert "cell-modified" in _rate_cell(duo, "self_daily", 7).get_attribute("class")
    duo.find_element("#rates-save").click()
    duo.wait_for_contains_text("#rates-message", "Saved 10 change(s)", timeout=15)
    duo.driver.get(url)
    duo.wait_for_element("#ws-tab-rates", timeout=20).click()
    duo.find_element("#rates-year").click()
    option = "//*[@role='option'][normalize-space(.)='2027']"
    until(lambda: duo.driver.find_elements(By.XPATH, option), timeout=10)
    duo.driver.find_element(By.XPATH, option).click()
    until(lambda: _rate_number(duo, "self_daily", 5) == new, timeout=15)
    assert duo.get_logs() == []


def test_rate_far_from_budget_asks_and_cancel_reverts(browser, portfolio):
    duo = browser.duo
    _open_rates(browser, portfolio, 2027)
    before = _rate_cell(duo, "valet_daily", 2).text
    budget = _rate_number(duo, "valet_daily", 2)
    _type(duo, _rate_cell(duo, "valet_daily", 2), f"{budget * 1.5:.2f}")
    duo.wait_for_contains_text("#rates-confirm-text", "from the budget rate", timeout=10)
    duo.find_element("#rates-confirm-cancel").click()
    until(lambda: _rate_cell(duo, "valet_daily", 2).text == before, timeout=10)
    assert duo.find_element("#rates-dirty").text == ""


def test_past_months_are_read_only(browser, portfolio):
    duo = browser.duo
    _open_rates(browser, portfolio, 2026)
    october = _rate_cell(duo, "valet_daily", 10)
    assert "cell-readonly" in october.get_attribute("class")
    before = october.text
    _type(duo, october, "1")
    assert not duo.driver.find_elements(By.CSS_SELECTOR, "#rates-grid .ag-cell-inline-editing")
    assert _rate_cell(duo, "valet_daily", 10).text == before
