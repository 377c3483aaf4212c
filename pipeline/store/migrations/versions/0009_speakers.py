"""Speaker turns (issue 16): who says each segment and word, how the file's speakers were told
apart, and TIPs' corrections (a speaker renamed, a line moved to another speaker).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transcript") as batch:
        batch.add_column(sa.Column("speaker_status", sa.String(20), nullable=True))
        batch.add_column(sa.Column("speaker_info", sa.Text(), nullable=True))
    with op.batch_alter_table("segment") as batch:
        batch.add_column(sa.Column("speaker", sa.String(40), nullable=True))
        batch.add_column(sa.Column("origin", sa.Integer(), nullable=True))
    op.create_table(
        "speaker_name",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("speaker", sa.String(40), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("review_item_id", sa.Integer(), nullable=True),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("media_id", "speaker", name="uq_speaker_name"),
    )
    op.create_index("ix_speaker_name_media_id", "speaker_name", ["media_id"])
    op.create_table(
        "speaker_move",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("from_speaker", sa.String(40), nullable=True),
        sa.Column("to_speaker", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("review_item_id", sa.Integer(), nullable=True),
        sa.Column("set_by", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_speaker_move_media_id", "speaker_move", ["media_id"])


def downgrade() -> None:
    op.drop_index("ix_speaker_move_media_id", "speaker_move")
    op.drop_table("speaker_move")
    op.drop_index("ix_speaker_name_media_id", "speaker_name")
    op.drop_table("speaker_name")
    with op.batch_alter_table("segment") as batch:
        batch.drop_column("origin")
        batch.drop_column("speaker")
    with op.batch_alter_table("transcript") as batch:
        batch.drop_column("speaker_info")
        batch.drop_column("speaker_status")
