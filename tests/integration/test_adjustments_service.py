"""Other Revenue / Other Expenses service against a real database: load, validation, versioned
save, conflicts, audit. Saves use the last site and months from March 2027 so other tests'
data is not touched."""

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select

from dashboard.data.models import AuditLog, OtherExpenseMonth, OtherRevenueMonth, User
from dashboard.domain import adjustments as adj
from dashboard.services import adjustments as svc
from dashboard.services import figures
from dashboard.services.accounts import principal_of
from dashboard.services.scope import ScopeError
from tests.conftest import TEST_TODAY

NOW = dt.datetime(2026, 11, 23, 9, 30)


def _person(db, email):
    with db.read() as session:
        return principal_of(session.scalar(select(User).where(User.email == email)))


def _district_manager_of(db, portfolio, site_id):
    site = portfolio["site"].set_index("id").loc[site_id]
    grants = portfolio["scope_assignment"]
    users = portfolio["app_user"].set_index("id")
    for grant in grants.itertuples():
        if pd.notna(grant.district_id) and grant.district_id == site["district_id"]:
            return _person(db, users.at[grant.user_id, "email"])
    raise AssertionError("nobody manages the site's district")  # pragma: no cover


def _site(portfolio):
    return int(portfolio["site"]["id"].max())


def _budget(portfolio, table, site_id, year, month):
    frame = portfolio[table]
    row = frame[
        (frame["site_id"] == site_id)
        & (frame["kind"] == "budget")
        & (frame["year"] == year)
        & (frame["month"] == month)
    ].iloc[0]
    return row


def _forecast(db, model, site_id, year, month):
    with db.read() as session:
        return session.scalar(
            select(model).where(
                model.site_id == site_id,
                model.kind == "forecast",
                model.year == year,
                model.month == month,
            )
        )


def _save(db, person, site_id, edits, today=TEST_TODAY):
    """What the workspace save does: validate, then save inside one write transaction."""
    conflicts = []
    with db.write() as session:
        actualised = svc.actualised_months(session, site_id, svc.edit_months(edits))
        problems, clean = svc.validate_adjustments(edits, today, actualised)
        saved = (
            0 if problems else svc.save_adjustments(session, person, site_id, clean, NOW, conflicts)
        )
        if saved and not conflicts:
            session.flush()
            figures.refresh(session, [site_id], today, (figures.FORECAST,))
    return problems, conflicts, saved


def _audit(db, site_id, entity, record_key, field):
    with db.read() as session:
        return session.execute(
            select(AuditLog.action, AuditLog.old_value, AuditLog.new_value, AuditLog.user_id)
            .where(
                AuditLog.site_id == site_id,
                AuditLog.entity == entity,
                AuditLog.record_key == record_key,
                AuditLog.field == field,
            )
            .order_by(AuditLog.id)
        ).all()


# --- load --------------------------------------------------------------------------------------


def test_load_shows_twelve_months_with_budget_default_and_locks(db, portfolio):
    site_id = _site(portfolio)
    person = _district_manager_of(db, portfolio, site_id)
    with db.read() as session:
        data = svc.load_adjustments(session, person, site_id, (2026, 9), TEST_TODAY)
    assert data["months"][0] == "2026-09" and data["months"][-1] == "2027-08"
    assert len(data["months"]) == 12
    assert data["may_edit"] is True
    budget = _budget(portfolio, "other_revenue_month", site_id, 2026, 12)
    december = data["other_revenue"]["2026-12"]
    assert december["forecast"] is None
    assert december["version"] == 0
    assert december["editable"] is True and december["lock_reason"] is None
    for field in adj.OTHER_REVENUE_FIELDS:
        assert december["budget"][field] == pytest.approx(float(budget[field]))
        assert december["values"][field] == pytest.approx(float(budget[field]))
    # September and October 2026 are past (and closed: actuals loaded).
    for month in ("2026-09", "2026-10"):
        for kind in svc.KINDS:
            cell = data[kind][month]
            assert cell["editable"] is False
            assert cell["lock_reason"] == "Past months are read-only."
            assert cell["actual"] is not None
    assert data["other_expense"]["2026-11"]["editable"] is True  # the current month
    assert set(data["other_expense"]["2027-01"]["budget"]) == set(adj.OTHER_EXPENSE_FIELDS)


def test_executive_sees_everything_read_only(db, portfolio):
    person = _person(db, portfolio.demo_accounts["executive"])
    with db.read() as session:
        data = svc.load_adjustments(session, person, _site(portfolio), (2026, 11), TEST_TODAY)
    assert data["may_edit"] is False
    cells = [c for kind in svc.KINDS for c in data[kind].values()]
    assert not any(c["editable"] for c in cells)
    assert {c["lock_reason"] for c in cells} == {svc.VIEW_ONLY_REASON}


def test_load_outside_scope_is_refused(db, portfolio):
    email = portfolio.demo_accounts["account_manager"]
    users, grants = portfolio["app_user"], portfolio["scope_assignment"]
    user_id = int(users.loc[users["email"] == email, "id"].iloc[0])
    own = set(grants.loc[grants["user_id"] == user_id, "site_id"].dropna().astype(int))
    other = int(next(s for s in portfolio["site"]["id"] if s not in own))
    with db.read() as session, pytest.raises(ScopeError):
        svc.load_adjustments(session, _person(db, email), other, (2026, 11), TEST_TODAY)


def test_actualised_months_come_from_actual_rows(db, portfolio):
    site_id = _site(portfolio)
    with db.read() as session:
        found = svc.actualised_months(session, site_id, [(2026, 9), (2026, 10), (2026, 12)])
    assert found == {
        "other_revenue": {(2026, 9), (2026, 10)},
        "other_expense": {(2026, 9), (2026, 10)},
    }


# --- save --------------------------------------------------------------------------------------


def test_first_save_starts_from_budget_then_updates_bump_the_version(db, portfolio):
    site_id = _site(portfolio)
    person = _district_manager_of(db, portfolio, site_id)
    budget = _budget(portfolio, "other_revenue_month", site_id, 2027, 3)
    problems, conflicts, saved = _save(
        db,
        person,
        site_id,
        [
            svc.AdjustmentEdit("other_revenue", 2027, 3, "gpo_fees", "-250", 0),
            svc.AdjustmentEdit("other_revenue", 2027, 3, "miscellaneous", "$1,000.456", 0),
        ],
    )
    assert (problems, conflicts, saved) == ([], [], 2)
    row = _forecast(db, OtherRevenueMonth, site_id, 2027, 3)
    assert row.version == 1
    assert row.updated_by_id == person.user_id
    assert row.gpo_fees == -250.0
    assert row.miscellaneous == 1000.46
    # Fields not edited start from the budget.
    assert row.billable_expenses == pytest.approx(float(budget["billable_expenses"]))
    assert row.revenue_validations == pytest.approx(float(budget["revenue_validations"]))
    assert _audit(db, site_id, "other_revenue", "2027-03", "gpo_fees") == [
        ("insert", str(float(budget["gpo_fees"])), "-250.0", person.user_id)
    ]

    problems, conflicts, saved = _save(
        db, person, site_id, [svc.AdjustmentEdit("other_revenue", 2027, 3, "gpo_fees", -300, 1)]
    )
    assert (problems, conflicts, saved) == ([], [], 1)
    row = _forecast(db, OtherRevenueMonth, site_id, 2027, 3)
    assert row.version == 2
    assert row.gpo_fees == -300.0
    assert row.miscellaneous == 1000.46  # untouched by the update
    assert [a[:3] for a in _audit(db, site_id, "other_revenue", "2027-03", "gpo_fees")][-1] == (
        "update",
        "-250.0",
        "-300.0",
    )
    with db.read() as session:
        data = svc.load_adjustments(session, person, site_id, (2027, 3), TEST_TODAY)
    march = data["other_revenue"]["2027-03"]
    assert march["version"] == 2
    assert march["values"]["gpo_fees"] == -300.0
    assert march["updated_by"] == person.display_name


def test_stale_version_is_a_conflict_and_writes_nothing_for_that_month(db, portfolio):
    site_id = _site(portfolio)
    person = _district_manager_of(db, portfolio, site_id)
    assert (
        _save(
            db, person, site_id, [svc.AdjustmentEdit("other_expense", 2027, 4, "uniforms", 75, 0)]
        )[2]
        == 1
    )
    # Someone else opened the month before that save: they still hold version 0.
    problems, conflicts, saved = _save(
        db, person, site_id, [svc.AdjustmentEdit("other_expense", 2027, 4, "uniforms", 90, 0)]
    )
    assert problems == [] and saved == 0
    assert [(c.key, c.field, c.yours, c.theirs, c.by) for c in conflicts] == [
        ("2027-04", "uniforms", 90.0, 75.0, person.display_name)
    ]
    row = _forecast(db, OtherExpenseMonth, site_id, 2027, 4)
    assert (row.uniforms, row.version) == (75.0, 1)
    assert len(_audit(db, site_id, "other_expense", "2027-04", "uniforms")) == 1
    # A version from the future (the row was never at 5) is just as stale.
    _, conflicts, saved = _save(
        db, person, site_id, [svc.AdjustmentEdit("other_expense", 2027, 4, "signage", 10, 5)]
    )
    assert saved == 0 and [c.field for c in conflicts] == ["signage"]
    # An edit on a month nobody saved, claiming a version, is refused too.
    _, conflicts, saved = _save(
        db, person, site_id, [svc.AdjustmentEdit("other_expense", 2027, 5, "signage", 10, 2)]
    )
    assert saved == 0 and [(c.key, c.theirs) for c in conflicts] == [("2027-05", None)]
    assert _forecast(db, OtherExpenseMonth, site_id, 2027, 5) is None


def test_sign_rules_and_locks_are_refused_all_at_once(db, portfolio):
    site_id = _site(portfolio)
    person = _district_manager_of(db, portfolio, site_id)
    edits = [
        svc.AdjustmentEdit("other_revenue", 2027, 6, "gpo_fees", 250, 0),  # must be ≤ 0
        svc.AdjustmentEdit("other_expense", 2027, 6, "uniforms", -5, 0),  # positive only
        svc.AdjustmentEdit("other_revenue", 2026, 10, "miscellaneous", 5, 0),  # past month
        svc.AdjustmentEdit("other_expense", 2027, 6, "signage", "abc", 0),  # not a number
        svc.AdjustmentEdit("other_expense", 2027, 6, "fuel_vehicles", 40, 0),  # fine
    ]
    problems, conflicts, saved = _save(db, person, site_id, edits)
    assert saved == 0 and conflicts == []
    assert [(p.key, p.field) for p in problems] == [
        ("2027-06", "gpo_fees"),
        ("2027-06", "uniforms"),
        ("2026-10", "miscellaneous"),
        ("2027-06", "signage"),
    ]
    assert problems[0].message == adj.validate_other_revenue("gpo_fees", 250)
    assert problems[1].message == "Uniforms cannot be negative."
    assert problems[2].message == "Miscellaneous: Past months are read-only."
    assert _forecast(db, OtherExpenseMonth, site_id, 2027, 6) is None
    assert _forecast(db, OtherRevenueMonth, site_id, 2027, 6) is None


def test_actualised_expense_month_is_refused_but_revenue_month_is_not():
    actualised = {"other_revenue": {(2027, 1)}, "other_expense": {(2027, 1)}}
    problems, clean = svc.validate_adjustments(
        [
            svc.AdjustmentEdit("other_expense", 2027, 1, "uniforms", 10, 0),
            svc.AdjustmentEdit("other_revenue", 2027, 1, "billable_expenses", 10, 0),
        ],
        TEST_TODAY,
        actualised,
    )
    assert [(p.field, p.message) for p in problems] == [
        ("uniforms", "Uniforms: Actual expenses are posted for this month; it is read-only.")
    ]
    assert clean == {("other_revenue", 2027, 1): {"billable_expenses": (10.0, 0)}}


# --- the browser's store -----------------------------------------------------------------------


def test_edits_from_store():
    edits = svc.edits_from_store(
        {
            "other_revenue|2026-12|gpo_fees": {"value": -250.0, "version": 2},
            "other_expense|2027-01|uniforms": {"value": 80, "version": 0},
        }
    )
    assert edits == [
        svc.AdjustmentEdit("other_revenue", 2026, 12, "gpo_fees", -250.0, 2),
        svc.AdjustmentEdit("other_expense", 2027, 1, "uniforms", 80, 0),
    ]
    assert svc.edits_from_store({}) == [] and svc.edits_from_store(None) == []


@pytest.mark.parametrize(
    "store",
    [
        {"other_revenue|2026-12": {"value": 1, "version": 0}},
        {"payroll|2026-12|hours": {"value": 1, "version": 0}},
        {"other_revenue|2026-12|uniforms": {"value": 1, "version": 0}},
        {"other_revenue|2026-13|gpo_fees": {"value": 1, "version": 0}},
        {"other_revenue|26-12|gpo_fees": {"value": 1, "version": 0}},
        {"other_revenue|2026-12|gpo_fees": {"version": 0}},
        {"other_revenue|2026-12|gpo_fees": {"value": 1, "version": "1"}},
        {"other_revenue|2026-12|gpo_fees": {"value": 1, "version": -1}},
        {"other_revenue|2026-12|gpo_fees": -1},
        ["other_revenue|2026-12|gpo_fees"],
    ],
)
def test_malformed_store_raises_value_error(store):
    with pytest.raises(ValueError):
        svc.edits_from_store(store)
