"""The workspace's live impact panel in real Chromium: an unsaved statistics edit moves the
month's external revenue and FLC at once; saving keeps the figures and clears the change."""

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select

from dashboard.data import statistics_repo
from dashboard.data.models import User
from dashboard.services import statistics as stats
from dashboard.services.accounts import principal_of
from tests.conftest import TEST_TODAY

DAY = "2026-11-27"


def _revenue_share_site_and_account_manager(portfolio):
    sites = portfolio["site"]
    shared = sites[sites["contract_types"].str.split(";").map(lambda f: "RevenueShare" in f)]
    users = portfolio["app_user"].set_index("id")
    grants = portfolio["scope_assignment"]
    for site_id in shared["id"]:
        managers = grants.loc[grants["site_id"] == site_id, "user_id"]
        for user_id in managers:
            if users.at[int(user_id), "role"] == "account_manager":
                return int(site_id), users.at[int(user_id), "email"]
    raise AssertionError("no account manager holds a revenue share site")


def _text(duo, element_id):
    # Read in one step in the page: the panel re-renders while edits come in.
    return duo.driver.execute_script(
        "const el = document.getElementById(arguments[0]); return el ? el.textContent : null;",
        element_id,
    )


def test_a_statistics_edit_moves_the_live_flc_before_saving(browser, portfolio):
    site_id, email = _revenue_share_site_and_account_manager(portfolio)
    duo = browser.duo
    browser.sign_in(email)
    browser.wait_for_role("Account manager")
    duo.driver.get(f"{duo.server_url}/workspace?site={site_id}&start=2026-11")
    duo.wait_for_element("#ws-impact-flc-0", timeout=30)
    until(lambda: _text(duo, "ws-impact-change-0") == "—", timeout=20)
    flc_before = _text(duo, "ws-impact-flc-0")
    revenue_before = _text(duo, "ws-impact-external_revenue-0")
    december_before = _text(duo, "ws-impact-flc-1")

    cell = duo.find_element(
        f".ag-center-cols-container .ag-row[row-id='{DAY}'] .ag-cell[col-id='valet_daily']"
    )
    cell.click()
    duo.driver.switch_to.active_element.send_keys("900")
    duo.driver.switch_to.active_element.send_keys(Keys.ENTER)
    duo.wait_for_text_to_equal("#ws-dirty", "1 unsaved change", timeout=10)

    # Not saved yet, and the panel already shows the month with the edit.
    until(lambda: _text(duo, "ws-impact-flc-0") != flc_before, timeout=20)
    assert _text(duo, "ws-impact-external_revenue-0") != revenue_before
    change = _text(duo, "ws-impact-change-0")
    assert change.startswith("+$"), change  # more valet cars: more shared revenue
    assert _text(duo, "ws-impact-flc-1") == december_before  # other months do not move
    flc_edited = _text(duo, "ws-impact-flc-0")

    duo.find_element("#ws-save").click()
    duo.wait_for_contains_text("#ws-saved", "Saved 1 change", timeout=20)
    until(lambda: _text(duo, "ws-impact-change-0") == "—", timeout=20)
    assert _text(duo, "ws-impact-flc-0") == flc_edited  # the saved P&L is what was shown
    assert duo.get_logs() == []


def _dollars(text: str) -> float:
    return float(text.replace("$", "").replace(",", ""))


def test_a_rate_change_reprices_the_month_before_and_after_saving(browser, db, portfolio):
    """D3: a month's external revenue is its counts × its forecast rates, every day of it
    saved or not. Raising January's valet overnight rate moves January's external revenue by
    the month's valet overnight cars × the raise, in the live panel at once and in the saved
    P&L (the defect: days nobody had saved kept the budget's revenue)."""
    site_id, email = _revenue_share_site_and_account_manager(portfolio)
    with db.read() as session:
        person = principal_of(session.scalars(select(User).where(User.email == email)).one())
        window = stats.window_payload(
            stats.load_window(session, person, site_id, (2026, 11), TEST_TODAY)
        )
        old_rate = statistics_repo.window_rates(session, site_id, [(2027, 1)])[(2027, 1)][
            "valet_overnight"
        ]
    cars = sum(d["forecast_valet_overnight"] for d in window["days"] if d["day"] >= "2027-01")
    new_rate = round(old_rate * 1.05, 2)  # inside the ±10% guardrail: no confirmation
    expected_change = cars * (new_rate - old_rate)
    assert expected_change > 50

    duo = browser.duo
    browser.sign_in(email)
    browser.wait_for_role("Account manager")
    duo.driver.get(f"{duo.server_url}/workspace?site={site_id}&start=2026-11")
    duo.wait_for_element("#ws-impact-external_revenue-2", timeout=30)
    until(lambda: _text(duo, "ws-impact-change-2") == "—", timeout=20)
    before = _dollars(_text(duo, "ws-impact-external_revenue-2"))

    duo.find_element("#ws-tab-rates").click()
    duo.find_element("#rates-year").click()
    option = "//*[@role='option'][normalize-space(.)='2027']"
    until(lambda: duo.driver.find_elements(By.XPATH, option), timeout=10)
    duo.driver.find_element(By.XPATH, option).click()
    cell_selector = (
        "#rates-grid .ag-center-cols-container .ag-row[row-id='valet_overnight'] "
        ".ag-cell[col-id='m01']"
    )
    until(lambda: duo.find_element(cell_selector).text.startswith("$"), timeout=15)
    duo.find_element(cell_selector).click()
    duo.driver.switch_to.active_element.send_keys(f"{new_rate:.2f}")
    duo.driver.switch_to.active_element.send_keys(Keys.ENTER)

    # Not saved yet: the panel already shows January repriced.
    until(lambda: _text(duo, "ws-impact-change-2") != "—", timeout=20)
    shown = _dollars(_text(duo, "ws-impact-external_revenue-2"))
    assert shown - before == pytest.approx(expected_change, abs=2)

    duo.find_element("#rates-save").click()
    duo.wait_for_contains_text("#rates-message", "Saved 1 change", timeout=20)
    until(lambda: _text(duo, "ws-impact-change-2") == "—", timeout=20)
    saved = _dollars(_text(duo, "ws-impact-external_revenue-2"))
    assert saved == pytest.approx(shown, abs=1)  # the saved P&L is what the panel showed
    assert duo.get_logs() == []
