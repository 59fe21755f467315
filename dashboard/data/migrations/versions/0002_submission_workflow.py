"""Submission workflow: comment threads, variance explanations, last edit of a month.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 21:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("forecast_submission", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_edit_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("last_edit_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_submission_last_edit_by", "app_user", ["last_edit_by_id"], ["id"]
        )
    op.create_table(
        "submission_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["submission_id"], ["forecast_submission.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("submission_comment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submission_comment_submission_id"), ["submission_id"], unique=False
        )
    op.create_table(
        "variance_explanation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("line", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "year", "month", "line", name="uq_variance_explanation"),
    )


def downgrade() -> None:
    op.drop_table("variance_explanation")
    with op.batch_alter_table("submission_comment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submission_comment_submission_id"))
    op.drop_table("submission_comment")
    with op.batch_alter_table("forecast_submission", schema=None) as batch_op:
        batch_op.drop_constraint("fk_submission_last_edit_by", type_="foreignkey")
        batch_op.drop_column("last_edit_by_id")
        batch_op.drop_column("last_edit_at")
