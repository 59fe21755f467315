"""The statistics grid as an account manager's district manager uses it, in real Chromium."""

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

FUTURE = "2026-11-25"
LATER = "2026-11-26"
PAST = "2026-11-20"


def _hotel_and_manager(portfolio):
    sites = portfolio["site"]
    hotel = sites[sites["total_rooms"] > 0].iloc[0]
    users = portfolio["app_user"].set_index("id")
    grants = portfolio["scope_assignment"]
    manager_id = int(grants.loc[grants["district_id"] == hotel["district_id"], "user_id"].iloc[0])
    return int(hotel["id"]), users.at[manager_id, "email"]


def _cell(duo, day, field):
    return duo.find_element(
        f".ag-center-cols-container .ag-row[row-id='{day}'] .ag-cell[col-id='{field}']"
    )


def _type_into(duo, day, field, text):
    """Focus a cell and type over it, as in a spreadsheet, then press Enter."""
    cell = _cell(duo, day, field)
    cell.click()
    duo.driver.switch_to.active_element.send_keys(text)
    duo.driver.switch_to.active_element.send_keys(Keys.ENTER)


def _open_workspace(browser, portfolio):
    site_id, email = _hotel_and_manager(portfolio)
    duo = browser.duo
    browser.sign_in(email)
    browser.wait_for_role("District manager")
    url = f"{duo.server_url}/workspace?site={site_id}&start=2026-11"
    duo.driver.get(url)
    duo.wait_for_text_to_equal("#stats-page-label", "Page 1 of 3", timeout=20)
    duo.wait_for_element(f".ag-row[row-id='{FUTURE}'] .ag-cell[col-id='occupancy']", timeout=20)
    return url


@pytest.fixture
def workspace(browser, portfolio):
    return browser, _open_workspace(browser, portfolio)


def test_occupancy_edit_moves_derived_values_and_survives_paging(workspace):
    browser, _ = workspace
    duo = browser.duo
    overnight_before = _cell(duo, FUTURE, "valet_overnight").text
    revenue_before = _cell(duo, FUTURE, "external_revenue").text
    _type_into(duo, FUTURE, "occupancy", "99")
    until(lambda: _cell(duo, FUTURE, "occupancy").text == "99.0%", timeout=10)
    until(lambda: _cell(duo, FUTURE, "valet_overnight").text != overnight_before, timeout=10)
    assert _cell(duo, FUTURE, "external_revenue").text != revenue_before
    duo.wait_for_text_to_equal("#ws-dirty", "1 unsaved change")

    duo.find_element("#stats-next").click()
    duo.wait_for_text_to_equal("#stats-page-label", "Page 2 of 3")
    duo.wait_for_element(".ag-row[row-id='2026-12-01']")
    duo.find_element("#stats-prev").click()
    duo.wait_for_text_to_equal("#stats-page-label", "Page 1 of 3")
    until(lambda: _cell(duo, FUTURE, "occupancy").text == "99.0%", timeout=10)
    assert duo.get_logs() == []


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("occupancy", "abc", "enter a number"),
        ("valet_daily", "-4", "cannot be negative"),
        ("capture_ratio", "140", "cannot be over 100%"),
    ],
)
def test_bad_values_are_refused_at_the_cell(workspace, field, text, message):
    browser, _ = workspace
    duo = browser.duo
    before = _cell(duo, FUTURE, field).text
    _type_into(duo, FUTURE, field, text)
    duo.wait_for_contains_text("#stats-refused", message, timeout=10)
    until(lambda: _cell(duo, FUTURE, field).text == before, timeout=10)
    assert duo.find_element("#ws-dirty").text == ""


def test_paste_a_block_from_a_spreadsheet(workspace):
    browser, _ = workspace
    duo = browser.duo
    _cell(duo, FUTURE, "valet_daily").click()
    duo.driver.execute_script(
        """
        const data = new DataTransfer();
        data.setData('text/plain', '7\\t8\\n9\\t10\\n11\\t12\\n');
        document.activeElement.dispatchEvent(
            new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));
        """
    )
    duo.wait_for_contains_text("#stats-pasted", "Pasted 6 cell(s)", timeout=10)
    expected = {
        ("2026-11-25", "valet_daily"): "7",
        ("2026-11-25", "valet_monthly"): "8",
        ("2026-11-26", "valet_daily"): "9",
        ("2026-11-26", "valet_monthly"): "10",
        ("2026-11-27", "valet_daily"): "11",
        ("2026-11-27", "valet_monthly"): "12",
    }
    for (day, field), text in expected.items():
        until(lambda d=day, f=field, t=text: _cell(duo, d, f).text == t, timeout=10)


def test_cells_say_whether_they_are_proposed_unsaved_or_entered(workspace):
    """One legend: a day nobody saved shows its proposal; a typed cell is an unsaved edit
    until Save; after a reload the saved day is an entry."""
    browser, url = workspace
    duo = browser.duo
    legend = duo.find_element("#stats-legend").text
    for label in ("Entered", "Proposal", "Budget", "Unsaved edit", "Actual"):
        assert label in legend
    assert "cell-proposal" in _cell(duo, LATER, "self_daily").get_attribute("class")
    _type_into(duo, LATER, "self_daily", "77")
    until(lambda: _cell(duo, LATER, "self_daily").text == "77", timeout=10)
    until(lambda: "cell-unsaved" in _cell(duo, LATER, "self_daily").get_attribute("class"), 10)
    # The day's other cells still show the proposal until the day is saved.
    assert "cell-proposal" in _cell(duo, LATER, "valet_daily").get_attribute("class")
    duo.find_element("#ws-save").click()
    duo.wait_for_contains_text("#ws-saved", "Saved 1 change", timeout=15)
    duo.driver.get(url)
    duo.wait_for_element(f".ag-row[row-id='{LATER}'] .ag-cell[col-id='self_daily']", timeout=20)
    until(lambda: _cell(duo, LATER, "self_daily").text == "77", timeout=10)
    classes = _cell(duo, LATER, "self_daily").get_attribute("class")
    assert "cell-entry" in classes and "cell-unsaved" not in classes
    assert "cell-entry" in _cell(duo, LATER, "valet_daily").get_attribute("class")
    assert duo.get_logs() == []


def test_a_past_day_cannot_be_edited(workspace):
    browser, _ = workspace
    duo = browser.duo
    cell = _cell(duo, PAST, "valet_daily")
    before = cell.text
    assert "cell-readonly" in cell.get_attribute("class")
    ActionChains(duo.driver).double_click(cell).perform()
    duo.driver.switch_to.active_element.send_keys("5", Keys.ENTER)
    assert not duo.driver.find_elements(By.CSS_SELECTOR, ".ag-cell-inline-editing")
    assert _cell(duo, PAST, "valet_daily").text == before
    assert duo.find_element("#ws-dirty").text == ""


def test_comparison_shows_budget_and_accuracy_read_only(workspace):
    browser, _ = workspace
    duo = browser.duo
    duo.find_element("#ws-compare").click()
    option = "//*[@role='option'][contains(., 'Forecast accuracy')]"
    until(lambda: duo.driver.find_elements(By.XPATH, option), timeout=10)
    duo.driver.find_element(By.XPATH, option).click()
    duo.wait_for_contains_text("#stats-readonly-banner", "Forecast accuracy", timeout=10)
    text = _cell(duo, PAST, "valet_daily").text
    assert text == "—" or text.endswith("%")
    assert _cell(duo, FUTURE, "valet_daily").text == "—"
    ActionChains(duo.driver).double_click(_cell(duo, FUTURE, "valet_daily")).perform()
    assert not duo.driver.find_elements(By.CSS_SELECTOR, ".ag-cell-inline-editing")


def test_fill_month_from_budget_then_undo(workspace):
    """The month's open days take the budget as unsaved edits, with the change against the
    budget said before anything is saved; Undo takes the fill back in one step."""
    browser, _ = workspace
    duo = browser.duo
    duo.find_element("#stats-fill-budget").click()
    duo.wait_for_contains_text("#stats-filled", "from the budget's even spread", timeout=15)
    assert "vs budget" in duo.find_element("#stats-filled").text
    until(lambda: duo.find_element("#ws-dirty").text.endswith("unsaved changes"), timeout=10)
    until(lambda: "cell-unsaved" in _cell(duo, LATER, "valet_daily").get_attribute("class"), 10)
    duo.find_element("#stats-undo").click()
    until(lambda: duo.find_element("#ws-dirty").text == "", timeout=10)
    until(lambda: not duo.find_element("#stats-undo").is_enabled(), timeout=10)
    assert duo.find_element("#stats-redo").is_enabled()
    # Back to the proposal the days showed: nothing left to fill from it.
    duo.find_element("#stats-fill-proposal").click()
    duo.wait_for_contains_text("#stats-filled", "already shows the proposal", timeout=15)
    assert duo.get_logs() == []


def test_keyboard_undo_and_redo(workspace):
    browser, _ = workspace
    duo = browser.duo
    before = _cell(duo, FUTURE, "valet_daily").text
    _type_into(duo, FUTURE, "valet_daily", "321")
    until(lambda: _cell(duo, FUTURE, "valet_daily").text == "321", timeout=10)
    _cell(duo, LATER, "valet_daily").click()
    ActionChains(duo.driver).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
    until(lambda: _cell(duo, FUTURE, "valet_daily").text == before, timeout=10)
    assert duo.find_element("#ws-dirty").text == ""
    _cell(duo, LATER, "valet_daily").click()
    ActionChains(duo.driver).key_down(Keys.CONTROL).send_keys("y").key_up(Keys.CONTROL).perform()
    until(lambda: _cell(duo, FUTURE, "valet_daily").text == "321", timeout=10)
    duo.wait_for_text_to_equal("#ws-dirty", "1 unsaved change")


def _pick_month(duo, label):
    picker = duo.find_element("#ws-start")
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", picker)
    picker.click()
    option = f"//*[@role='option'][contains(., '{label}')]"
    until(lambda: duo.driver.find_elements(By.XPATH, option), timeout=10)
    duo.driver.find_element(By.XPATH, option).click()


def test_switching_month_with_unsaved_edits_asks_first(workspace):
    browser, _ = workspace
    duo = browser.duo
    _type_into(duo, FUTURE, "self_daily", "55")
    duo.wait_for_text_to_equal("#ws-dirty", "1 unsaved change")

    _pick_month(duo, "January 2027")
    duo.wait_for_contains_text("#ws-switch-text", "1 unsaved change", timeout=10)
    duo.find_element("#ws-switch-stay").click()
    # Staying keeps the loaded month, its edit and puts the picker back.
    until(
        lambda: duo.find_element("#ws-start").get_attribute("value") == "November 2026", timeout=10
    )
    until(lambda: _cell(duo, FUTURE, "self_daily").get_attribute("textContent") == "55", 10)
    assert duo.find_element("#ws-dirty").text == "1 unsaved change"

    _pick_month(duo, "January 2027")
    duo.wait_for_element("#ws-switch-discard", timeout=10).click()
    duo.wait_for_element(".ag-row[row-id='2027-01-01']", timeout=20)
    until(lambda: duo.find_element("#ws-dirty").text == "", timeout=10)


def test_an_executive_sees_the_statistics_read_only_and_why(browser, portfolio):
    """Read-only is decided on the server: an executive's cells carry no editor (typing
    changes nothing, no unsaved edit appears) and the grid says why."""
    site_id, _manager = _hotel_and_manager(portfolio)
    duo = browser.duo
    browser.sign_in(portfolio.demo_accounts["executive"])
    browser.wait_for_role("Executive")
    duo.driver.get(f"{duo.server_url}/workspace?site={site_id}&start=2026-11")
    duo.wait_for_element(f".ag-row[row-id='{FUTURE}'] .ag-cell[col-id='occupancy']", timeout=20)
    duo.wait_for_contains_text(
        "#stats-readonly-banner", "Your role cannot change forecasts.", timeout=10
    )
    before = _cell(duo, FUTURE, "occupancy").text
    assert "cell-readonly" in _cell(duo, FUTURE, "occupancy").get_attribute("class")
    _type_into(duo, FUTURE, "occupancy", "99")
    assert duo.driver.find_elements(By.CSS_SELECTOR, ".ag-cell-inline-editing") == []
    assert _cell(duo, FUTURE, "occupancy").text == before
    assert duo.find_element("#ws-dirty").text == ""
    # Nothing to save or fill for someone who may not change the site.
    until(lambda: not duo.find_element("#ws-save").is_enabled(), timeout=10)
    assert not duo.find_element("#stats-fill-down").is_enabled()
    assert not duo.find_element("#stats-fill-proposal").is_enabled()
    assert not duo.find_element("#stats-fill-budget").is_enabled()
    assert not duo.find_element("#stats-undo").is_enabled()
    assert not duo.find_element("#stats-redo").is_enabled()


def _choose_view(duo, label):
    option = duo.driver.find_element(
        By.XPATH, f"//*[@id='ws-view']//label[normalize-space()='{label}']"
    )
    duo.driver.execute_script("window.scrollTo(0, 0);")  # the view switch sits at the top
    option.click()


def test_a_week_total_typed_in_the_weekly_view_is_spread_over_its_days(workspace):
    """Weekly entry (§14): 700 valet daily for December 6–12 reads back as 700 in the week's
    row; the Daily view shows the seven days as unsaved edits that add up to it."""
    browser, _ = workspace
    duo = browser.duo
    duo.find_element("#stats-next").click()
    duo.wait_for_text_to_equal("#stats-page-label", "Page 2 of 3", timeout=10)
    _choose_view(duo, "Weekly")
    duo.wait_for_contains_text("#stats-bucket-banner", "Weekly entry", timeout=10)
    week = "2026-12-06"
    duo.wait_for_element(f".ag-row[row-id='{week}'] .ag-cell[col-id='valet_daily']", timeout=10)
    _type_into(duo, week, "valet_daily", "700")
    until(lambda: _cell(duo, week, "valet_daily").text == "700", timeout=10)
    duo.wait_for_text_to_equal("#ws-dirty", "7 unsaved changes", timeout=10)
    # The guard rail says what the spread does to the month against the budget.
    duo.wait_for_contains_text("#stats-spread", "December 2026 external revenue", timeout=10)
    assert "vs budget" in duo.find_element("#stats-spread").text
    _choose_view(duo, "Daily")
    duo.wait_for_element("[row-id='2026-12-12'] .ag-cell[col-id='valet_daily']", timeout=10)
    days = [f"2026-12-{d:02d}" for d in range(6, 13)]
    values = [float(_cell(duo, d, "valet_daily").text.replace(",", "")) for d in days]
    assert sum(values) == 700 and all(v == int(v) for v in values)
    assert len(set(values)) > 1  # the proposal's weekday profile, not an even spread
    assert all("cell-unsaved" in _cell(duo, d, "valet_daily").get_attribute("class") for d in days)
    # A week far off the budget: the guard rail warns before anything is saved.
    _choose_view(duo, "Weekly")
    later_week = "2026-12-13"
    duo.wait_for_element(f".ag-row[row-id='{later_week}'] .ag-cell[col-id='valet_daily']", 10)
    _type_into(duo, later_week, "valet_daily", "50000")
    duo.wait_for_contains_text("#stats-spread", "variance threshold", timeout=10)
    assert duo.find_element("#stats-spread").text.startswith("Above the variance threshold")
    assert duo.get_logs() == []


def test_the_workspace_does_not_scroll_sideways_on_a_phone(browser, portfolio):
    """At phone width the live panel's table scrolls inside its own box: the page itself is
    no wider than the window (it scrolled sideways by ~670 px)."""
    browser.duo.driver.set_window_size(390, 844)
    _open_workspace(browser, portfolio)
    duo = browser.duo
    duo.wait_for_element("#ws-impact-row-0", timeout=30)
    page, window = duo.driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert page <= window
    table = duo.driver.execute_script(
        "var p = document.getElementById('ws-impact-panel');return [p.scrollWidth, p.clientWidth];"
    )
    assert table[0] > table[1]  # the table is wider than its box and scrolls there
    assert duo.get_logs() == []


def test_statistics_headers_are_whole_at_1440(workspace):
    """Headers wrap instead of being cut ("Valet m…", "Self co…")."""
    browser, _ = workspace
    duo = browser.duo
    cut = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#stats-grid .ag-header-cell-text'))"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent);"
    )
    assert cut == []
    labels = [
        e.text
        for e in duo.driver.find_elements(By.CSS_SELECTOR, "#stats-grid .ag-header-cell-text")
    ]
    assert "Valet monthly" in labels and "Self comps" in labels
