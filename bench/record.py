"""Drive headless Chromium through the pages of the load test's journeys, time them as a person
sees them, and record every Dash callback request the browser makes (for ``bench/locustfile.py``
to replay under load).

Journeys (one demo person each, on a running instance):

* account manager — open the Workspace until the statistics grid shows its rows; then page
  the statistics forward twice and back once;
* district manager — open Review until the district roll-up grid shows its rows;
* executive — open the Regional report until its grid shows its rows.

Writes ``bench/out/recorded.json``: per journey step, the callback bodies in the order the
browser sent them, and the browser timings (ms). Run by ``bench/load.py``; on its own::

    .venv/bin/python -m bench.record --base http://127.0.0.1:8050 --accounts bench/out/accounts.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.data.seed import DEMO_PASSWORD

OUT = Path(__file__).resolve().parent / "out"
CALLBACK_PATH = "/_dash-update-component"


def _driver() -> webdriver.Chrome:
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1440,900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(options=options)


def _callbacks(driver) -> list[dict]:
    """Callback requests since the last call: body, the bytes posted and returned (the
    response as sent, headers included) and the milliseconds each took."""
    sent, answered, sizes = {}, {}, {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message.get("params", {})
        if message.get("method") == "Network.requestWillBeSent":
            request = params.get("request", {})
            if CALLBACK_PATH in request.get("url", "") and request.get("method") == "POST":
                sent[params["requestId"]] = (params["timestamp"], request)
        elif message.get("method") == "Network.loadingFinished":
            answered[params["requestId"]] = params["timestamp"]
            sizes[params["requestId"]] = params.get("encodedDataLength")
    out = []
    for request_id, (at, request) in sorted(sent.items(), key=lambda item: item[1][0]):
        body = request.get("postData")
        if body is None:
            raise RuntimeError("Chromium did not record a callback body (too large?)")
        took = answered.get(request_id)
        out.append(
            {
                "url": request["url"].split("//", 1)[1].split("/", 1)[1],
                "body": json.loads(body),
                "posted_bytes": len(body.encode()),
                "returned_bytes": sizes.get(request_id),
                "browser_ms": None if took is None else round((took - at) * 1000, 1),
            }
        )
    return out


def _sign_in(driver, base: str, email: str) -> None:
    driver.get(f"{base}/login")
    driver.find_element(By.NAME, "email").send_keys(email)
    driver.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()
    # No second try: a fresh worker finishes Dash's setup before its first request
    # (``dashboard.app._finish_setup``), so a first page that fails is a fault to see.
    WebDriverWait(driver, 60).until(ec.presence_of_element_located((By.ID, "shell-user-name")))


def _sign_out(driver) -> None:
    """Sign out with the page's button (a POST carrying the session's form token)."""
    driver.find_element(By.ID, "shell-sign-out").click()
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.NAME, "email")))


# Timed waits check every 20 ms: WebDriverWait's default of 0.5 s rounds every timing up to
# the next half second (a 120 ms page flip read as ~610 ms).
POLL = 0.02


def _rows_of(driver, grid_id: str, timeout: float = 60):
    WebDriverWait(driver, timeout, poll_frequency=POLL).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, f"#{grid_id} .ag-row"))
    )


def _open(driver, base: str, path: str, grid_id: str) -> float:
    driver.get_log("performance")  # forget what came before
    start = time.perf_counter()
    driver.get(f"{base}{path}")
    _rows_of(driver, grid_id)
    return (time.perf_counter() - start) * 1000


def _settle(driver, seconds: float = 1.5) -> None:
    """Let trailing callbacks (live panel, submission tab) finish before reading the log."""
    time.sleep(seconds)


# Clicks a pager button and notes (performance.now) when the first row's day label changes.
_FLIP_TIMER = """
const grid = document.getElementById('stats-grid');
const first = () => {
  const cell = grid.querySelector('.ag-row[row-index="0"] [col-id="label"]');
  return cell ? cell.textContent : '';
};
const before = first();
window.__flip = {};
const watch = new MutationObserver(() => {
  if (first() !== before && !window.__flip.rows) {
    window.__flip.rows = performance.now();
    watch.disconnect();
  }
});
watch.observe(grid, {childList: true, subtree: true, characterData: true});
window.__flip.click = performance.now();
document.getElementById(arguments[0]).click();
"""
_FLIP_TOOK = "return window.__flip.rows - window.__flip.click;"


def record(base: str, accounts: dict[str, str]) -> dict:
    steps: dict[str, dict] = {}
    driver = _driver()
    try:
        _sign_in(driver, base, accounts["account_manager"])
        took = _open(driver, base, "/workspace", "stats-grid")
        _settle(driver)
        steps["workspace_open"] = {"browser_ms": round(took, 1), "requests": _callbacks(driver)}
        flips = []
        for button in ("stats-next", "stats-next", "stats-prev"):
            label = driver.find_element(By.ID, "stats-page-label").text
            start = time.perf_counter()
            driver.find_element(By.ID, button).click()
            WebDriverWait(driver, 30, poll_frequency=POLL).until(
                lambda d, before=label: d.find_element(By.ID, "stats-page-label").text != before
            )
            _rows_of(driver, "stats-grid")
            flips.append(round((time.perf_counter() - start) * 1000, 1))
        _settle(driver, 0.5)
        steps["statistics_page"] = {"browser_ms": flips, "requests": _callbacks(driver)}
        # The same flips timed inside the page: from the click to the grid's first row
        # showing the new month (the WebDriver round trips of the timing above — a click,
        # then a poll of two reads every 20 ms — are not part of what a person waits for).
        in_page = []
        for button in ("stats-next", "stats-prev", "stats-prev"):  # from the second month
            driver.execute_script(_FLIP_TIMER, button)
            WebDriverWait(driver, 30, poll_frequency=POLL).until(
                lambda d: d.execute_script("return window.__flip && window.__flip.rows")
            )
            in_page.append(round(driver.execute_script(_FLIP_TOOK), 1))
        steps["statistics_page"]["in_page_ms"] = in_page
        _callbacks(driver)  # these flips' requests are not replayed
        _sign_out(driver)

        _sign_in(driver, base, accounts["district_manager"])
        took = _open(driver, base, "/review", "review-grid")
        _settle(driver)
        steps["review_open"] = {"browser_ms": round(took, 1), "requests": _callbacks(driver)}
        _sign_out(driver)

        _sign_in(driver, base, accounts["executive"])
        took = _open(driver, base, "/report", "report-grid")
        _settle(driver)
        steps["report_open"] = {"browser_ms": round(took, 1), "requests": _callbacks(driver)}
        _sign_out(driver)
    finally:
        driver.quit()
    return steps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--accounts", type=Path, required=True, help="JSON: role -> e-mail")
    parser.add_argument("--out", type=Path, default=OUT / "recorded.json")
    args = parser.parse_args(argv)
    steps = record(args.base, json.loads(args.accounts.read_text()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(steps, indent=1))
    for name, step in steps.items():
        sizes = [len(json.dumps(r["body"])) for r in step["requests"]]
        print(
            f"{name:<16} browser {step['browser_ms']} ms; {len(sizes)} callbacks, "
            f"largest body {max(sizes, default=0):,} B"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
