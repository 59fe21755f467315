"""Sign-in for each role, refusal of a wrong password, sign-out — in real headless Chromium."""

import pytest
from dash.testing.wait import until

from tests.conftest import sites_of

ROLE_BADGES = {
    "account_manager": ("Account manager", "Your sites"),
    "district_manager": ("District manager", "Sites of your district"),
    "regional_vp": ("Regional vice president", "Your region"),
    "executive": ("Executive", "Portfolio"),
    "admin": ("Administrator", "Portfolio"),
}


@pytest.mark.parametrize("role", list(ROLE_BADGES))
def test_each_role_signs_in_and_sees_its_home(browser, portfolio, role):
    duo = browser.duo
    browser.sign_in(portfolio.demo_accounts[role])
    badge, heading = ROLE_BADGES[role]
    browser.wait_for_role(badge)
    duo.wait_for_contains_text("#home-content", heading, timeout=15)
    # Real numbers: the totals are dollar amounts, not placeholders.
    if role in ("account_manager", "district_manager"):
        duo.wait_for_contains_text("#home-total-flc", "$", timeout=10)
        duo.wait_for_element("#home-site-detail-table", timeout=10)
    else:
        duo.wait_for_contains_text("#home-regions", "Budget FLC $", timeout=10)
    assert duo.get_logs() == []


def test_wrong_password_is_refused(browser, portfolio):
    duo = browser.duo
    browser.sign_in(portfolio.demo_accounts["account_manager"], "wrong-password")
    duo.wait_for_text_to_equal("#login-error", "The e-mail or password is not right.")
    assert "/login" in duo.driver.current_url
    duo.driver.get(duo.server_url + "/")
    assert "/login" in duo.driver.current_url  # still signed out


def test_sign_out_returns_to_sign_in(browser, portfolio):
    duo = browser.duo
    browser.sign_in(portfolio.demo_accounts["executive"])
    browser.wait_for_role("Executive")
    browser.sign_out()
    duo.wait_for_element("#login-form", timeout=10)
    duo.driver.get(duo.server_url + "/")
    duo.wait_for_element("#login-form", timeout=10)
    assert "/login" in duo.driver.current_url


def test_account_manager_home_lists_exactly_their_sites(browser, portfolio):
    duo = browser.duo
    email = portfolio.demo_accounts["account_manager"]
    browser.sign_in(email)
    expected = sorted(
        portfolio["site"].set_index("id").loc[sorted(sites_of(portfolio, email)), "site_number"]
    )
    duo.wait_for_element("#home-sites-grid .ag-row", timeout=15)
    duo.wait_for_text_to_equal("#home-site-count", str(len(expected)), timeout=10)
    shown = browser.grid_column("home-sites-grid", "site_number")
    assert sorted(shown) == expected
    assert duo.get_logs() == []


def test_phone_width_collapses_navigation(browser, portfolio):
    duo = browser.duo
    duo.driver.set_window_size(390, 844)
    browser.sign_in(portfolio.demo_accounts["district_manager"])
    duo.wait_for_element("#home-sites-grid", timeout=15)
    burger = duo.wait_for_element("#shell-burger")
    assert burger.is_displayed()
    navbar = duo.find_element("#shell-navbar")
    assert not navbar.is_displayed() or navbar.rect["x"] < 0
    burger.click()
    until(lambda: navbar.rect["x"] >= 0 and navbar.is_displayed(), timeout=5)
    page_width = duo.driver.execute_script("return document.documentElement.scrollWidth")
    assert page_width <= 400  # nothing forces sideways scrolling of the page
    duo.driver.save_screenshot("/tmp/phone.png")
