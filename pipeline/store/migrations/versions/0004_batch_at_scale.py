"""The nightly batch at scale: job states per stage, batch runs, legal holds, tombstones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("not_before", TZ, nullable=True),
        sa.Column("started_at", TZ, nullable=True),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
        sa.UniqueConstraint("media_id", "stage", name="uq_job_stage"),
    )
    op.create_index("ix_job_media_id", "job", ["media_id"])
    op.create_index("ix_job_state", "job", ["state"])
    op.create_table(
        "batch_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("finished_at", TZ, nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("inbox", sa.Text(), nullable=False),
        sa.Column("executor", sa.String(20), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(20), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("files", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Integer(), nullable=False),
        sa.Column("audio_s", sa.Float(), nullable=False),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
    )
    op.create_index("ix_batch_run_started_at", "batch_run", ["started_at"])
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"),
            nullable=False, unique=True,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        sa.Column("placed_at", TZ, nullable=False),
    )
    op.create_table(
        "tombstone",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("deleted_at", TZ, nullable=False),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
    )
    op.create_index("ix_tombstone_media_id", "tombstone", ["media_id"])


def downgrade() -> None:
    op.drop_index("ix_tombstone_media_id", "tombstone")
    op.drop_table("tombstone")
    op.drop_table("legal_hold")
    op.drop_index("ix_batch_run_started_at", "batch_run")
    op.drop_table("batch_run")
    op.drop_index("ix_job_state", "job")
    op.drop_index("ix_job_media_id", "job")
    op.drop_table("job")
