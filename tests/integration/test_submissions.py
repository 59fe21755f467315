"""The submission workflow against a real database (SQLite and PostgreSQL): the checklist,
the edit gate in the one save path, the stale-approval race, two reviewers at once, bulk
approval skipping flagged sites, roles, the month-end lock and the audit rows.

Months 2027-08 to 2027-11 and the sites used here (district 2's 6 to 9) are not touched by
other tests."""

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from dashboard.data.models import AuditLog, ForecastSnapshotLine, ForecastSubmission, User
from dashboard.domain import submission as sm
from dashboard.domain.periods import days_in_month
from dashboard.services import review, submissions, workspace_save
from dashboard.services import statistics as stats
from dashboard.services.accounts import principal_of
from dashboard.services.scope import can_edit_site
from tests.conftest import TEST_TODAY, post_background

EXPLAINED = {"flc": "Contract change agreed with the client.", "internal_revenue": "Same."}


def _person(db, email):
    with db.read() as session:
        return principal_of(session.scalar(select(User).where(User.email == email)))


def _row(db, site_id, year, month):
    with db.read() as session:
        return session.scalar(
            select(ForecastSubmission).where(
                ForecastSubmission.site_id == site_id,
                ForecastSubmission.year == year,
                ForecastSubmission.month == month,
            )
        )


def _version(db, site_id, year, month):
    row = _row(db, site_id, year, month)
    return row.version if row else 0


def _complete_statistics(db, person, site_id, year, month, valet=None):
    """Save a statistics forecast for every day of the month (hotel completeness)."""
    with db.read() as session:
        window = stats.window_payload(
            stats.load_window(session, person, site_id, (year, month), TEST_TODAY)
        )
    edits = []
    for day in window["days"]:
        when = dt.date.fromisoformat(day["day"])
        if (when.year, when.month) != (year, month):
            continue
        value = valet if valet is not None else round(day.get("forecast_valet_daily", 0.0)) + 1
        edits.append(stats.StatisticEdit(when, "valet_daily", value, day["version"]))
    result = workspace_save.save_forecast_inputs(db, person, site_id, edits, [], TEST_TODAY)
    assert result.ok, result
    return result


def _submit(db, person, site_id, year, month, explanations=EXPLAINED):
    return submissions.submit(
        db,
        person,
        site_id,
        year,
        month,
        TEST_TODAY,
        _version(db, site_id, year, month),
        explanations,
    )


def test_checklist_blocks_until_inputs_and_explanations_are_there(db):
    am, dm = _person(db, "am0004@example.com"), _person(db, "dm02@example.com")
    site_id, year, month = 7, 2027, 10  # a revenue share hotel
    with db.read() as session:
        review_before = submissions.month_review(session, am, site_id, year, month, TEST_TODAY)
    assert review_before["status"] == sm.DRAFT and review_before["may_submit"]
    assert any(m.startswith("Statistics: 31 days") for m in review_before["missing"])

    refused = _submit(db, am, site_id, year, month, explanations=None)
    assert not refused.ok and any("Statistics" in p for p in refused.problems)
    assert _row(db, site_id, year, month) is None  # nothing half-written

    # Far more valet cars than budget: revenue share lifts IR and FLC past the threshold.
    _complete_statistics(db, am, site_id, year, month, valet=900)
    with db.read() as session:
        flagged = submissions.month_review(session, am, site_id, year, month, TEST_TODAY)
    assert flagged["missing"] == []
    assert {f["line"] for f in flagged["flags"]} == {"flc", "internal_revenue"}
    assert not any(f["explained"] for f in flagged["flags"])
    blocked = _submit(db, am, site_id, year, month, explanations=None)
    assert not blocked.ok
    assert any(p.startswith("FLC is +$") and "write an explanation" in p for p in blocked.problems)

    done = _submit(db, am, site_id, year, month)
    assert done.ok, done
    row = _row(db, site_id, year, month)
    assert row.status == sm.SUBMITTED and row.submitted_by_id == am.user_id
    with db.read() as session:
        snapshot = dict(
            session.execute(
                select(ForecastSnapshotLine.line, ForecastSnapshotLine.value).where(
                    ForecastSnapshotLine.submission_id == row.id
                )
            ).all()
        )
        audit_rows = session.scalars(
            select(AuditLog).where(
                AuditLog.site_id == site_id,
                AuditLog.entity == "forecast_submission",
                AuditLog.record_key == "2027-10",
            )
        ).all()
        after = submissions.month_review(session, dm, site_id, year, month, TEST_TODAY)
    assert snapshot["flc"] == pytest.approx(flagged["figures"]["flc"]["forecast"], abs=0.01)
    assert {"external_revenue", "internal_revenue", "payroll", "occupied_rooms"} <= set(snapshot)
    assert [(a.action, a.old_value, a.new_value) for a in audit_rows] == [
        ("submit", "DRAFT", "SUBMITTED")
    ]
    assert "Contract change" in audit_rows[0].reason
    assert after["thread"][-1]["kind"] == "submit" and after["may_decide"]


def test_account_manager_cannot_edit_a_submitted_month_but_the_district_manager_can(db):
    am, dm = _person(db, "am0004@example.com"), _person(db, "dm02@example.com")
    site_id, year, month = 7, 2027, 10
    if (
        _row(db, site_id, year, month) is None
        or _row(db, site_id, year, month).status != sm.SUBMITTED
    ):
        test_checklist_blocks_until_inputs_and_explanations_are_there(db)
    day = dt.date(2027, 10, 5)
    with db.read() as session:
        window = stats.window_payload(
            stats.load_window(session, am, site_id, (year, month), TEST_TODAY)
        )
    version = next(d["version"] for d in window["days"] if d["day"] == day.isoformat())
    refused = workspace_save.save_forecast_inputs(
        db, am, site_id, [stats.StatisticEdit(day, "valet_daily", 850, version)], [], TEST_TODAY
    )
    assert not refused.ok
    assert "only your district manager can change it now" in refused.problems[0].message

    before = _version(db, site_id, year, month)
    done = workspace_save.save_forecast_inputs(
        db, dm, site_id, [stats.StatisticEdit(day, "valet_daily", 850, version)], [], TEST_TODAY
    )
    assert done.ok, done
    row = _row(db, site_id, year, month)
    assert row.status == sm.SUBMITTED and row.version == before + 1
    assert row.last_edit_by_id == dm.user_id
    with db.read() as session:
        thread = submissions.month_review(session, am, site_id, year, month, TEST_TODAY)["thread"]
    assert thread[-1]["kind"] == "edit" and "changed 1 value" in thread[-1]["body"]


def test_stale_approval_is_refused_and_two_reviewers_produce_one_outcome(db):
    am, dm = _person(db, "am0007@example.com"), _person(db, "dm02@example.com")
    site_id, year, month = 6, 2027, 10  # no rooms, not per labor hour: nothing to complete
    assert _submit(db, am, site_id, year, month).ok
    seen = _version(db, site_id, year, month)
    # The account manager's submission changes after the reviewer loaded it: a district
    # manager colleague's edit (here the same district manager in another tab) bumps it.
    assert submissions.add_comment(db, dm, site_id, year, month, "Looking at it.", TEST_TODAY).ok
    edit = workspace_save.save_forecast_inputs(
        db,
        dm,
        site_id,
        [stats.StatisticEdit(dt.date(2027, 10, 9), "valet_daily", 77, 0)],
        [],
        TEST_TODAY,
    )
    assert edit.ok, edit
    stale = submissions.decide(db, dm, site_id, year, month, sm.APPROVE, None, seen, TEST_TODAY)
    assert not stale.ok and stale.stale and "Reload" in stale.message
    assert _row(db, site_id, year, month).status == sm.SUBMITTED

    # Two reviewers (the district manager and the regional vice president) at once.
    fresh = _version(db, site_id, year, month)
    with db.read() as session:
        rvp = next(
            principal_of(u)
            for u in session.scalars(select(User).where(User.role == "regional_vp"))
            if can_edit_site(session, principal_of(u), site_id, TEST_TODAY)
        )
    results = []

    def act(person, action, comment):
        results.append(
            submissions.decide(db, person, site_id, year, month, action, comment, fresh, TEST_TODAY)
        )

    threads = [
        threading.Thread(target=act, args=(dm, sm.APPROVE, None)),
        threading.Thread(target=act, args=(rvp, sm.RETURN, "Please recheck October.")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.ok for r in results) == [False, True]
    row = _row(db, site_id, year, month)
    assert row.version == fresh + 1
    with db.read() as session:
        decisions = session.scalars(
            select(AuditLog.action).where(
                AuditLog.site_id == site_id,
                AuditLog.entity == "forecast_submission",
                AuditLog.record_key == "2027-10",
                AuditLog.action.in_(("approve", "return")),
            )
        ).all()
    assert (
        len(decisions) == 1
        and {"approve": sm.APPROVED, "return": sm.RETURNED}[decisions[0]] == row.status
    )


def test_account_manager_cannot_approve_and_nobody_approves_their_own(db):
    am, dm = _person(db, "am0007@example.com"), _person(db, "dm02@example.com")
    site_id, year, month = 6, 2027, 11
    assert _submit(db, am, site_id, year, month).ok
    version = _version(db, site_id, year, month)
    refused = submissions.decide(
        db, am, site_id, year, month, sm.APPROVE, None, version, TEST_TODAY
    )
    assert not refused.ok and "Only a district manager" in refused.message
    outsider = _person(db, "dm03@example.com")  # another district
    refused = submissions.decide(
        db, outsider, site_id, year, month, sm.APPROVE, None, version, TEST_TODAY
    )
    assert not refused.ok and "not in your scope" in refused.message
    no_comment = submissions.decide(
        db, dm, site_id, year, month, sm.RETURN, " ", version, TEST_TODAY
    )
    assert not no_comment.ok and "Write a comment" in no_comment.message
    assert _row(db, site_id, year, month).status == sm.SUBMITTED

    returned = submissions.decide(
        db, dm, site_id, year, month, sm.RETURN, "Payroll looks light.", version, TEST_TODAY
    )
    assert returned.ok
    # The next edit puts a returned month back to draft.
    edit = workspace_save.save_forecast_inputs(
        db,
        am,
        site_id,
        [stats.StatisticEdit(dt.date(2027, 11, 3), "valet_daily", 12, 0)],
        [],
        TEST_TODAY,
    )
    assert edit.ok, edit
    assert _row(db, site_id, year, month).status == sm.DRAFT


def test_bulk_approval_skips_sites_with_unexplained_flags(db):
    dm = _person(db, "dm02@example.com")
    admin = _person(db, "admin@example.com")
    year, month = 2027, 8
    # Hotels of district 2; the bare one a revenue share, whose extra cars move its internal
    # revenue (a management agreement's budget is its engine's IR: cars alone leave it).
    explained_site, bare_site = 9, 7
    people = {9: _person(db, "am0005@example.com"), 7: _person(db, "am0004@example.com")}
    for site_id in (explained_site, bare_site):
        _complete_statistics(db, people[site_id], site_id, year, month)
    try:
        # Nothing needs an explanation at submission (thresholds out of reach) ...
        assert submissions.set_thresholds(db, admin, 10.0, 10_000_000).ok
        assert _submit(db, people[9], explained_site, year, month, EXPLAINED).ok
        assert _submit(db, people[bare_site], bare_site, year, month, None).ok
        # ... then any variance of a dollar or more does: only one site has explanations.
        assert submissions.set_thresholds(db, admin, 0.5, 1).ok
        items = [(s, _version(db, s, year, month)) for s in (explained_site, bare_site)]
        approved, skipped = submissions.bulk_approve(db, dm, items, year, month, TEST_TODAY)
        with db.read() as session:
            rollup = review.district_rollup(session, dm, 2, year, month, TEST_TODAY)
    finally:
        assert submissions.set_thresholds(
            db, admin, sm.DEFAULT_PCT_THRESHOLD, sm.DEFAULT_AMOUNT_THRESHOLD
        ).ok
    assert approved == [explained_site]
    assert [s for s, _ in skipped] == [bare_site] and "unexplained" in skipped[0][1]
    assert _row(db, explained_site, year, month).status == sm.APPROVED
    assert _row(db, bare_site, year, month).status == sm.SUBMITTED

    rows = {r["site_id"]: r for r in rollup["rows"]}
    assert rows[explained_site]["status"] == sm.APPROVED
    assert rows[bare_site]["status"] == sm.SUBMITTED and not rows[bare_site]["approvable"]
    assert rows[bare_site]["explained"] == "Missing"
    assert rows[explained_site]["explained"] == "All explained"
    assert rollup["total"]["flc"] == pytest.approx(sum(r["flc"] for r in rollup["rows"]), abs=0.05)
    # Who: the site's account managers (read in the roll-up's one statement) and its last
    # editor; a site nobody submitted has no waiting time.
    with db.read() as session:
        names = {
            u.id: u.display_name
            for u in session.scalars(select(User).where(User.role == "account_manager"))
        }
    assert names[people[9].user_id] in rows[explained_site]["account_manager"].split(", ")
    assert rows[explained_site]["last_edit_by"] == names[people[9].user_id]
    assert rows[bare_site]["last_edit_by"] == names[people[bare_site].user_id]
    assert rows[bare_site]["days_waiting"] == 0  # submitted today
    assert rollup["district"] and rollup["counts"][sm.SUBMITTED] >= 1


def test_bulk_return_returns_each_submitted_site_and_tells_its_progress(db):
    dm = _person(db, "dm02@example.com")
    admin = _person(db, "admin@example.com")
    year, month = 2027, 9
    people = {9: _person(db, "am0005@example.com"), 8: _person(db, "am0006@example.com")}
    try:
        assert submissions.set_thresholds(db, admin, 10.0, 10_000_000).ok
        for site_id in (9, 8):
            _complete_statistics(db, people[site_id], site_id, year, month)
            assert _submit(db, people[site_id], site_id, year, month, None).ok
    finally:
        assert submissions.set_thresholds(
            db, admin, sm.DEFAULT_PCT_THRESHOLD, sm.DEFAULT_AMOUNT_THRESHOLD
        ).ok
    stale = _version(db, 8, year, month) - 1  # seen before the last change: refused
    items = [(9, _version(db, 9, year, month)), (8, stale), (7, 0)]  # 7: not submitted
    told = []
    returned, skipped = submissions.bulk_return(
        db, dm, items, year, month, "Recheck the rooms.", TEST_TODAY, lambda *p: told.append(p)
    )
    assert returned == [9]
    assert [s for s, _ in skipped] == [8, 7]
    assert told == [(1, 3), (2, 3)]
    assert _row(db, 9, year, month).status == sm.RETURNED
    assert _row(db, 8, year, month).status == sm.SUBMITTED
    # Without a comment nothing is returned.
    returned, skipped = submissions.bulk_return(
        db, dm, [(8, _version(db, 8, year, month))], year, month, "  ", TEST_TODAY
    )
    assert returned == [] and "comment" in skipped[0][1].lower()
    assert _row(db, 8, year, month).status == sm.SUBMITTED


def test_only_an_administrator_sets_thresholds(db):
    dm = _person(db, "dm02@example.com")
    assert not submissions.set_thresholds(db, dm, 0.1, 100).ok
    admin = _person(db, "admin@example.com")
    assert not submissions.set_thresholds(db, admin, "x", 100).ok
    assert not submissions.set_thresholds(db, admin, 0, 100).ok


def test_approved_months_lock_at_month_end_close(db):
    am, dm = _person(db, "am0008@example.com"), _person(db, "dm03@example.com")
    site_id, year, month = 11, 2027, 10
    assert _submit(db, am, site_id, year, month).ok
    assert submissions.decide(
        db,
        dm,
        site_id,
        year,
        month,
        sm.APPROVE,
        None,
        _version(db, site_id, year, month),
        TEST_TODAY,
    ).ok
    after_close = dt.date(2027, 11, 2)
    assert submissions.close_months(db, TEST_TODAY) == 0  # October 2027 has not closed
    assert submissions.close_months(db, after_close) >= 1
    assert _row(db, site_id, year, month).status == sm.LOCKED
    reopen = submissions.decide(
        db,
        dm,
        site_id,
        year,
        month,
        sm.REOPEN,
        "Late invoice.",
        _version(db, site_id, year, month),
        TEST_TODAY,
    )
    assert not reopen.ok and "locked" in reopen.message
    assert days_in_month(year, month) == 31


def _post(client, output, outputs, inputs, state, changed):
    body = {
        "output": output,
        "outputs": outputs,
        "inputs": inputs,
        "changedPropIds": [changed],
        "state": state,
    }
    return client.post("/_dash-update-component", json=body)


def _forged_decision(client, site_id, version, button="ws-sub-approve"):
    buttons = [
        "ws-sub-submit",
        "ws-sub-save-explain",
        "ws-sub-approve",
        "ws-sub-return",
        "ws-sub-reopen",
        "ws-sub-add-comment",
    ]
    outputs = [
        {"id": "ws-sub-message", "property": "children"},
        {"id": "ws-sub-refresh", "property": "data"},
        {"id": "ws-sub-review-comment", "property": "value"},
        {"id": "ws-sub-comment", "property": "value"},
    ]
    return _post(
        client,
        "..ws-sub-message.children...ws-sub-refresh.data...ws-sub-review-comment.value"
        "...ws-sub-comment.value..",
        outputs,
        [{"id": b, "property": "n_clicks", "value": 1 if b == button else None} for b in buttons],
        [
            {
                "id": "ws-sub-data",
                "property": "data",
                "value": {"site_id": site_id, "year": 2027, "month": 11, "version": version},
            },
            {"id": "ws-sub-explain-flc", "property": "value", "value": ""},
            {"id": "ws-sub-explain-internal_revenue", "property": "value", "value": ""},
            {"id": "ws-sub-review-comment", "property": "value", "value": "Forged."},
            {"id": "ws-sub-comment", "property": "value", "value": ""},
            {"id": "ws-sub-refresh", "property": "data", "value": 0},
        ],
        f"{button}.n_clicks",
    )


def _forged_bulk(client, site_id, version):
    outputs = [
        {"id": "review-message", "property": "children"},
        {"id": "review-refresh", "property": "data"},
        {"id": "review-comment", "property": "value"},
        {"id": "review-grid", "property": "selectedRows"},
    ]
    body = {
        "output": (
            "..review-message.children...review-refresh.data...review-comment.value"
            "...review-grid.selectedRows.."
        ),
        "outputs": outputs,
        "inputs": [
            {"id": "review-approve", "property": "n_clicks", "value": 1},
            {"id": "review-return", "property": "n_clicks", "value": None},
        ],
        "changedPropIds": ["review-approve.n_clicks"],
        "state": [
            {
                "id": "review-grid",
                "property": "selectedRows",
                "value": [{"site_id": site_id, "version": version, "site": "forged"}],
            },
            {"id": "review-month", "property": "value", "value": "2027-11"},
            {"id": "review-comment", "property": "value", "value": ""},
            {"id": "review-refresh", "property": "data", "value": 0},
        ],
    }
    return post_background(client, body)


def test_forged_callbacks_cannot_approve_as_account_manager_or_in_another_district(db, auth):
    """Posting the Submission tab's and the review page's callbacks directly: an account
    manager cannot approve even their own district's submission, and a district manager
    cannot act on another district's."""
    am = _person(db, "am0007@example.com")
    site_id, year, month = 6, 2027, 11  # district 2; submitted by the earlier test or here
    row = _row(db, site_id, year, month)
    if row is None or row.status != sm.SUBMITTED:
        assert _submit(db, am, site_id, year, month).ok
    version = _version(db, site_id, year, month)

    auth.login("am0007@example.com")
    answer = _forged_decision(auth.client, site_id, version)
    assert answer.status_code == 200
    assert "Only a district manager" in answer.get_data(as_text=True)
    assert _row(db, site_id, year, month).status == sm.SUBMITTED

    auth.logout()
    auth.login("dm03@example.com")  # district 3
    for answer in (
        _forged_decision(auth.client, site_id, version),
        _forged_bulk(auth.client, site_id, version),
    ):
        assert answer.status_code == 200
        assert "not in your scope" in answer.get_data(as_text=True)
    assert _row(db, site_id, year, month).status == sm.SUBMITTED
    assert _row(db, site_id, year, month).version == version


@pytest.mark.parametrize(("year", "month"), [(2026, 11), (2026, 12), (2027, 3)])
def test_month_lines_equal_the_pnl_of_the_year(db, year, month):
    """The engine's one-month pass equals its year walk, and the stored month the roll-up
    reads equals both (the P&L page's figures)."""
    from dashboard.data.models import Site
    from dashboard.services import pnl

    with db.read() as session:
        ids = sorted(session.scalars(select(Site.id)))
        fast = pnl.computed_month_lines(session, ids, year, month, TEST_TODAY)
        full = pnl.computed_lines(session, ids, year, TEST_TODAY)
        stored = pnl.month_lines(session, ids, year, month, TEST_TODAY)
    full = full[full["month"] == month].set_index("site_id")
    fast = fast.set_index("site_id")
    stored = stored.set_index("site_id")
    assert sorted(fast.index) == ids
    assert sorted(stored.index) == ids
    for site_id in ids:
        for line in (*submissions.SNAPSHOT_LINES,):
            assert fast.at[site_id, line] == pytest.approx(full.at[site_id, line], abs=0.005)
            assert stored.at[site_id, line] == pytest.approx(full.at[site_id, line], abs=0.005)
