"""Forecast history of the demo portfolio (DOMAIN.md §8.3, §8.4): the forecasts submitted
for the last closed months, locked at each month's close, with their snapshots."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard.data.demo.master import People

HISTORY_MONTHS = 12


@dataclass
class History:
    forecast_submission: pd.DataFrame
    forecast_snapshot_line: pd.DataFrame


def build_history(
    rng: np.random.Generator,
    site: pd.DataFrame,
    pnl_month: pd.DataFrame,
    site_job_code: pd.DataFrame,
    days: pd.DatetimeIndex,
    actual_hours: np.ndarray,
    people: People,
) -> History:
    """Submitted forecasts of the last closed months, locked at each month's close, with
    the snapshot the accuracy report compares with the books: each line = the month's
    actual × (1 + the site's forecasting error), where a site has its own bias
    (± 1.5%) and spread (1–6%), and ~8% of site-months were never submitted."""
    n = len(site)
    pnl_rows = pnl_month
    actual = pnl_rows[pnl_rows["kind"] == "actual"]
    closed = sorted({(int(y), int(m)) for y, m in zip(actual.year, actual.month, strict=True)})
    closed = closed[-HISTORY_MONTHS:]
    bias = rng.normal(0, 0.015, n)
    spread = rng.uniform(0.01, 0.06, n)
    district_of = site["district_id"].to_numpy()
    hours = actual_hours
    code_site = site_job_code["site_id"].to_numpy()
    submissions, lines = [], []
    cost_lines = ("payroll", "claims", "parking_rents", "other_expense", "pteb", "insurance")
    for y, m in closed:
        month = actual[(actual.year == y) & (actual.month == m)].sort_values("site_id")
        sel = (days.year == y) & (days.month == m)
        labor = np.bincount(code_site - 1, weights=hours[:, sel].sum(axis=1), minlength=n)
        submitted = rng.random(n) >= 0.08
        deadline = pd.Timestamp(y, m, 1) - pd.Timedelta(days=1)
        while deadline.weekday() != 4:  # the last Friday of the month before
            deadline -= pd.Timedelta(days=1)
        # One error per site-month shared by every line (a forecast is high or low as a
        # whole) and a small one per line, so FLC's error is of the same order.
        common = np.exp(rng.normal(bias, spread))
        noise = {
            line: common * np.exp(rng.normal(0, 0.004, n))
            for line in ("external_revenue", "internal_revenue", *cost_lines)
        }
        for i, row in enumerate(month.itertuples(index=False)):
            if not submitted[i]:
                continue
            site_id = int(row.site_id)
            submission_id = len(submissions) + 1
            dm = people.district_manager_of[int(district_of[site_id - 1])]
            at = deadline + pd.Timedelta(hours=int(rng.integers(9, 17)))
            submissions.append(
                (
                    submission_id,
                    site_id,
                    y,
                    m,
                    "LOCKED",
                    people.account_manager_of.get(site_id, dm),
                    at,
                    dm,
                    at + pd.Timedelta(days=int(rng.integers(1, 4))),
                )
            )
            values = {
                line: round(float(getattr(row, line)) * float(noise[line][i]), 2) for line in noise
            }
            values["flc"] = round(
                values["internal_revenue"] - sum(values[c] for c in cost_lines), 2
            )
            values["occupied_rooms"] = round(
                float(row.occupied_rooms) * float(noise["external_revenue"][i]), 2
            )
            values["labor_hours"] = round(float(labor[site_id - 1]) * float(noise["payroll"][i]), 2)
            lines.extend((submission_id, at, line, v) for line, v in values.items())
    submission = pd.DataFrame(
        submissions,
        columns=[
            "id",
            "site_id",
            "year",
            "month",
            "status",
            "submitted_by_id",
            "submitted_at",
            "reviewed_by_id",
            "reviewed_at",
        ],
    ).assign(version=3)
    snapshot = pd.DataFrame(lines, columns=["submission_id", "taken_at", "line", "value"])
    return History(submission, snapshot)
