"""One submission story end to end in real Chromium: blocked by an unexplained variance,
explained and submitted, returned with a comment on the district review page, edited and
resubmitted, approved, then locked for the account manager; the audit trail shows each step
with names and times."""

from dash.testing.wait import until
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

SITE = 7  # a revenue share hotel of district 2 (test portfolio): more cars, more FLC
ACCOUNT_MANAGER = "am0004@example.com"
DISTRICT_MANAGER = "dm02@example.com"
MONTH = "2026-12"
WORKSPACE = f"/workspace?site={SITE}&start={MONTH}"


def _text(duo, selector):
    return duo.driver.execute_script(
        "const el = document.querySelector(arguments[0]); return el ? el.textContent : '';",
        selector,
    )


def _cell(duo, day, field):
    return duo.find_element(
        f".ag-center-cols-container .ag-row[row-id='{day}'] .ag-cell[col-id='{field}']"
    )


def _type_into(duo, day, field, text):
    _cell(duo, day, field).click()
    duo.driver.switch_to.active_element.send_keys(text)
    duo.driver.switch_to.active_element.send_keys(Keys.ENTER)


def _open_workspace(browser, email, role):
    duo = browser.duo
    browser.sign_in(email)
    browser.wait_for_role(role)
    duo.driver.get(duo.server_url + WORKSPACE)
    duo.wait_for_element(".ag-row[row-id='2026-12-01'] .ag-cell[col-id='valet_daily']", timeout=30)


def _tab(duo, name):
    tab = duo.find_element(f"#ws-tab-{name}")
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tab)
    tab.click()


def _submission_tab(duo):
    _tab(duo, "submission")
    duo.wait_for_element("#ws-sub-status", timeout=30)


def _status(duo):
    return _text(duo, "#ws-sub-status")


def _switch_user(browser, email, role):
    # Signing out while the page still has requests in flight: the sign-out must hold.
    browser.sign_out()
    browser.duo.wait_for_element("#login-email", timeout=20)
    browser.sign_in(email)
    browser.wait_for_role(role)


def _review_page(duo):
    duo.find_element("#shell-nav-review").click()
    duo.wait_for_element(f"#review-grid .ag-row[row-id='{SITE}']", timeout=30)


def _select_site_row(duo):
    row = f"#review-grid .ag-pinned-left-cols-container .ag-row[row-id='{SITE}']"
    duo.find_element(f"{row} .ag-selection-checkbox input, {row} .ag-checkbox-input").click()


def test_submit_return_resubmit_approve_lock_and_audit(browser):
    duo = browser.duo

    # The account manager forecasts far more valet cars for December, every day.
    _open_workspace(browser, ACCOUNT_MANAGER, "Account manager")
    _type_into(duo, "2026-12-01", "valet_daily", "900")
    until(lambda: _cell(duo, "2026-12-01", "valet_daily").text == "900", timeout=10)
    duo.find_element("#stats-fill-down").click()
    duo.wait_for_text_to_equal("#ws-dirty", "31 unsaved changes", timeout=15)
    duo.find_element("#ws-save").click()
    duo.wait_for_contains_text("#ws-saved", "Saved 31 change", timeout=30)

    # Submitting without an explanation is blocked by the FLC variance.
    _submission_tab(duo)
    assert _status(duo) == "Draft"
    until(lambda: "FLC is" in _text(duo, "#ws-sub-checklist-items"), timeout=20)
    assert "needs an explanation" in _text(duo, "#ws-sub-checklist-items")
    duo.find_element("#ws-sub-submit").click()
    duo.wait_for_contains_text("#ws-sub-error", "Not submitted", timeout=20)
    assert "FLC is +$" in _text(duo, "#ws-sub-problems")
    assert _status(duo) == "Draft"

    # Explained, then submitted.
    for line in ("flc", "internal_revenue"):
        box = duo.find_element(f"#ws-sub-explain-{line}-box")
        if box.is_displayed():
            duo.find_element(f"#ws-sub-explain-{line}").send_keys(
                "Citywide convention all December: the hotel is sold out."
            )
    duo.find_element("#ws-sub-submit").click()
    duo.wait_for_contains_text("#ws-sub-ok", "Submitted December 2026", timeout=30)
    until(lambda: _status(duo) == "Submitted", timeout=20)

    # The district manager sees it on the review page and returns it with a comment.
    _switch_user(browser, DISTRICT_MANAGER, "District manager")
    _review_page(duo)
    until(
        lambda: (
            "Submitted"
            in _text(duo, f"#review-grid .ag-row[row-id='{SITE}'] .ag-cell[col-id='status_label']")
        ),
        timeout=20,
    )
    _select_site_row(duo)
    duo.find_element("#review-comment").send_keys("Please split the convention days from the rest.")
    duo.find_element("#review-return").click()
    duo.wait_for_contains_text("#review-outcome", "Returned 1", timeout=30)

    # The account manager sees the comment in the inbox and the workspace, edits, resubmits.
    _switch_user(browser, ACCOUNT_MANAGER, "Account manager")
    duo.wait_for_contains_text(
        "#home-submission-card", "Returned: Please split the convention days", timeout=30
    )
    duo.find_element("#shell-nav-inbox").click()
    duo.wait_for_contains_text("#inbox-list", "Please split the convention days", timeout=30)
    duo.driver.get(duo.server_url + WORKSPACE)
    duo.wait_for_element(".ag-row[row-id='2026-12-05'] .ag-cell[col-id='valet_daily']", timeout=30)
    _submission_tab(duo)
    assert _status(duo) == "Returned"
    assert "Please split the convention days" in _text(duo, "#ws-sub-return-comment")
    _tab(duo, "statistics")
    _type_into(duo, "2026-12-05", "valet_daily", "850")
    duo.wait_for_text_to_equal("#ws-dirty", "1 unsaved change", timeout=15)
    duo.find_element("#ws-save").click()
    duo.wait_for_contains_text("#ws-saved", "Saved 1 change", timeout=30)
    _submission_tab(duo)
    until(lambda: _status(duo) == "Draft", timeout=20)
    duo.find_element("#ws-sub-submit").click()
    duo.wait_for_contains_text("#ws-sub-ok", "Submitted December 2026", timeout=30)

    # The district manager approves it.
    _switch_user(browser, DISTRICT_MANAGER, "District manager")
    _review_page(duo)
    until(
        lambda: (
            "Submitted"
            in _text(duo, f"#review-grid .ag-row[row-id='{SITE}'] .ag-cell[col-id='status_label']")
        ),
        timeout=20,
    )
    _select_site_row(duo)
    duo.find_element("#review-approve").click()
    duo.wait_for_contains_text("#review-outcome", "Approved 1", timeout=30)

    # The account manager can no longer change December: its cells are read-only and the
    # grid says why (decided on the server, with the save's own rules).
    _switch_user(browser, ACCOUNT_MANAGER, "Account manager")
    duo.driver.get(duo.server_url + WORKSPACE)
    duo.wait_for_element(".ag-row[row-id='2026-12-06'] .ag-cell[col-id='valet_daily']", timeout=30)
    duo.wait_for_contains_text(
        "#stats-readonly-banner", "only your district manager can change it now", timeout=15
    )
    before = _cell(duo, "2026-12-06", "valet_daily").text
    _type_into(duo, "2026-12-06", "valet_daily", "700")
    assert duo.driver.find_elements(By.CSS_SELECTOR, ".ag-cell-inline-editing") == []
    assert _cell(duo, "2026-12-06", "valet_daily").text == before
    assert _text(duo, "#ws-dirty") == ""
    _submission_tab(duo)
    assert _status(duo) == "Approved"

    # The audit trail shows every step with names and times.
    duo.driver.get(f"{duo.server_url}/audit?site={SITE}")
    duo.wait_for_element("#audit-grid .ag-row", timeout=30)
    duo.find_element("#audit-kind").click()
    steps = {}
    for kind in ("submit", "return", "approve"):
        option = f"//*[@role='option'][normalize-space(.)='{kind}']"
        until(lambda o=option: duo.driver.find_elements(By.XPATH, o), timeout=10)
    duo.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    people = browser.grid_column("audit-grid", "person")
    kinds = browser.grid_column("audit-grid", "action")
    times = browser.grid_column("audit-grid", "at")
    for person, kind, when in zip(people, kinds, times, strict=True):
        steps.setdefault(kind, []).append((person, when))
    assert len(steps["submit"]) == 2 and len(steps["return"]) == 1 and len(steps["approve"]) == 1
    assert {p for p, _ in steps["submit"]} == {"Account Manager 0004"}
    assert {p for p, _ in steps["return"] + steps["approve"]} == {"District Manager 02"}
    assert all(when.startswith("20") for _, when in steps["submit"] + steps["approve"])
    assert duo.get_logs() == []
