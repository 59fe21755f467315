"""The submission state machine: every legal and illegal transition, flags, cadence."""

import datetime as dt
import itertools

import pytest

from dashboard.domain import submission as sm

LEGAL = {
    (sm.DRAFT, sm.SUBMIT): sm.SUBMITTED,
    (sm.RETURNED, sm.SUBMIT): sm.SUBMITTED,
    (sm.SUBMITTED, sm.APPROVE): sm.APPROVED,
    (sm.SUBMITTED, sm.RETURN): sm.RETURNED,
    (sm.DRAFT, sm.EDIT): sm.DRAFT,
    (sm.RETURNED, sm.EDIT): sm.DRAFT,
    (sm.SUBMITTED, sm.EDIT): sm.SUBMITTED,
    (sm.APPROVED, sm.EDIT): sm.APPROVED,
    (sm.APPROVED, sm.CLOSE): sm.LOCKED,
    (sm.APPROVED, sm.REOPEN): sm.DRAFT,
}
# The role that may take each action (the district manager reviews and also edits).
ACTOR = {
    sm.SUBMIT: "account_manager",
    sm.APPROVE: "district_manager",
    sm.RETURN: "district_manager",
    sm.EDIT: "district_manager",
    sm.CLOSE: sm.SYSTEM,
    sm.REOPEN: "district_manager",
}


@pytest.mark.parametrize(("state", "action"), sorted(LEGAL))
def test_legal_transitions(state, action):
    step = sm.transition(state, action, ACTOR[action], comment="Because the hotel sold out.")
    assert (step.before, step.action, step.after) == (state, action, LEGAL[(state, action)])


ILLEGAL = sorted(set(itertools.product(sm.STATES, sm.ACTIONS)) - set(LEGAL))


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_transitions_are_refused_with_a_message(state, action):
    with pytest.raises(sm.TransitionError) as refused:
        sm.transition(state, action, ACTOR[action], comment="A reason.")
    assert str(refused.value)


def test_every_pair_is_either_legal_or_illegal():
    assert len(LEGAL) + len(ILLEGAL) == len(sm.STATES) * len(sm.ACTIONS) == 30


@pytest.mark.parametrize("role", ["account_manager", "executive", "admin"])
@pytest.mark.parametrize("action", [sm.APPROVE, sm.RETURN, sm.REOPEN])
def test_only_reviewers_decide(role, action):
    state = sm.APPROVED if action == sm.REOPEN else sm.SUBMITTED
    with pytest.raises(sm.TransitionError, match="Only a district manager"):
        sm.transition(state, action, role, comment="x")


@pytest.mark.parametrize("role", ["executive", "admin"])
def test_read_only_roles_neither_submit_nor_edit(role):
    for action in (sm.SUBMIT, sm.EDIT):
        with pytest.raises(sm.TransitionError, match="cannot change forecasts"):
            sm.transition(sm.DRAFT, action, role)


def test_close_is_the_systems_not_a_persons():
    with pytest.raises(sm.TransitionError, match="month-end close"):
        sm.transition(sm.APPROVED, sm.CLOSE, "district_manager")


@pytest.mark.parametrize("state", [sm.SUBMITTED, sm.APPROVED])
def test_account_manager_cannot_edit_a_submitted_or_approved_month(state):
    assert "only your district manager" in sm.edit_block_reason(state, "account_manager")
    assert sm.edit_block_reason(state, "district_manager") is None
    assert sm.edit_block_reason(state, "regional_vp") is None


def test_nobody_edits_a_locked_month_and_anyone_with_edit_rights_edits_a_draft():
    for role in sm.EDITOR_ROLES:
        assert "locked" in sm.edit_block_reason(sm.LOCKED, role)
        assert sm.edit_block_reason(sm.DRAFT, role) is None
        assert sm.edit_block_reason(sm.RETURNED, role) is None


@pytest.mark.parametrize("comment", [None, "", "   "])
@pytest.mark.parametrize(("state", "action"), [(sm.SUBMITTED, sm.RETURN), (sm.APPROVED, sm.REOPEN)])
def test_return_and_reopen_need_a_comment(state, action, comment):
    with pytest.raises(sm.TransitionError, match="Write"):
        sm.transition(state, action, "district_manager", comment=comment)


def test_overlong_comment_is_refused():
    with pytest.raises(sm.TransitionError, match="under 2,000"):
        sm.transition(sm.SUBMITTED, sm.RETURN, "district_manager", comment="x" * 2001)


@pytest.mark.parametrize("action", [sm.APPROVE, sm.RETURN])
def test_nobody_decides_on_their_own_submission(action):
    with pytest.raises(sm.TransitionError, match="another reviewer"):
        sm.transition(sm.SUBMITTED, action, "district_manager", comment="x", is_submitter=True)


def test_unknown_state_or_action():
    with pytest.raises(sm.TransitionError, match="Unknown submission state"):
        sm.transition("PENDING", sm.SUBMIT, "account_manager")
    with pytest.raises(sm.TransitionError, match="Unknown action"):
        sm.transition(sm.DRAFT, "delete", "account_manager")


# --- Flags -----------------------------------------------------------------------------------

LIMITS = sm.Thresholds(pct=0.075, amount=5_000.0)


def test_flag_by_percentage():
    # FLC 10,800 vs budget 10,000: +800 = +8.0% (under $5,000, over 7.5%).
    flag = sm.variance_flag("flc", 10_800.0, 10_000.0, LIMITS)
    assert flag.amount == 800.0 and flag.fraction == pytest.approx(0.08)


def test_flag_by_amount():
    # IR 206,000 vs 200,000: +6,000 = 3.0% (under 7.5%, over $5,000).
    flag = sm.variance_flag("internal_revenue", 206_000.0, 200_000.0, LIMITS)
    assert flag.amount == 6_000.0 and flag.fraction == pytest.approx(0.03)


def test_no_flag_under_both_thresholds_and_the_edges_flag():
    assert sm.variance_flag("flc", 10_740.0, 10_000.0, LIMITS) is None  # +7.4%, $740
    assert sm.variance_flag("flc", 10_750.0, 10_000.0, LIMITS) is not None  # exactly 7.5%
    assert sm.variance_flag("flc", 9_250.0, 10_000.0, LIMITS).fraction == pytest.approx(-0.075)
    assert sm.variance_flag("internal_revenue", 105_000.0, 100_000.0, LIMITS).amount == 5_000.0


def test_budget_zero_flags_by_amount_only():
    assert sm.variance_flag("flc", 4_999.0, 0.0, LIMITS) is None
    assert sm.variance_flag("flc", -5_000.0, 0.0, LIMITS).fraction is None


def test_negative_budget_fraction_is_amount_over_budget_as_on_the_pnl():
    # FLC −1,100 vs budget −1,000: $ −100; % = −100 ÷ −1,000 = +10% (§7.5), flagged by size.
    flag = sm.variance_flag("flc", -1_100.0, -1_000.0, LIMITS)
    assert flag.amount == -100.0 and flag.fraction == pytest.approx(0.1)


def test_flags_and_explanations():
    flags = sm.variance_flags(
        {"flc": 9_000.0, "internal_revenue": 100_500.0},
        {"flc": 10_000.0, "internal_revenue": 100_000.0},
        LIMITS,
    )
    assert [f.line for f in flags] == ["flc"]  # −10%; IR +0.5% and $500
    assert sm.unexplained(flags, {}) == flags
    assert sm.unexplained(flags, {"flc": "   "}) == flags
    assert sm.unexplained(flags, {"flc": "Hotel renovation closed 80 rooms."}) == []


# --- Cadence ---------------------------------------------------------------------------------


def test_deadline_is_the_last_friday_of_the_month_before():
    assert sm.submission_deadline(2026, 12) == dt.date(2026, 11, 27)
    assert sm.submission_deadline(2027, 1) == dt.date(2026, 12, 25)
    assert sm.submission_deadline(2027, 3) == dt.date(2027, 2, 26)
    assert sm.submission_deadline(2026, 8) == dt.date(2026, 7, 31)  # July 31 is a Friday


def test_business_days_skip_weekends():
    friday = dt.date(2026, 11, 20)
    assert sm.business_days_between(friday, dt.date(2026, 11, 22)) == 0  # Sat, Sun
    assert sm.business_days_between(friday, dt.date(2026, 11, 25)) == 3  # Mon–Wed
    assert not sm.review_overdue(friday, dt.date(2026, 11, 25))
    assert sm.review_overdue(friday, dt.date(2026, 11, 26))  # 4 business days


def test_missing_submission_after_the_deadline():
    assert not sm.missing_submission(None, 2026, 12, dt.date(2026, 11, 27))
    assert sm.missing_submission(None, 2026, 12, dt.date(2026, 11, 28))
    assert sm.missing_submission(sm.RETURNED, 2026, 12, dt.date(2026, 11, 30))
    assert not sm.missing_submission(sm.SUBMITTED, 2026, 12, dt.date(2026, 11, 30))
