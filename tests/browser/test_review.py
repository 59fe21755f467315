"""The district review at volume in real Chromium: the selection is cleared after an action,
a bulk result is one grouped line with the details on demand, the grid takes the page's width
with the decision columns in view at 1440 px, the chart follows the status filter, and a
site's link opens its Submission tab for the month under review.

District 1 (sites 1 to 4) in July 2027, a month no other test uses: sites 2 and 3 are
submitted, 1 and 4 are drafts."""

from __future__ import annotations

import datetime as dt

import pytest
from dash.testing.wait import until
from selenium.webdriver.common.by import By
from sqlalchemy import select

from dashboard.data.models import ForecastSubmission, User

DISTRICT_MANAGER = "dm01@example.com"
YEAR, MONTH = 2027, 7
REVIEW = f"/review?district=1&month={YEAR}-{MONTH:02d}"
SUBMITTED_SITES = (2, 3)
SITES = (1, 2, 3, 4)


@pytest.fixture
def submitted(db):
    """Sites 2 and 3 submitted for July 2027, 1 and 4 drafts (written directly: the
    submission itself is another test's subject; whatever an earlier test on a shared
    database did to this month is undone)."""
    with db.write() as session:
        someone = session.scalar(select(User.id).where(User.email == "am0001@example.com"))
        rows = {
            r.site_id: r
            for r in session.scalars(
                select(ForecastSubmission).where(
                    ForecastSubmission.year == YEAR, ForecastSubmission.month == MONTH
                )
            )
        }
        for site_id in SITES:
            row = rows.get(site_id)
            if row is None:
                if site_id not in SUBMITTED_SITES:
                    continue
                row = ForecastSubmission(site_id=site_id, year=YEAR, month=MONTH, version=0)
                session.add(row)
            row.status = "SUBMITTED" if site_id in SUBMITTED_SITES else "DRAFT"
            row.submitted_by_id = someone if site_id in SUBMITTED_SITES else None
            row.submitted_at = dt.datetime(2026, 11, 20, 9, 0)
            row.reviewed_by_id = row.reviewed_at = row.review_comment = None
            row.version = (row.version or 0) + 1


def _text(duo, selector: str) -> str:
    found = duo.driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0].get_attribute("textContent") if found else ""


def _open_review(browser, width: int = 1440):
    duo = browser.duo
    duo.driver.set_window_size(width, 900)
    browser.sign_in(DISTRICT_MANAGER)
    browser.wait_for_role("District manager")
    duo.driver.get(duo.server_url + REVIEW)
    for site_id in SITES:
        duo.wait_for_element(f"#review-grid .ag-row[row-id='{site_id}']", timeout=40)
    return duo


def _status(duo, site_id: int) -> str:
    return _text(duo, f"#review-grid .ag-row[row-id='{site_id}'] .ag-cell[col-id='status_label']")


def _checkbox(duo, site_id: int):
    row = f"#review-grid .ag-pinned-left-cols-container .ag-row[row-id='{site_id}']"
    return duo.find_element(f"{row} .ag-selection-checkbox input, {row} .ag-checkbox-input")


def _selected_rows(duo) -> list[str]:
    rows = duo.driver.find_elements(
        By.CSS_SELECTOR, "#review-grid .ag-pinned-left-cols-container .ag-row-selected"
    )
    return sorted({r.get_attribute("row-id") for r in rows})


def test_the_selection_is_cleared_after_an_action(browser, submitted):
    duo = _open_review(browser)
    until(lambda: _status(duo, 2) == "Submitted", timeout=20)
    _checkbox(duo, 2).click()
    until(lambda: _selected_rows(duo) == ["2"], timeout=10)

    duo.find_element("#review-comment").send_keys("Please split the event days out.")
    duo.find_element("#review-return").click()
    duo.wait_for_contains_text("#review-outcome", "Returned 1", timeout=40)
    until(lambda: _status(duo, 2) == "Returned", timeout=20)
    # Nothing is selected any more: the next action cannot reach the returned site.
    until(lambda: _selected_rows(duo) == [], timeout=10)
    assert not _checkbox(duo, 2).is_selected()

    duo.find_element("#review-approve").click()
    duo.wait_for_contains_text("#review-outcome", "Select one or more sites first", timeout=30)
    assert _status(duo, 2) == "Returned"
    assert duo.get_logs() == []


def test_a_bulk_result_is_one_grouped_line_with_details_on_demand(browser, submitted):
    duo = _open_review(browser)
    until(lambda: _status(duo, 3) == "Submitted", timeout=20)
    # Every site of the district: two drafts and two submitted.
    duo.find_element("#review-grid .ag-header-select-all .ag-checkbox-input").click()
    until(lambda: _selected_rows(duo) == ["1", "2", "3", "4"], timeout=10)
    grid_top = duo.find_element("#review-grid").rect["y"]

    duo.find_element("#review-approve").click()
    duo.wait_for_element("#review-outcome-line", timeout=40)
    line = _text(duo, "#review-outcome-line")
    # Drafts are "not submitted", never "unexplained variance".
    assert line.startswith("Approved ") and " · 2 not submitted" in line, line
    assert "unexplained" not in line.lower()
    approved = int(line.split(" · ")[0].removeprefix("Approved "))
    explaining = (
        int(line.split(" need explanations")[0].split(" · ")[-1])
        if ("need explanations" in line)
        else 0
    )
    assert approved + explaining == 2

    # One line: the grid stays where it was (give or take the alert's one line).
    assert duo.find_element("#review-grid").rect["y"] - grid_top < 90
    details = duo.find_element("#review-outcome-details")
    assert details.get_attribute("open") is None
    assert not duo.find_element("#review-outcome-details ul").is_displayed()
    duo.find_element("#review-outcome-more").click()
    until(lambda: duo.find_element("#review-outcome-details ul").is_displayed(), timeout=5)
    shown = details.text
    assert "Not submitted (2)" in shown
    assert "Draft" in shown
    assert "unexplained" not in shown.split("Not submitted (2)")[1].split("(")[0].lower()
    until(lambda: _selected_rows(duo) == [], timeout=10)
    assert duo.get_logs() == []


def test_the_decision_columns_fit_at_1440_px_without_scrolling_sideways(browser, submitted):
    duo = _open_review(browser, 1440)
    # The grid takes the page's width (not two thirds of it beside the chart).
    grid = duo.find_element("#review-grid")
    assert grid.rect["width"] > 0.7 * duo.driver.execute_script("return window.innerWidth")
    viewport = "#review-grid .ag-center-cols-viewport"
    overflow = duo.driver.execute_script(
        "const v = document.querySelector(arguments[0]); return v.scrollWidth - v.clientWidth;",
        viewport,
    )
    assert overflow <= 1, f"the grid scrolls sideways by {overflow} px"
    inner = duo.driver.execute_script("return document.documentElement.clientWidth")
    right = grid.rect["x"] + grid.rect["width"]
    for field in ("status_label", "flc_var", "flc_pct", "flags", "explained"):
        header = duo.find_element(f"#review-grid .ag-header-cell[col-id='{field}']")
        box = header.rect
        assert box["width"] > 40, field
        assert box["x"] >= grid.rect["x"] and box["x"] + box["width"] <= right + 1, field
        assert box["x"] + box["width"] <= inner, field
    assert duo.get_logs() == []


def test_the_chart_follows_the_status_filter(browser, submitted):
    duo = _open_review(browser)

    def bars():
        return len(duo.driver.find_elements(By.CSS_SELECTOR, "#review-chart .ytick"))

    until(lambda: bars() == len(SITES), timeout=30)
    duo.find_element("#review-status").click()
    duo.driver.find_element(By.XPATH, "//*[@role='option'][normalize-space(.)='Submitted']").click()
    until(lambda: bars() == len(SUBMITTED_SITES), timeout=30)
    assert "submitted" in _text(duo, "#review-chart .gtitle").lower()
    assert duo.get_logs() == []


def test_a_site_link_opens_its_submission_tab_for_the_month(browser, submitted):
    duo = _open_review(browser)
    link = duo.find_element("#review-grid .ag-row[row-id='2'] .ag-cell[col-id='site_link'] a")
    assert "tab=submission" in link.get_attribute("href")
    link.click()
    duo.wait_for_element("#ws-sub-status", timeout=40)
    until(lambda: _text(duo, "#ws-sub-status") == "Submitted", timeout=30)
    assert "July 2027" in _text(duo, "#ws-sub-summary")
    assert duo.find_element("#ws-tab-submission").get_attribute("aria-selected") == "true"
    assert duo.get_logs() == []


def test_performance_opened_from_review_includes_the_month_under_review(browser, submitted):
    duo = _open_review(browser)
    until(
        lambda: (
            "month=2027-07"
            in (duo.find_element("#review-performance-link").get_attribute("href") or "")
        ),
        timeout=20,
    )
    duo.find_element("#review-performance-link").click()
    duo.wait_for_element("#perf-tabs", timeout=30)
    until(lambda: duo.find_element("#perf-last").get_attribute("value") == "July 2027", 20)
    until(lambda: duo.find_element("#perf-level").get_attribute("value") == "District", 20)
    assert duo.get_logs() == []
