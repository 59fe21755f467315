"""The Payroll tab as account managers use it, in real Chromium: a Group-mode site and a
per-labor-hour (Code-mode) site."""

import time

import pytest
from dash.testing.wait import until
from selenium.common.exceptions import (
    ElementClickInterceptedException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import select

from dashboard.data.models import JobCode, PlhJobRate, User
from dashboard.data.seed import DEMO_PASSWORD
from dashboard.services.accounts import NewUser, create_user

# Monday 23 Nov 2026 is "today": the week page shown first is Sun 22 – Sat 28 Nov.
TODAY_COLUMN = "d1"  # Mon 11/23
WEDNESDAY = "d3"  # Wed 11/25
THURSDAY = "d4"  # Thu 11/26


def _account_manager(db, portfolio, plh: bool) -> tuple[int, str]:
    """An account manager of a Group-mode (or PLH) site; one is created for the PLH site
    when the demo portfolio leaves it without one."""
    sites = portfolio["site"]
    flagged = sites["contract_types"].str.contains("PerLaborHour")
    grants = portfolio["scope_assignment"]
    users = portfolio["app_user"].set_index("id")
    for site in sites[flagged if plh else ~flagged].itertuples():
        managed = grants[grants["site_id"] == site.id]
        if len(managed):
            return int(site.id), users.at[int(managed["user_id"].iloc[0]), "email"]
    site = sites[flagged].iloc[0]
    email = f"am.plh{int(site['id'])}@example.com"
    with db.write() as session:
        if session.scalar(select(User.id).where(User.email == email)) is None:
            create_user(
                session,
                NewUser(
                    email,
                    "PLH Account Manager",
                    "account_manager",
                    DEMO_PASSWORD,
                    (site["site_number"],),
                ),
            )
    return int(site["id"]), email


def _cell(duo, row_id, column):
    return duo.find_element(
        f"#payroll-grid .ag-center-cols-container .ag-row[row-id='{row_id}'] "
        f".ag-cell[col-id='{column}']"
    )


def _settled(read, pause=1.0, timeout=15.0):
    """A value that has stopped changing: the grid's pinned totals follow edits a moment
    later (one render per edit)."""
    deadline = time.monotonic() + timeout
    value = read()
    while time.monotonic() < deadline:
        time.sleep(pause)
        again = read()
        if again == value:
            return value
        value = again
    raise AssertionError("the value kept changing")


def _pinned(duo, row_id, column):
    return duo.find_element(
        f"#payroll-grid .ag-floating-bottom .ag-row[row-id='{row_id}'] .ag-cell[col-id='{column}']"
    ).get_attribute("textContent")


def _type(duo, row_id, column, text):
    # The grid sizes its columns to the panel once rendered: a click landing mid-resize hits
    # the neighbouring cell, so click again once the cell stands still.
    deadline = time.monotonic() + 5
    while True:
        try:
            _cell(duo, row_id, column).click()
            break
        except (ElementClickInterceptedException, StaleElementReferenceException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    duo.driver.switch_to.active_element.send_keys(text)
    duo.driver.switch_to.active_element.send_keys(Keys.ENTER)


def _open_payroll(browser, site_id, email):
    duo = browser.duo
    browser.sign_in(email)
    browser.wait_for_role("Account manager")
    url = f"{duo.server_url}/workspace?site={site_id}&start=2026-11"
    duo.driver.get(url)
    duo.wait_for_element("#ws-tab-payroll", timeout=20).click()
    duo.wait_for_contains_text("#payroll-week-label", "Nov 22", timeout=20)
    duo.wait_for_element("#payroll-grid .ag-center-cols-container .ag-row", timeout=20)
    return url


def _first_editable_row(duo):
    rows = duo.driver.find_elements(
        By.CSS_SELECTOR, "#payroll-grid .ag-center-cols-container .ag-row"
    )
    for row in rows:
        cell = row.find_element(By.CSS_SELECTOR, f".ag-cell[col-id='{WEDNESDAY}']")
        if "cell-readonly" not in cell.get_attribute("class"):
            return row.get_attribute("row-id")
    raise AssertionError("no editable payroll row")


def _pick(duo, selector, label):
    duo.find_element(selector).click()
    option = f"//*[@role='option'][contains(., '{label}')]"
    until(lambda: duo.driver.find_elements(By.XPATH, option), timeout=10)
    duo.driver.find_element(By.XPATH, option).click()


@pytest.fixture
def group_site(browser, db, portfolio):
    site_id, email = _account_manager(db, portfolio, plh=False)
    return browser, _open_payroll(browser, site_id, email)


def test_group_hours_cost_dollars_paging_copy_and_save(group_site):
    browser, url = group_site
    duo = browser.duo
    assert duo.find_element("#payroll-mode").text.startswith("By job group")
    row = _first_editable_row(duo)
    assert row.startswith("g")
    cost_before = _pinned(duo, "total-cost", WEDNESDAY)
    _type(duo, row, WEDNESDAY, "60")
    until(lambda: _cell(duo, row, WEDNESDAY).get_attribute("textContent").endswith("60"), 10)
    until(lambda: _pinned(duo, "total-cost", WEDNESDAY) != cost_before, timeout=10)
    duo.wait_for_text_to_equal("#payroll-dirty", "1 unsaved payroll change")

    # Today is locked.
    _type(duo, row, TODAY_COLUMN, "5")
    assert not duo.driver.find_elements(By.CSS_SELECTOR, "#payroll-grid .ag-cell-inline-editing")
    assert "cell-readonly" in _cell(duo, row, TODAY_COLUMN).get_attribute("class")

    # Dollars in, hours out: $300 at the group rate.
    duo.find_element("#payroll-unit").find_element(
        By.XPATH, ".//label[contains(., 'Dollars')]"
    ).click()
    until(lambda: _cell(duo, row, THURSDAY).get_attribute("textContent").startswith("$"), 10)
    _type(duo, row, THURSDAY, "300")
    until(lambda: _cell(duo, row, THURSDAY).get_attribute("textContent") == "$300", 10)
    duo.find_element("#payroll-unit").find_element(
        By.XPATH, ".//label[contains(., 'Hours')]"
    ).click()
    until(lambda: not _cell(duo, row, THURSDAY).get_attribute("textContent").startswith("$"), 10)
    hours = float(_cell(duo, row, THURSDAY).get_attribute("textContent").replace("⚠", "").strip())
    assert 0 < hours < 300

    # Paging keeps the edits.
    duo.find_element("#payroll-next").click()
    duo.wait_for_contains_text("#payroll-week-label", "Nov 29", timeout=10)
    duo.find_element("#payroll-prev").click()
    duo.wait_for_contains_text("#payroll-week-label", "Nov 22", timeout=10)
    until(lambda: _cell(duo, row, WEDNESDAY).get_attribute("textContent").endswith("60"), 10)

    duo.find_element("#payroll-copy-schedule").click()
    duo.wait_for_contains_text("#payroll-copied", "Copied the schedule", timeout=10)

    wednesday = _cell(duo, row, WEDNESDAY).get_attribute("textContent")
    duo.find_element("#payroll-save").click()
    duo.wait_for_contains_text("#payroll-saved", "Saved", timeout=20)
    duo.driver.get(url)
    duo.wait_for_element("#ws-tab-payroll", timeout=20).click()
    duo.wait_for_contains_text("#payroll-week-label", "Nov 22", timeout=20)
    until(lambda: duo.find_element("#payroll-dirty").text == "", timeout=10)
    until(lambda: _cell(duo, row, WEDNESDAY).get_attribute("textContent") == wednesday, 20)
    assert duo.get_logs() == []


def _money(text):
    return float(text.replace("$", "").replace(",", ""))


def test_plh_code_hours_earn_overtime_revenue(browser, db, portfolio):
    site_id, email = _account_manager(db, portfolio, plh=True)
    _open_payroll(browser, site_id, email)
    duo = browser.duo
    duo.wait_for_contains_text("#payroll-kpis", "Billable revenue", timeout=10)
    billed = duo.driver.find_elements(
        By.XPATH, "//*[@id='payroll-grid']//div[@col-id='label'][contains(., 'bills $')]"
    )
    row = billed[0].find_element(By.XPATH, "..").get_attribute("row-id")
    with db.read() as session:
        overtime_rate = session.scalar(
            select(PlhJobRate.overtime_rate).where(
                PlhJobRate.site_id == site_id, PlhJobRate.job_code_id == int(row[1:])
            )
        )
    # Tue–Thu at 0 h, then 45 h on Thursday: Sat–Mon (past days) already hold more than 40 h of
    # this code in the Saturday–Friday week, so all 45 h are overtime, billed at the OT rate.
    for column in ("d2", WEDNESDAY, THURSDAY):
        _type(duo, row, column, "0")
        until(lambda c=column: _cell(duo, row, c).get_attribute("textContent") == "0", 10)
    before = _settled(lambda: _money(_pinned(duo, "total-revenue", "week")))
    _type(duo, row, THURSDAY, "45")
    until(lambda: _cell(duo, row, THURSDAY).get_attribute("textContent").endswith("45"), 10)
    until(lambda: _money(_pinned(duo, "total-revenue", "week")) != before, timeout=10)
    after = _money(_pinned(duo, "total-revenue", "week"))
    assert after - before == pytest.approx(45 * float(overtime_rate), abs=1.0)


def test_bad_hours_are_refused_at_the_cell(group_site):
    browser, _ = group_site
    duo = browser.duo
    row = _first_editable_row(duo)
    for text, message in (
        ("-3", "cannot be negative"),
        ("501", "between 0 and 500"),
        ("x", "enter a number"),
    ):
        _type(duo, row, WEDNESDAY, text)
        duo.wait_for_contains_text("#payroll-refused", message, timeout=10)
    assert duo.find_element("#payroll-dirty").text == ""


def test_admin_assigns_an_unassigned_code_to_a_group(browser, db, portfolio):
    codes = portfolio["job_code"]
    greeter = int(codes.loc[codes["code"] == "GREETER", "id"].iloc[0])
    links = portfolio["site_job_code"]
    site_id = int(links.loc[links["job_code_id"] == greeter, "site_id"].iloc[0])
    duo = browser.duo
    browser.sign_in(portfolio.demo_accounts["admin"])
    browser.wait_for_role("Administrator")
    duo.driver.get(f"{duo.server_url}/workspace?site={site_id}&start=2026-11")
    duo.wait_for_element("#ws-tab-payroll", timeout=20).click()
    duo.wait_for_contains_text("#payroll-unassigned", "not in a job group", timeout=20)
    try:
        _pick(duo, "#payroll-assign-code", "GREETER")
        _pick(duo, "#payroll-assign-group", "Door")
        duo.find_element("#payroll-assign-submit").click()
        duo.wait_for_contains_text("#payroll-assigned", "GREETER now belongs to Door", timeout=15)
        until(lambda: not duo.driver.find_elements(By.CSS_SELECTOR, "#payroll-unassigned"), 10)
    finally:  # the database is shared by the session's tests: put the code back
        with db.write() as session:
            session.get(JobCode, greeter).job_group_id = None


def test_an_executive_sees_payroll_read_only_and_why(browser, db, portfolio):
    """Read-only is decided on the server: an executive's payroll cells are read-only (no
    editor opens, nothing becomes an unsaved edit) and the tab says why."""
    site_id, _email = _account_manager(db, portfolio, plh=False)
    duo = browser.duo
    browser.sign_in(portfolio.demo_accounts["executive"])
    browser.wait_for_role("Executive")
    duo.driver.get(f"{duo.server_url}/workspace?site={site_id}&start=2026-11")
    duo.wait_for_element("#ws-tab-payroll", timeout=20).click()
    duo.wait_for_contains_text("#payroll-readonly", "Your role cannot change forecasts.", 20)
    duo.wait_for_element("#payroll-grid .ag-center-cols-container .ag-row", timeout=20)
    rows = duo.driver.find_elements(
        By.CSS_SELECTOR, "#payroll-grid .ag-center-cols-container .ag-row"
    )
    cells = [r.find_element(By.CSS_SELECTOR, f".ag-cell[col-id='{WEDNESDAY}']") for r in rows]
    assert cells and all("cell-readonly" in c.get_attribute("class") for c in cells)
    ActionChains(duo.driver).double_click(cells[0]).perform()
    assert not duo.driver.find_elements(By.CSS_SELECTOR, ".ag-cell-inline-editing")
    assert duo.get_logs() == []
