"""figures stale: the external revenue of forecast days nobody saved is now the budget's counts
at the month's forecast rates (D3), not the budget's revenue — every site's stored figures are
recomputed by the refresh job (the pages say "N sites updating…" until then)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE site_figure_state SET inputs_version = inputs_version + 1")


def downgrade() -> None:
    # The figures stay stale until recomputed, which is right for the older rule too.
    op.execute("UPDATE site_figure_state SET inputs_version = inputs_version + 1")
