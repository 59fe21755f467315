"""waterfall figure: the revenue-linked internal revenue of each target site-month

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 23:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("site_month_figure") as batch:
        batch.add_column(sa.Column("ir_linked", sa.Float(), nullable=True))
    # Figures stored before this column lack it: every site is stale until recomputed.
    op.execute("UPDATE site_figure_state SET inputs_version = inputs_version + 1")


def downgrade() -> None:
    with op.batch_alter_table("site_month_figure") as batch:
        batch.drop_column("ir_linked")
