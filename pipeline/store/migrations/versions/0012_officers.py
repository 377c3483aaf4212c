"""Officers (issue 18): the officer role's collar number on an account, and the feedback TIPs
share with the officer who wore the camera (with the officer's acknowledgement and reply).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN and a unique index: a batch copy of user_account would have to drop
    # the table every other one refers to, which SQLite's foreign keys refuse.
    op.add_column("user_account", sa.Column("officer_id", sa.String(40), nullable=True))
    op.create_index("uq_user_account_officer_id", "user_account", ["officer_id"], unique=True)
    op.create_table(
        "shared_feedback",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("annotation_id", sa.Integer(),
                  sa.ForeignKey("annotation.id", ondelete="CASCADE"), nullable=False),
        sa.Column("media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("officer_id", sa.String(40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("shared_by", sa.Integer(), nullable=False),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("annotation_id"),
    )
    op.create_index("ix_shared_feedback_media_id", "shared_feedback", ["media_id"])
    op.create_index("ix_shared_feedback_officer_id", "shared_feedback", ["officer_id"])


def downgrade() -> None:
    op.drop_index("ix_shared_feedback_officer_id", "shared_feedback")
    op.drop_index("ix_shared_feedback_media_id", "shared_feedback")
    op.drop_table("shared_feedback")
    op.drop_index("uq_user_account_officer_id", "user_account")
    if op.get_bind().dialect.name == "sqlite":  # SQLite 3.35+ drops a column in place
        op.execute("ALTER TABLE user_account DROP COLUMN officer_id")
    else:
        op.drop_column("user_account", "officer_id")
