"""Performance monitoring and the regional report in real Chromium: a district manager
benchmarks a site and reads its rank; an executive drills region → district → site in the
regional report and downloads the workbook, whose totals match the screen."""

import io
import pathlib
import time

import openpyxl
from dash.testing.wait import until
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from tests.conftest import person_for_site, sites_of


def test_district_manager_benchmarks_a_site_and_sees_its_rank(browser, portfolio, db):
    am_sites = sites_of(portfolio, portfolio.demo_accounts["account_manager"])
    site_id = min(am_sites)
    email = person_for_site(db, portfolio, site_id, "district_manager").email
    duo = browser.duo
    browser.sign_in(email)
    browser.wait_for_role("District manager")
    duo.find_element("#shell-nav-performance").click()
    duo.wait_for_element("#perf-tabs", timeout=20)
    duo.driver.get(f"{duo.server_url}/performance?site={site_id}&tab=benchmark")
    duo.wait_for_contains_text("#perf-bench-headline", "rank", timeout=40)
    headline = duo.find_element("#perf-bench-headline").text
    # "0607 · … : rank 2 of 4 on FLC margin % · 67th percentile (same region, 4 sites)"
    assert " of " in headline and "percentile" in headline and "same region" in headline
    rank, of = headline.split("rank ")[1].split(" on ")[0].split(" of ")
    assert 1 <= int(rank) <= int(of)
    # The rank table lists every KPI with a rank among the peers.
    until(lambda: len(browser.grid_column("perf-rank-grid", "label")) == 11, 20)
    assert "Robust z-score |z| ≥ 3.5" in duo.find_element("#perf-outlier-threshold").text
    # The chart highlights the site among its peers.
    until(
        lambda: len(duo.driver.find_elements(By.CSS_SELECTOR, "#perf-bench-chart .trace")) >= 2, 20
    )

    # Peers = same district: the rank is out of the district's sites with a value.
    duo.find_element("#perf-peers").click()
    duo.driver.find_element(By.XPATH, "//*[@role='option'][contains(., 'Same district')]").click()
    until(lambda: "same district" in duo.find_element("#perf-bench-headline").text, 30)
    assert duo.get_logs() == []


def _pinned_total(duo, field):
    return duo.find_element(
        f"#report-grid .ag-floating-bottom .ag-cell[col-id='{field}']"
    ).get_attribute("textContent")


def _dollars(text: str) -> int:
    negative = text.startswith("-")
    value = int(text.replace("$", "").replace(",", "").replace("-", ""))
    return -value if negative else value


def _names(browser):
    """The names in the report grid; [] while the grid re-renders."""
    try:
        return browser.grid_column("report-grid", "name")
    except StaleElementReferenceException:
        return []


def _click_row(duo, name):
    cells = duo.driver.find_elements(By.CSS_SELECTOR, "#report-grid .ag-cell[col-id='name']")
    target = next(c for c in cells if c.get_attribute("textContent") == name)
    target.click()


def test_executive_drills_the_regional_report_and_downloads_the_workbook(browser, portfolio):
    duo = browser.duo
    browser.sign_in(portfolio.demo_accounts["executive"])
    browser.wait_for_role("Executive")
    duo.find_element("#shell-nav-report").click()
    duo.wait_for_element("#report-grid .ag-floating-bottom .ag-cell[col-id='forecast_flc']", 40)
    regions = browser.grid_column("report-grid", "name")
    assert len(regions) == 3
    screen_total = _pinned_total(duo, "forecast_flc")
    screen_budget = _pinned_total(duo, "budget_flc")

    # Region → its districts.
    region = regions[0]
    _click_row(duo, region)
    duo.wait_for_contains_text("#report-crumbs", region, timeout=20)
    districts = browser.grid_column("report-grid", "name")
    assert districts and region not in districts
    # District → its sites.
    district = districts[0]
    _click_row(duo, district)
    duo.wait_for_contains_text("#report-crumb-district", district, timeout=20)
    until(lambda: "·" in (_names(browser) or [""])[0], 20)
    sites = browser.grid_column("report-grid", "name")
    assert all(" · " in s for s in sites)
    assert _pinned_total(duo, "name") == f"Total — {district}"
    # Back to all regions through the crumbs.
    duo.find_element("#report-crumb-all").click()
    until(lambda: _names(browser) == regions, 20)

    # Download the workbook (3 steps with progress) and compare it with the screen.
    duo.find_element("#report-export-xlsx").click()
    duo.wait_for_contains_text("#report-export-status", "Done", timeout=90)
    duo.wait_for_contains_text("#report-progress-text", "Step 3 of 3: done", timeout=10)
    folder = pathlib.Path(duo.download_path)
    until(lambda: any(p.suffix == ".xlsx" for p in folder.iterdir()), 30)
    path = next(p for p in folder.iterdir() if p.suffix == ".xlsx")
    time.sleep(0.5)  # let Chromium finish writing
    book = openpyxl.load_workbook(io.BytesIO(path.read_bytes()))
    sheet = book["Regions"]
    header_row = next(r for r in range(1, 15) if sheet.cell(r, 1).value == "Name")
    headers = [c.value for c in sheet[header_row]]
    forecast_col = headers.index("Forecast FLC (actual + forecast)") + 1
    budget_col = headers.index("Budget FLC") + 1
    names = [sheet.cell(r, 1).value for r in range(header_row + 1, header_row + 1 + len(regions))]
    assert names == regions
    total_row = sheet.max_row
    assert sheet.cell(total_row, 1).value == "Total"
    assert round(sheet.cell(total_row, forecast_col).value) == _dollars(screen_total)
    assert round(sheet.cell(total_row, budget_col).value) == _dollars(screen_budget)
    # The regions add up to the total in the file as on screen.
    region_sum = sum(
        sheet.cell(r, forecast_col).value
        for r in range(header_row + 1, header_row + 1 + len(regions))
    )
    assert abs(region_sum - sheet.cell(total_row, forecast_col).value) < 0.05
    assert {"Regions", "Districts", "Sites", "At-risk sites", "Accuracy"} <= set(book.sheetnames)
    assert duo.get_logs() == []
