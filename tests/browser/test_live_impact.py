"""The workspace's live impact panel in real Chromium: an unsaved statistics edit moves the
month's external revenue and FLC at once; saving keeps the figures and clears the change."""

from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

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
