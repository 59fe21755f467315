"""The workspace's live impact panel against a real database: the figures it shows with
unsaved edits are the P&L's figures once those same edits are saved, to the cent; refused
edits are left out; the statistics page's external revenue equals the P&L's."""

import datetime as dt

import pytest
from sqlalchemy import select

from dashboard.components import statistics_grid as grid
from dashboard.data.models import ParkingRateMonth
from dashboard.domain import payroll as pr
from dashboard.services import impact, payroll, pnl, workspace_save
from dashboard.services import rates as rates_service
from dashboard.services import statistics as stats
from dashboard.services.scope import ScopeError
from tests.conftest import TEST_TODAY, person_for_site

FIGURES = ("external_revenue", "internal_revenue", "payroll", "flc")


def _site(portfolio, flag, rooms=False, rated=False):
    sites = portfolio["site"]
    chosen = sites[sites["contract_types"].str.split(";").map(lambda f: flag in f)]
    if rooms:
        chosen = chosen[chosen["total_rooms"] > 0]
    if rated:  # codes with billing rates
        chosen = chosen[chosen["id"].isin(set(portfolio["plh_job_rate"]["site_id"]))]
    return int(chosen["id"].iloc[0])


def _impact(db, person, site_id, start, **edits):
    with db.read() as session:
        return impact.live_impact(session, person, site_id, start, TEST_TODAY, **edits)


def _pnl_after_save(db, site_id, months):
    with db.read() as session:
        frames = {y: pnl.pnl_lines(session, [site_id], y, TEST_TODAY) for y, _ in months}
    out = {}
    for year, month in months:
        frame = frames[year]
        out[(year, month)] = frame[frame["month"] == month].iloc[0]
    return out


def _window(db, person, site_id, start):
    with db.read() as session:
        return stats.window_payload(stats.load_window(session, person, site_id, start, TEST_TODAY))


def _rate_version(db, site_id, year, month, category):
    with db.read() as session:
        return int(
            session.scalar(
                select(ParkingRateMonth.version).where(
                    ParkingRateMonth.site_id == site_id,
                    ParkingRateMonth.year == year,
                    ParkingRateMonth.month == month,
                    ParkingRateMonth.category == category,
                    ParkingRateMonth.kind == "forecast",
                )
            )
            or 0
        )


def _assert_matches(shown, saved_pnl):
    for month in shown["months"]:
        row = saved_pnl[(month["year"], month["month"])]
        for figure in FIGURES:
            assert month[figure] == pytest.approx(round(float(row[figure]), 2), abs=0.006), (
                month["label"],
                figure,
            )


def test_statistics_and_rate_edits_show_what_the_save_will_store(db, portfolio):
    site_id = _site(portfolio, "RevenueShare", rooms=True)
    person = person_for_site(db, portfolio, site_id)
    start = (2027, 2)
    months = [(2027, 2), (2027, 3), (2027, 4)]
    # A saved day in March, so a March rate change reprices a stored day.
    window = _window(db, person, site_id, start)
    versions = {d["day"]: d["version"] for d in window["days"]}
    first = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [stats.StatisticEdit(dt.date(2027, 3, 9), "valet_daily", 140, versions["2027-03-09"])],
        [],
        TEST_TODAY,
    )
    assert first.ok, first

    before = _impact(db, person, site_id, start)
    assert before["edits_counted"] == 0
    assert all(m["flc_change"] == 0 for m in before["months"])
    _assert_matches(before, _pnl_after_save(db, site_id, months))

    window = _window(db, person, site_id, start)
    versions = {d["day"]: d["version"] for d in window["days"]}
    stat_edits = {
        "2027-02-10|valet_daily": 310.0,
        "2027-02-11|occupancy": 0.93,
        "2027-04-02|self_daily": 75.0,
    }
    rate_version = _rate_version(db, site_id, 2027, 3, "valet_daily")
    rate_edits = {"2027-03|valet_daily": {"value": 61.5, "version": rate_version}}
    shown = _impact(db, person, site_id, start, stat_edits=stat_edits, rate_edits=rate_edits)
    assert shown["edits_counted"] == 4 and shown["edits_skipped"] == 0
    changes = {(m["year"], m["month"]): m["flc_change"] for m in shown["months"]}
    assert changes[(2027, 2)] != 0 and changes[(2027, 3)] != 0 and changes[(2027, 4)] != 0

    result = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [
            stats.StatisticEdit(
                dt.date.fromisoformat(k.split("|")[0]),
                k.split("|")[1],
                v,
                versions[k.split("|")[0]],
            )
            for k, v in stat_edits.items()
        ],
        [rates_service.RateEdit(2027, 3, "valet_daily", 61.5, rate_version)],
        TEST_TODAY,
    )
    assert result.ok, result
    _assert_matches(shown, _pnl_after_save(db, site_id, months))


def test_payroll_edits_show_what_the_save_will_store(db, portfolio):
    site_id = _site(portfolio, "PerLaborHour", rated=True)
    person = person_for_site(db, portfolio, site_id)
    start = (2027, 1)
    months = [(2027, 1), (2027, 2), (2027, 3)]
    with db.read() as session:
        data = payroll.load_month(session, person, site_id, 2027, 1, TEST_TODAY)
    hourly = [c for c in data["codes"] if not c["salaried"]]
    # Code mode (per labor hour sites' default): each code at its own rate; over 40 h a week.
    edits = {f"2027-01-{day:02d}|c{hourly[0]['id']}": 11.0 for day in (4, 5, 6, 7, 8)}
    edits["2027-01-19|c" + str(hourly[-1]["id"])] = 3.5
    shown = _impact(db, person, site_id, start, payroll_edits=edits, payroll_mode=pr.CODE_MODE)
    assert shown["edits_counted"] == len(edits) and shown["edits_skipped"] == 0
    groups = [g for g in data["groups"] if payroll.editable_codes(data, g["id"])]
    if groups:  # a group edit in Code mode is refused by the save, so it is left out here too
        mixed = {**edits, f"2027-01-20|g{groups[0]['id']}": 22.0}
        extra = _impact(db, person, site_id, start, payroll_edits=mixed, payroll_mode=pr.CODE_MODE)
        assert extra["edits_skipped"] == 1 and extra["months"] == shown["months"]
    assert shown["months"][0]["flc_change"] != 0
    assert shown["months"][0]["payroll"] != pytest.approx(
        _impact(db, person, site_id, start)["months"][0]["payroll"]
    )

    changes = []
    for key, hours in edits.items():
        day, target = key.split("|")
        level = "group" if target.startswith("g") else "code"
        code_ids = (
            [c["id"] for c in payroll.editable_codes(data, int(target[1:]))]
            if level == "group"
            else [int(target[1:])]
        )
        changes.append(
            payroll.PayrollEdit(
                dt.date.fromisoformat(day),
                level,
                int(target[1:]),
                hours,
                {c: data["cells"][f"{day}|{c}"]["v"] for c in code_ids},
            )
        )
    result = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [],
        [],
        TEST_TODAY,
        payroll_edits=changes,
        payroll_mode=pr.CODE_MODE,
        payroll_mode_version=data["mode_version"],
    )
    assert result.ok, result
    _assert_matches(shown, _pnl_after_save(db, site_id, months))


def test_refused_edits_are_left_out_and_counted(db, portfolio):
    site_id = _site(portfolio, "RevenueShare", rooms=True)
    person = person_for_site(db, portfolio, site_id)
    plain = _impact(db, person, site_id, (2026, 11))
    shown = _impact(
        db,
        person,
        site_id,
        (2026, 11),
        stat_edits={
            "2026-11-02|valet_daily": 500.0,  # before today: read-only
            "2026-11-27|valet_daily": -4,  # negative
            "2026-11-27|self_daily": "abc",  # not a number
            "2026-11-28|external_revenue": 9.0,  # derived, not an input
        },
        rate_edits={"2026-12|valet_daily": {"value": 5000}},  # above $999.99
        payroll_edits={"2026-11-27|c999999": 8, "garbage": 1},
    )
    assert shown["edits_counted"] == 0 and shown["edits_skipped"] == 7
    assert [m["flc"] for m in shown["months"]] == [m["flc"] for m in plain["months"]]


def test_someone_outside_the_sites_scope_sees_nothing(db, portfolio):
    site_id = _site(portfolio, "RevenueShare", rooms=True)
    sites = portfolio["site"]
    district = int(sites.loc[sites["id"] == site_id, "district_id"].iloc[0])
    elsewhere = int(sites.loc[sites["district_id"] != district, "id"].iloc[0])
    outsider = person_for_site(db, portfolio, elsewhere)
    with pytest.raises(ScopeError):
        _impact(db, outsider, site_id, (2027, 2))


@pytest.mark.parametrize("start", [(2026, 11), (2027, 5)])
def test_statistics_page_external_revenue_equals_the_pnl_to_the_cent(db, portfolio, start):
    """The monthly summary strip of the statistics tab (actual days where loaded, else the
    forecast) and the P&L's external revenue line agree to the cent, the trending month
    included."""
    site_id = _site(portfolio, "RevenueShare", rooms=True)
    person = person_for_site(db, portfolio, site_id)
    window = _window(db, person, site_id, start)
    summary = grid.month_summary(window, {}, "occupancy")
    saved_pnl = _pnl_after_save(db, site_id, [tuple(m) for m in window["months"]])
    for (year, month), shown in zip(window["months"], summary, strict=True):
        assert round(shown["external_revenue"], 2) == round(
            float(saved_pnl[(year, month)]["external_revenue"]), 2
        ), (year, month)


def test_group_mode_payroll_edits_are_split_and_priced_as_the_save_does(db, portfolio):
    sites = portfolio["site"]
    non_plh = sites[~sites["contract_types"].str.contains("PerLaborHour")]
    site_id = int(non_plh["id"].iloc[1])
    person = person_for_site(db, portfolio, site_id)
    with db.read() as session:
        data = payroll.load_month(session, person, site_id, 2027, 6, TEST_TODAY)
    assert data["mode"] == pr.GROUP_MODE
    group = next(g for g in data["groups"] if payroll.editable_codes(data, g["id"]))
    members = [c["id"] for c in payroll.editable_codes(data, group["id"])]
    edits = {f"2027-06-{day:02d}|g{group['id']}": 31.25 for day in (14, 15, 16)}
    shown = _impact(db, person, site_id, (2027, 6), payroll_edits=edits)
    assert shown["edits_counted"] == 3 and shown["months"][0]["flc_change"] != 0
    result = workspace_save.save_forecast_inputs(
        db,
        person,
        site_id,
        [],
        [],
        TEST_TODAY,
        payroll_edits=[
            payroll.PayrollEdit(
                dt.date.fromisoformat(key.split("|")[0]),
                "group",
                group["id"],
                hours,
                {c: data["cells"][f"{key.split('|')[0]}|{c}"]["v"] for c in members},
            )
            for key, hours in edits.items()
        ],
    )
    assert result.ok, result
    _assert_matches(shown, _pnl_after_save(db, site_id, [(2027, 6), (2027, 7), (2027, 8)]))
