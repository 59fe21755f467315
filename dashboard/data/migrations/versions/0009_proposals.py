"""the proposal layer (issue 15, item 2): per site and future day the measured proposal that a
day nobody saved shows and counts (entry > proposal > budget), and when each site's proposals
were computed (empty until the proposal job runs: until then every day falls back to the
budget, as before); a downgrade marks every site's figures stale

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_MEASURES = (
    "occupancy",
    "occupied_rooms",
    "valet_daily",
    "valet_monthly",
    "self_daily",
    "self_monthly",
    "self_aggregator",
    "valet_aggregator",
    "valet_comps",
    "self_comps",
    "drive_in_ratio",
    "capture_ratio",
    "self_overnight",
    "valet_overnight",
    "labor_hours",
)


def upgrade() -> None:
    op.create_table(
        "statistic_proposal_day",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        *[sa.Column(name, sa.Float(), nullable=False) for name in _MEASURES],
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id", "day"),
    )
    op.create_table(
        "site_proposal_state",
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.PrimaryKeyConstraint("site_id"),
    )


def downgrade() -> None:
    op.drop_table("site_proposal_state")
    op.drop_table("statistic_proposal_day")
    op.execute("UPDATE site_figure_state SET inputs_version = inputs_version + 1")
