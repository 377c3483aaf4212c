"""Reviewers' judgements of the rubric: confirmed, not relevant, missed moments.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rubric_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "flag_id", sa.Integer(), sa.ForeignKey("flag.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rubric", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rubric_feedback_media_id", "rubric_feedback", ["media_id"])
    op.create_index("ix_rubric_feedback_flag_id", "rubric_feedback", ["flag_id"])


def downgrade() -> None:
    op.drop_table("rubric_feedback")
