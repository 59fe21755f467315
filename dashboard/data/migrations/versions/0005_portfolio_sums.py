"""portfolio sums: the P&L lines summed per district, series and month; an index of the
stored months whose internal revenue is the budget's

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

LINES = (
    "external_revenue",
    "internal_revenue",
    "payroll",
    "claims",
    "parking_rents",
    "other_expense",
    "pteb",
    "insurance",
    "flc",
)


def upgrade() -> None:
    op.create_index(
        "ix_figure_fallback",
        "site_month_figure",
        ["series", "year"],
        sqlite_where=sa.text("ir_fallback IS NOT NULL"),
        postgresql_where=sa.text("ir_fallback IS NOT NULL"),
    )
    op.create_table(
        "district_month_figure",
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=10), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("sites", sa.Integer(), nullable=False),
        *[sa.Column(line, sa.Float(), nullable=False) for line in LINES],
        sa.ForeignKeyConstraint(["district_id"], ["district.id"]),
        sa.PrimaryKeyConstraint("district_id", "series", "year", "month"),
    )
    op.create_index(
        "ix_district_figure_period", "district_month_figure", ["series", "year", "month"]
    )
    # The sums of the figures stored so far.
    sums = ", ".join(f"COALESCE(SUM(f.{line}), 0)" for line in LINES)
    op.execute(
        f"INSERT INTO district_month_figure (district_id, series, year, month, sites, "
        f"{', '.join(LINES)}) "
        f"SELECT s.district_id, f.series, f.year, f.month, COUNT(*), {sums} "
        "FROM site_month_figure f JOIN site s ON s.id = f.site_id "
        "GROUP BY s.district_id, f.series, f.year, f.month"
    )


def downgrade() -> None:
    op.drop_index("ix_district_figure_period", table_name="district_month_figure")
    op.drop_table("district_month_figure")
    op.drop_index("ix_figure_fallback", table_name="site_month_figure")
