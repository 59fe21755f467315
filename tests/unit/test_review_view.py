"""District roll-up view: grid rows and the FLC variance chart, without a browser."""

from dashboard.components import review_view


def _rollup():
    rows = [
        {
            "site_id": 1,
            "site": "0001 · North",
            "status": "SUBMITTED",
            "flc_var": 1200.0,
            "flc_pct": 0.12,
            "last_edit": "",
            "last_edit_by": "",
            "late": False,
        },
        {
            "site_id": 2,
            "site": "0002 · South",
            "status": "DRAFT",
            "flc_var": -3400.0,
            "flc_pct": -0.2,
            "last_edit": "2026-11-20 10:00",
            "last_edit_by": "Account Manager 0001",
            "late": True,
        },
        {
            "site_id": 3,
            "site": "0003 · East",
            "status": "APPROVED",
            "flc_var": 50.0,
            "flc_pct": None,
            "last_edit": "",
            "last_edit_by": "",
            "late": False,
        },
    ]
    return {"year": 2026, "month": 12, "rows": rows, "total": {"flc": 0.0}}


def test_chart_sorts_sites_by_flc_variance_and_colours_the_negative_red():
    figure = review_view.flc_variance_chart(review_view.grid_rows(_rollup()))
    bar = figure.data[0]
    assert list(bar.y) == ["0002 · South", "0003 · East", "0001 · North"]
    assert list(bar.x) == [-3400.0, 50.0, 1200.0]
    assert list(bar.marker.color) == ["#c92a2a", "#1c7ed6", "#1c7ed6"]
    assert list(bar.customdata) == ["-20.0%", "n/a", "+12.0%"]
    assert figure.layout.xaxis.title.text == "FLC − budget FLC ($)"


def test_rows_link_to_the_workspace_and_filter_by_status():
    rows = review_view.grid_rows(_rollup())
    # The site's Submission tab for the month under review.
    assert rows[0]["site_link"] == (
        "[0001 · North](/workspace?site=1&start=2026-12&tab=submission)"
    )
    assert rows[1]["late_label"] == "Not submitted"
    assert rows[1]["last_edit"] == "2026-11-20 10:00 · Account Manager 0001"
    assert [r["site_id"] for r in review_view.grid_rows(_rollup(), "SUBMITTED")] == [1]


def test_a_bulk_result_is_one_grouped_line_with_the_details_by_group():
    names = {1: "0001 · North", 2: "0002 · South", 3: "0003 · East", 4: "0004 · West"}
    states = {1: "SUBMITTED", 2: "DRAFT", 3: "SUBMITTED", 4: "DRAFT"}
    skipped = [
        # A draft with a flag is "not submitted", not "unexplained variance".
        (2, "unexplained variance: FLC"),
        (3, "unexplained variance: FLC, Internal revenue"),
        (4, "Only a submitted forecast can be approved."),
    ]
    summary = review_view.outcome_summary("Approved", [1], skipped, states, names)
    assert summary["line"] == "Approved 1 · 2 not submitted · 1 need explanations"
    assert summary["details"] == [
        ("Approved (1)", [("0001 · North", "")]),
        (
            "Not submitted (2)",
            [
                ("0002 · South", "Draft"),
                ("0004 · West", "Draft"),
            ],
        ),
        ("Need explanations (1)", [("0003 · East", "unexplained variance: FLC, Internal revenue")]),
    ]


def test_the_decision_columns_come_first_and_the_other_lines_on_demand():
    fields = [c["field"] for c in review_view.column_defs() if not c.get("hide")]
    assert fields[:6] == [
        "site_link",
        "status_label",
        "flc_var",
        "flc_pct",
        "flags",
        "explained",
    ]
    assert "payroll" not in fields and "last_edit" not in fields
    shown = [c["field"] for c in review_view.column_defs(details=True) if not c.get("hide")]
    assert "payroll" in shown and "last_edit" in shown
