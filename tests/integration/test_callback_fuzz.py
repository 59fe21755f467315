"""Malformed callback bodies get a 4xx with a short reason, never a 500: generated bodies
(hypothesis) are posted to every callback ``/_dash-dependencies`` lists, signed in as each
role, and malformed shapes (no output, an unknown one, lists where objects go, ...) too.

Background callbacks are left out of the generated values: each post would start a job."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SignIn

ROLES = ("account_manager", "district_manager", "executive")
EXAMPLES = 6  # generated bodies per callback and role

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=3),
)


def _callbacks(client) -> list[dict]:
    return [
        c
        for c in client.get("/_dash-dependencies").get_json()
        if c.get("clientside_function") is None and not c.get("background")
    ]


def _outputs(key: str):
    if not key.startswith(".."):
        component, prop = key.split(".", 1)
        return {"id": component, "property": prop.split("@")[0]}
    out = []
    for part in key.strip(".").split("..."):
        component, prop = part.split(".", 1)
        out.append({"id": component, "property": prop.split("@")[0]})
    return out


def _body(callback: dict, draw) -> dict:
    def items(specs):
        return [{"id": s["id"], "property": s["property"], "value": draw(values)} for s in specs]

    inputs = items(callback["inputs"])
    return {
        "output": callback["output"],
        "outputs": _outputs(callback["output"]),
        "inputs": inputs,
        "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"] if inputs else [],
        "state": items(callback["state"]),
    }


MALFORMED = [
    {},
    {"output": "no-such-thing.children", "outputs": {"id": "x", "property": "y"}, "inputs": []},
    {"outputs": {"id": "home-content", "property": "children"}, "inputs": []},
    {"output": "home-content.children", "outputs": [], "inputs": {"id": "x"}},
    {"output": "home-content.children", "outputs": {}, "inputs": [1, 2], "state": "x"},
    {"output": 3, "inputs": None},
    [],
    "text",
]


@pytest.mark.parametrize("role", ROLES)
def test_no_generated_callback_body_gets_a_server_error(app, portfolio, role):
    client = app.server.test_client()
    SignIn(client).login(portfolio.demo_accounts[role])
    callbacks = _callbacks(client)
    assert len(callbacks) > 40
    tried = {"bodies": 0}
    errors = []

    @settings(
        max_examples=EXAMPLES * len(callbacks),
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(st.data())
    def post(data):
        callback = data.draw(st.sampled_from(callbacks))
        body = _body(callback, data.draw)
        answer = client.post("/_dash-update-component", json=body)
        tried["bodies"] += 1
        if answer.status_code >= 500:
            errors.append((callback["output"], answer.status_code, body))

    post()
    for body in MALFORMED:
        answer = client.post("/_dash-update-component", json=body)
        tried["bodies"] += 1
        if answer.status_code >= 500:
            errors.append(("malformed", answer.status_code, body))
        elif answer.status_code >= 400:
            assert answer.get_json()["error"], body  # a short reason
    assert errors == [], f"{len(errors)} of {tried['bodies']} bodies: {errors[:5]}"
