"""Home-page callbacks posted directly, as a browser (or an attacker) would."""

import json

from tests.conftest import sites_of

# The shell's signal that stored figures were refreshed: an input of the home content.
REFRESHED = {"id": "shell-figures-refreshed", "property": "data", "value": 0}


def _callback(client, output_id, inputs, state=()):
    body = {
        "output": f"{output_id}.children",
        "outputs": {"id": output_id, "property": "children"},
        "inputs": [{"id": i, "property": "value", "value": v} for i, v in inputs]
        + ([REFRESHED] if output_id == "home-content" else []),
        "changedPropIds": [f"{inputs[0][0]}.value"],
        "state": [{"id": i, "property": "value", "value": v} for i, v in state],
    }
    return client.post("/_dash-update-component", json=body)


def _grid_rows(response_json):
    """rowData of the home sites grid inside a callback response."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("props", {}).get("id") == "home-sites-grid":
                found.append(node["props"]["rowData"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(response_json)
    assert len(found) == 1, "the home page has one sites grid"
    return found[0]


def _site_numbers(portfolio, site_ids):
    sites = portfolio["site"].set_index("id")
    return {sites.at[s, "site_number"] for s in site_ids}


def test_account_manager_home_lists_exactly_their_sites(auth, portfolio):
    email = portfolio.demo_accounts["account_manager"]
    auth.login(email)
    response = _callback(auth.client, "home-content", [("home-month", "2026-11")])
    assert response.status_code == 200
    rows = _grid_rows(response.get_json())
    assert {r["site_number"] for r in rows} == _site_numbers(portfolio, sites_of(portfolio, email))
    pnl = portfolio["pnl_month"]
    budget = pnl[(pnl["kind"] == "budget") & (pnl["year"] == 2026) & (pnl["month"] == 11)]
    by_site = budget.set_index("site_id")
    for row in rows:
        line = by_site.loc[row["site_id"]]
        expected_flc = (
            line["internal_revenue"]
            - line[
                ["payroll", "claims", "parking_rents", "other_expense", "pteb", "insurance"]
            ].sum()
        )
        assert abs(row["flc"] - expected_flc) < 0.01
        assert abs(row["external_revenue"] - line["external_revenue"]) < 0.01


def test_district_manager_home_lists_the_district(auth, portfolio):
    email = portfolio.demo_accounts["district_manager"]
    auth.login(email)
    rows = _grid_rows(
        _callback(auth.client, "home-content", [("home-month", "2026-11")]).get_json()
    )
    district = int(
        portfolio["site"].loc[portfolio["site"]["id"] == rows[0]["site_id"], "district_id"].iloc[0]
    )
    expected = portfolio["site"].loc[portfolio["site"]["district_id"] == district, "site_number"]
    assert {r["site_number"] for r in rows} == set(expected)


def test_out_of_scope_site_detail_returns_no_data(auth, portfolio):
    email = portfolio.demo_accounts["account_manager"]
    own = sites_of(portfolio, email)
    sites = portfolio["site"].set_index("id")
    own_district = sites.at[next(iter(own)), "district_id"]
    other = int(next(s for s in sites.index if sites.at[s, "district_id"] != own_district))
    auth.login(email)
    response = _callback(
        auth.client,
        "home-site-detail",
        [("home-site-select", str(other))],
        [("home-month", "2026-11")],
    )
    assert response.status_code == 200
    text = json.dumps(response.get_json())
    assert "not in your scope" in text
    assert sites.at[other, "site_number"] not in text
    assert sites.at[other, "name"] not in text
    assert "$" not in text

    mine = _callback(
        auth.client,
        "home-site-detail",
        [("home-site-select", str(min(own)))],
        [("home-month", "2026-11")],
    )
    assert sites.at[min(own), "site_number"] in json.dumps(mine.get_json())


def test_executive_home_rolls_up_every_region(auth, portfolio):
    auth.login(portfolio.demo_accounts["executive"])
    response = _callback(auth.client, "home-content", [("home-month", "2026-11")])
    text = json.dumps(response.get_json())
    for region in portfolio["region"]["name"]:
        assert region in text
    for district in portfolio["district"]["name"]:
        assert district in text


def test_regional_vp_home_shows_only_their_region(auth, portfolio):
    email = portfolio.demo_accounts["regional_vp"]
    region = email.split(".")[1].split("@")[0].title()
    auth.login(email)
    text = json.dumps(
        _callback(auth.client, "home-content", [("home-month", "2026-11")]).get_json()
    )
    region_id = int(portfolio["region"].loc[portfolio["region"]["name"] == region, "id"].iloc[0])
    districts = portfolio["district"]
    for row in districts.itertuples():
        assert (row.name in text) == (row.region_id == region_id)


def test_malformed_month_falls_back_to_the_current_month(auth, portfolio):
    auth.login(portfolio.demo_accounts["account_manager"])
    response = _callback(auth.client, "home-content", [("home-month", "<script>")])
    assert response.status_code == 200
    assert "November 2026" in json.dumps(response.get_json())
