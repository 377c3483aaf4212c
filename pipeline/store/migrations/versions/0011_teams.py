"""Footage metadata from the evidence system (issue 18): officer, team, shift, incident,
recording time and camera per original, keyed by its SHA-256; each TIP's default teams; and
the kind of each review item ("flagged", or "routine": a sample of footage with no flags).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "footage_meta",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("officer_id", sa.String(40), nullable=True),
        sa.Column("officer_name", sa.String(200), nullable=True),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("shift", sa.String(100), nullable=True),
        sa.Column("incident_ref", sa.String(100), nullable=True),
        sa.Column("incident_type", sa.String(40), nullable=True),
        sa.Column("incident_text", sa.String(200), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("camera_id", sa.String(100), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sha256"),
    )
    op.create_index("ix_footage_meta_officer_id", "footage_meta", ["officer_id"])
    op.create_index("ix_footage_meta_team", "footage_meta", ["team"])
    op.create_table(
        "user_team",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "team", name="uq_user_team"),
    )
    op.create_index("ix_user_team_user_id", "user_team", ["user_id"])
    with op.batch_alter_table("review_item") as batch:
        batch.add_column(sa.Column("kind", sa.String(20), nullable=False,
                                   server_default="flagged"))


def downgrade() -> None:
    with op.batch_alter_table("review_item") as batch:
        batch.drop_column("kind")
    op.drop_index("ix_user_team_user_id", "user_team")
    op.drop_table("user_team")
    op.drop_index("ix_footage_meta_team", "footage_meta")
    op.drop_index("ix_footage_meta_officer_id", "footage_meta")
    op.drop_table("footage_meta")
