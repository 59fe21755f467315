"""Workspace callbacks posted directly: whatever the browser sends, scope and locks hold."""

import json

from sqlalchemy import func, select

from dashboard.data.models import ParkingRateMonth, SiteStatisticDay, User
from dashboard.services import rates as rates_service
from dashboard.services import workspace_save
from dashboard.services.accounts import principal_of
from tests.conftest import TEST_TODAY, sites_of

SAVE_OUTPUTS = [
    ("ws-window", "data"),
    ("ws-edits", "data"),
    ("ws-history", "data"),
    ("ws-message", "children"),
    ("ws-rates", "data"),
    ("ws-rate-edits", "data"),
    ("rates-message", "children"),
    ("ws-payroll", "data"),
    ("ws-payroll-edits", "data"),
    ("payroll-message", "children"),
    ("ws-adjustments", "data"),
    ("ws-adjustment-edits", "data"),
    ("other-revenue-message", "children"),
    ("other-expense-message", "children"),
]


def _save_body(window, edits, rate_edits=None, rates=None):
    state = {
        "ws-edits.data": edits,
        "ws-window.data": window,
        "ws-room-input.value": "occupancy",
        "ws-start.value": "2026-11",
        "ws-rate-edits.data": rate_edits or {},
        "ws-rates.data": rates,
        "ws-payroll-edits.data": {},
        "ws-payroll.data": None,
        "ws-adjustment-edits.data": {},
        "ws-adjustments.data": None,
    }
    return {
        # The renderer names every output; _post_save takes the exact string from the app.
        "output": "..." + "...".join(f"{i}.{p}" for i, p in SAVE_OUTPUTS) + "...",
        "outputs": [{"id": i, "property": p} for i, p in SAVE_OUTPUTS],
        "inputs": [
            {"id": "ws-save", "property": "n_clicks", "value": 1},
            {"id": "rates-save", "property": "n_clicks", "value": None},
            {"id": "payroll-save", "property": "n_clicks", "value": None},
            {"id": "other-revenue-save", "property": "n_clicks", "value": None},
            {"id": "other-expense-save", "property": "n_clicks", "value": None},
        ],
        "changedPropIds": ["ws-save.n_clicks"],
        "state": [
            {"id": k.rsplit(".", 1)[0], "property": k.rsplit(".", 1)[1], "value": v}
            for k, v in state.items()
        ],
    }


def _post_save(client, window, edits, rate_edits=None, rates=None):
    layout = client.get("/_dash-dependencies").get_json()
    save = next(
        c
        for c in layout
        if "ws-save.n_clicks" in [f"{i['id']}.{i['property']}" for i in c["inputs"]]
    )
    body = _save_body(window, edits, rate_edits, rates)
    body["output"] = save["output"]
    return client.post("/_dash-update-component", json=body)


def _forecast_rows(db, site_id):
    with db.read() as session:
        return session.scalar(
            select(func.count())
            .select_from(SiteStatisticDay)
            .where(SiteStatisticDay.site_id == site_id, SiteStatisticDay.kind == "forecast")
        )


def test_forged_save_for_another_district_site_is_refused(auth, portfolio, db):
    email = portfolio.demo_accounts["account_manager"]
    own = sites_of(portfolio, email)
    sites = portfolio["site"].set_index("id")
    own_district = sites.at[next(iter(own)), "district_id"]
    other = int(next(s for s in sites.index if sites.at[s, "district_id"] != own_district))
    before = _forecast_rows(db, other)
    auth.login(email)
    forged_window = {"site_id": other, "days": [{"day": "2026-12-01", "version": 0}]}
    response = _post_save(auth.client, forged_window, {"2026-12-01|valet_daily": 99})
    assert response.status_code == 200
    text = json.dumps(response.get_json())
    assert "may not change this site" in text
    assert _forecast_rows(db, other) == before


def test_forged_save_of_a_past_day_is_refused(auth, portfolio, db):
    email = portfolio.demo_accounts["account_manager"]
    site_id = min(sites_of(portfolio, email))
    before = _forecast_rows(db, site_id)
    auth.login(email)
    window = {"site_id": site_id, "days": [{"day": "2026-11-02", "version": 0}]}
    response = _post_save(auth.client, window, {"2026-11-02|valet_daily": 99})
    assert "Days before today are read-only." in json.dumps(response.get_json())
    assert _forecast_rows(db, site_id) == before


def test_save_without_a_session_is_refused(client):
    response = client.post("/_dash-update-component", json=_save_body({"site_id": 1}, {}))
    assert response.status_code == 401


def _saved_rate(db, site_id, year, month, category):
    with db.read() as session:
        return session.execute(
            select(ParkingRateMonth.rate, ParkingRateMonth.version).where(
                ParkingRateMonth.site_id == site_id,
                ParkingRateMonth.kind == "forecast",
                ParkingRateMonth.year == year,
                ParkingRateMonth.month == month,
                ParkingRateMonth.category == category,
            )
        ).one_or_none()


def test_rate_edit_keeps_the_version_of_the_year_it_was_typed_in(auth, portfolio, db):
    """A 2027 rate edited while 2027 was shown, saved while the Rates tab shows 2026: the
    save checks the 2027 version the user saw — no false conflict, and a stale one is caught."""
    email = portfolio.demo_accounts["account_manager"]
    site_id = min(sites_of(portfolio, email))
    with db.read() as session:
        person = principal_of(session.scalar(select(User).where(User.email == email)))
        rates_2026 = rates_service.load_rates(session, person, site_id, 2026, TEST_TODAY)
    first = rates_service.RateEdit(2027, 3, "self_daily", 21.0, 0)
    assert workspace_save.save_forecast_inputs(db, person, site_id, [], [first], TEST_TODAY).ok
    assert tuple(_saved_rate(db, site_id, 2027, 3, "self_daily")) == (21.0, 1)

    auth.login(email)
    window = {"site_id": site_id, "days": []}
    fresh = {"2027-03|self_daily": {"value": 23.5, "version": 1}}
    response = _post_save(auth.client, window, {}, fresh, rates_2026)
    assert "Saved 1 change" in json.dumps(response.get_json())
    assert tuple(_saved_rate(db, site_id, 2027, 3, "self_daily")) == (23.5, 2)

    stale = {"2027-03|self_daily": {"value": 30.0, "version": 1}}
    response = _post_save(auth.client, window, {}, stale, rates_2026)
    assert "Save conflict" in json.dumps(response.get_json())
    assert tuple(_saved_rate(db, site_id, 2027, 3, "self_daily")) == (23.5, 2)


def test_unreadable_rate_edits_are_refused(auth, portfolio, db):
    email = portfolio.demo_accounts["account_manager"]
    site_id = min(sites_of(portfolio, email))
    auth.login(email)
    response = _post_save(
        auth.client, {"site_id": site_id, "days": []}, {}, {"2027-04|self_daily": 12}
    )
    assert response.status_code == 200
    assert "could not be read" in json.dumps(response.get_json())
    assert _saved_rate(db, site_id, 2027, 4, "self_daily") is None


def _post_impact(client, site_id, window_site_id=None):
    body = {
        "output": "ws-impact.children",
        "outputs": {"id": "ws-impact", "property": "children"},
        "inputs": [
            {
                "id": "ws-window",
                "property": "data",
                "value": {"site_id": window_site_id or site_id},
            },
            {"id": "ws-edits", "property": "data", "value": {"2026-12-01|valet_daily": 99}},
            {"id": "ws-rate-edits", "property": "data", "value": {}},
            {"id": "ws-payroll-edits", "property": "data", "value": {}},
        ],
        "changedPropIds": ["ws-edits.data"],
        "state": [
            {
                "id": "ws-selection",
                "property": "data",
                "value": {"site": site_id, "start": "2026-12"},
            },
            {"id": "ws-room-input", "property": "value", "value": "occupancy"},
            {"id": "ws-payroll", "property": "data", "value": None},
        ],
    }
    return client.post("/_dash-update-component", json=body)


def test_live_impact_of_another_district_site_shows_nothing(auth, portfolio):
    email = portfolio.demo_accounts["account_manager"]
    own = sites_of(portfolio, email)
    sites = portfolio["site"].set_index("id")
    own_district = sites.at[next(iter(own)), "district_id"]
    other = int(next(s for s in sites.index if sites.at[s, "district_id"] != own_district))
    auth.login(email)
    mine = _post_impact(auth.client, min(own))
    assert mine.status_code == 200 and "ws-impact-flc-0" in json.dumps(mine.get_json())
    forged = _post_impact(auth.client, other)
    assert forged.status_code == 200
    text = json.dumps(forged.get_json())
    assert "ws-impact-flc" not in text and '"children": null' in text


def test_live_impact_without_a_session_is_refused(client):
    response = _post_impact(client, 1)
    assert response.status_code == 401


def _post_by_inputs(client, output, inputs, state=()):
    """Post the callback that writes ``output`` and whose inputs are exactly ``inputs``
    ((id, property, value) each)."""
    wanted = [f"{i}.{p}" for i, p, _ in inputs]
    dep = next(
        d
        for d in client.get("/_dash-dependencies").get_json()
        if [f"{i['id']}.{i['property']}" for i in d["inputs"]] == wanted and output in d["output"]
    )
    parts = dep["output"].strip(".").split("...")
    outputs = [{"id": x.split(".")[0], "property": x.split(".")[1].split("@")[0]} for x in parts]
    body = {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": [wanted[0]],
    }
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer.get_json()["response"]


def test_a_kept_window_is_not_shown_once_the_site_leaves_the_persons_scope(auth, portfolio, db):
    """The statistics window stays on the server behind a handle; every read of it checks
    scope again, so an assignment that ends hides the cached rows."""
    import datetime as dt

    from sqlalchemy import update

    from dashboard.data.models import ScopeAssignment

    email = portfolio.demo_accounts["account_manager"]
    site_id = min(sites_of(portfolio, email))
    auth.login(email)
    loaded = _post_by_inputs(
        auth.client,
        "ws-window.data",
        [("ws-selection", "data", {"site": str(site_id), "start": "2026-12"})],
        [("ws-window", "data", None)],
    )
    handle = loaded["ws-window"]["data"]
    assert handle["site_id"] == site_id and "token" in handle
    assert len(json.dumps(handle)) < 10_000  # the rows stay on the server

    def rows():
        response = _post_by_inputs(
            auth.client,
            "stats-grid.rowData",
            [
                ("ws-window", "data", handle),
                ("ws-edits", "data", {}),
                ("ws-page", "data", 0),
                ("ws-view", "value", "daily"),
                ("ws-room-input", "value", "occupancy"),
                ("ws-compare", "value", "forecast"),
                ("ws-rate-edits", "data", {}),
            ],
        )
        return response["stats-grid"]["rowData"]

    assert len(rows()) == 31
    with db.read() as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
    grant = (ScopeAssignment.user_id == user_id, ScopeAssignment.site_id == site_id)
    with db.write() as session:
        ended = session.execute(
            select(ScopeAssignment.id, ScopeAssignment.valid_to).where(*grant)
        ).all()
        session.execute(
            update(ScopeAssignment).where(*grant).values(valid_to=TEST_TODAY - dt.timedelta(days=1))
        )
    try:
        assert rows() == []
    finally:
        with db.write() as session:
            for grant_id, valid_to in ended:
                session.execute(
                    update(ScopeAssignment)
                    .where(ScopeAssignment.id == grant_id)
                    .values(valid_to=valid_to)
                )
