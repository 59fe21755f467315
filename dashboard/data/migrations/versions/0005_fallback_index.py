"""fallback index: the stored months whose internal revenue is the budget's

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


def upgrade() -> None:
    op.create_index(
        "ix_figure_fallback",
        "site_month_figure",
        ["series", "year"],
        sqlite_where=sa.text("ir_fallback IS NOT NULL"),
        postgresql_where=sa.text("ir_fallback IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_figure_fallback", table_name="site_month_figure")
