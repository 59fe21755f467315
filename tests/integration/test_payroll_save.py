"""Payroll forecast saves through the workspace save: split, pricing, overtime, versions."""

import datetime as dt

import pytest
from sqlalchemy import select

from dashboard.data.models import AuditLog, PayrollDay
from dashboard.domain import payroll as pr
from dashboard.services import payroll, workspace_save
from tests.conftest import TEST_TODAY, person_for_site

MONTH = (2026, 12)


def _site(portfolio, plh: bool):
    sites = portfolio["site"]
    flagged = sites["contract_types"].str.contains("PerLaborHour")
    chosen = sites[flagged] if plh else sites[~flagged]
    if plh:  # a PLH site whose codes have billing rates
        rated = set(portfolio["plh_job_rate"]["site_id"])
        chosen = chosen[chosen["id"].isin(rated)]
    return int(chosen["id"].iloc[0])


def _load(db, person, site_id):
    with db.read() as session:
        return payroll.load_month(session, person, site_id, *MONTH, TEST_TODAY)


def _rows(db, site_id, day):
    with db.read() as session:
        return {
            r.job_code_id: r
            for r in session.scalars(
                select(PayrollDay).where(
                    PayrollDay.site_id == site_id,
                    PayrollDay.kind == "forecast",
                    PayrollDay.day == day,
                )
            )
        }


def _save(db, person, site_id, edits, mode=None):
    return workspace_save.save_forecast_inputs(
        db, person, site_id, [], [], TEST_TODAY, payroll_edits=edits, payroll_mode=mode
    )


def test_group_hours_split_by_employees_and_priced_at_the_group_rate(db, portfolio):
    sites = portfolio["site"]
    for site_id in sites.loc[~sites["contract_types"].str.contains("PerLaborHour"), "id"]:
        person = person_for_site(db, portfolio, int(site_id))
        data = _load(db, person, int(site_id))
        shared = [g for g in data["groups"] if len(payroll.editable_codes(data, g["id"])) >= 2]
        if shared:
            site_id, group = int(site_id), shared[0]
            break
    else:  # pragma: no cover - the generator maps GSA and GSA2 to one group
        raise AssertionError("no group with two hourly codes")
    assert data["mode"] == pr.GROUP_MODE
    members = payroll.editable_codes(data, group["id"])
    day = dt.date(2026, 12, 8)
    result = _save(db, person, site_id, [payroll.PayrollEdit(day, "group", group["id"], "37.5")])
    assert result.ok, result
    rows = _rows(db, site_id, day)
    weights = [c["active_employee_count"] for c in members]
    expected_hours = pr.split_by_weights(37.5, weights)
    assert [float(rows[c["id"]].hours) for c in members] == expected_hours
    group_rate = pr.group_hourly_rate(payroll.code_rates(members))
    assert sum(float(rows[c["id"]].cost) for c in members) == pytest.approx(
        round(37.5 * group_rate, 2), abs=0.005
    )
    assert all(rows[c["id"]].version == 1 for c in members)


def test_plh_code_hours_earn_overtime_past_40_in_a_week(db, portfolio):
    site_id = _site(portfolio, plh=True)
    person = person_for_site(db, portfolio, site_id)
    data = _load(db, person, site_id)
    assert data["mode"] == pr.CODE_MODE and data["plh"]
    code = next(c for c in data["codes"] if c["bill_rate"] and not c["salaried"])
    # Saturday 5 Dec – Friday 11 Dec 2026 is one overtime week: 6 days × 9 h = 54 h → 14 h OT.
    days = [dt.date(2026, 12, d) for d in range(5, 11)]
    edits = [payroll.PayrollEdit(d, "code", code["id"], 9) for d in days]
    assert _save(db, person, site_id, edits).ok
    rows = {d: _rows(db, site_id, d)[code["id"]] for d in days}
    overtime = sum(float(r.overtime_hours) for r in rows.values())
    assert overtime == pytest.approx(14.0)  # 54 − 40, reached by Thursday 10 Dec
    revenue = sum(float(r.revenue) for r in rows.values())
    assert revenue == pytest.approx(40 * code["bill_rate"] + 14 * code["overtime_rate"], abs=0.01)
    # Friday 11 Dec was not edited: it stays the unsaved budget copy, no row is written.
    assert code["id"] not in _rows(db, site_id, dt.date(2026, 12, 11))


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("-2", "cannot be negative"),
        ("501", "between 0 and 500"),
        ("lots", "enter a number"),
    ],
)
def test_bad_hours_are_refused_and_nothing_is_stored(db, portfolio, hours, message):
    site_id = _site(portfolio, plh=True)
    person = person_for_site(db, portfolio, site_id)
    data = _load(db, person, site_id)
    code = next(c for c in data["codes"] if not c["salaried"])
    day = dt.date(2026, 12, 21)
    result = _save(db, person, site_id, [payroll.PayrollEdit(day, "code", code["id"], hours)])
    assert [message in p.message for p in result.problems] == [True]
    assert _rows(db, site_id, day) == {}


def test_today_and_wrong_level_are_refused(db, portfolio):
    site_id = _site(portfolio, plh=False)
    person = person_for_site(db, portfolio, site_id)
    data = _load(db, person, site_id)
    group = data["groups"][0]
    code = payroll.editable_codes(data, group["id"])[0]
    result = _save(
        db,
        person,
        site_id,
        [
            payroll.PayrollEdit(TEST_TODAY, "group", group["id"], 8),
            payroll.PayrollEdit(dt.date(2026, 12, 22), "code", code["id"], 8),
        ],
    )
    messages = sorted(p.message for p in result.problems)
    assert "today and earlier is read-only" in messages[0]
    assert "edit the group, not a job code" in messages[1]
    assert _rows(db, site_id, dt.date(2026, 12, 22)) == {}


def test_stale_version_is_a_conflict_and_both_attempts_are_audited(db, portfolio):
    site_id = _site(portfolio, plh=True)
    person = person_for_site(db, portfolio, site_id)
    data = _load(db, person, site_id)
    code = next(c for c in data["codes"] if not c["salaried"])
    day = dt.date(2026, 12, 29)
    first = payroll.PayrollEdit(day, "code", code["id"], 6, {code["id"]: 0})
    assert _save(db, person, site_id, [first]).ok
    stale = payroll.PayrollEdit(day, "code", code["id"], 11, {code["id"]: 0})
    result = _save(db, person, site_id, [stale])
    assert [(c.yours, c.theirs) for c in result.conflicts] == [(11, 6)]
    assert float(_rows(db, site_id, day)[code["id"]].hours) == 6
    with db.read() as session:
        audited = session.scalars(
            select(AuditLog.action).where(
                AuditLog.site_id == site_id, AuditLog.record_key == f"{day}|{code['id']}"
            )
        ).all()
        refused = session.scalars(
            select(AuditLog.action).where(
                AuditLog.site_id == site_id,
                AuditLog.action == "save_refused",
                AuditLog.record_key == day.isoformat(),
            )
        ).all()
    assert "insert" in audited and refused


def test_mode_switch_is_saved_and_audited(db, portfolio):
    site_id = _site(portfolio, plh=False)
    person = person_for_site(db, portfolio, site_id)
    data = _load(db, person, site_id)
    code = next(c for c in data["codes"] if not c["salaried"])
    edit = payroll.PayrollEdit(dt.date(2026, 12, 23), "code", code["id"], 5)
    assert _save(db, person, site_id, [edit], mode=pr.CODE_MODE).ok
    assert _load(db, person, site_id)["mode"] == pr.CODE_MODE


def test_the_tab_shows_the_schedule_then_the_budget_scaled_to_the_proposal(db, portfolio):
    """A cell nobody saved: the schedule where there is one (the next two weeks), else the
    code's budget day × the month's factor from the proposed labor hours."""
    from tests.forecast_days import payroll_forecast_days

    site_id = _site(portfolio, plh=False)
    person = person_for_site(db, portfolio, site_id)
    data = _load(db, person, site_id)
    with db.read() as session:
        expected = payroll_forecast_days(session, site_id, *MONTH)
    hourly = [c for c in data["codes"] if not c["salaried"]]
    scheduled = scaled = 0
    for day in data["days"]:
        for code in hourly:
            cell = data["cells"][f"{day}|{code['id']}"]
            if cell["v"]:
                continue
            hours, cost = expected[(dt.date.fromisoformat(day), code["id"])]
            assert cell["f"] == pytest.approx(hours, abs=1e-6), (day, code["id"])
            assert cell["fc"] == pytest.approx(cost, abs=1e-6), (day, code["id"])
            if "s" in cell:
                assert cell["f"] == cell["s"]
                scheduled += 1
            elif abs(cell["f"] - cell["b"]) > 1e-6:
                scaled += 1
    assert scheduled > 0 and scaled > 0  # December: two weeks of schedule, then the proposal
