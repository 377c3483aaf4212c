"""The first tables: media, names, transcripts, segments, flags, review items, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("store_path", sa.Text(), nullable=True),
        sa.Column("container", sa.String(100), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("has_video", sa.Boolean(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("audio_tracks", sa.Integer(), nullable=True),
        sa.Column("audio_track", sa.Integer(), nullable=True),
        sa.Column("audio_path", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.UniqueConstraint("sha256"),
    )
    op.create_index("ix_media_state", "media", ["state"])
    op.create_table(
        "media_name",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("inbox", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("mtime_ns", sa.BigInteger(), nullable=True),
        sa.Column("first_seen_at", TZ, nullable=False),
        sa.UniqueConstraint("media_id", "inbox", "name", name="uq_media_name"),
    )
    op.create_index("ix_media_name_media_id", "media_name", ["media_id"])
    op.create_table(
        "transcript",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("model_sha256", sa.String(64), nullable=True),
        sa.Column("language", sa.String(10), nullable=True),
        sa.Column("settings_json", sa.Text(), nullable=False),
        sa.Column("audio_s", sa.Float(), nullable=False),
        sa.Column("elapsed_s", sa.Float(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("media_id"),
    )
    op.create_table(
        "segment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("words_json", sa.Text(), nullable=False),
        sa.Column("avg_logprob", sa.Float(), nullable=True),
        sa.Column("no_speech_prob", sa.Float(), nullable=True),
        sa.UniqueConstraint("media_id", "idx", name="uq_segment_idx"),
    )
    op.create_index("ix_segment_media_id", "segment", ["media_id"])
    op.create_table(
        "review_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_review_item_media_id", "review_item", ["media_id"])
    op.create_index("ix_review_item_queue", "review_item", ["status", "priority"])
    op.create_table(
        "flag",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "review_item_id",
            sa.Integer(),
            sa.ForeignKey("review_item.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("family", sa.String(40), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("rubric", sa.String(200), nullable=False),
        sa.Column("pattern", sa.String(200), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(40), nullable=False),
    )
    op.create_index("ix_flag_media_id", "flag", ["media_id"])
    op.create_index("ix_flag_review_item_id", "flag", ["review_item_id"])
    op.create_index("ix_flag_category", "flag", ["category"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("object", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("prev_hash"),
        sa.UniqueConstraint("row_hash"),
    )


def downgrade() -> None:
    for table in ("audit", "flag", "review_item", "segment", "transcript", "media_name", "media"):
        op.drop_table(table)
