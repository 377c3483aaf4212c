"""The review app: accounts, sessions, sign-in attempts, claims and annotations.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
    )
    op.create_table(
        "web_session",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("last_seen_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
    )
    op.create_index("ix_web_session_user_id", "web_session", ["user_id"])
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_index("ix_login_attempt_name", "login_attempt", ["name", "at"])
    op.create_index("ix_login_attempt_client", "login_attempt", ["client", "at"])
    op.create_table(
        "annotation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "media_id", sa.Integer(), sa.ForeignKey("media.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "review_item_id", sa.Integer(),
            sa.ForeignKey("review_item.id", ondelete="SET NULL"), nullable=True,
        ),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("labels", sa.Text(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.Column("teaching", sa.Boolean(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("submitted_at", TZ, nullable=True),
    )
    op.create_index("ix_annotation_media_id", "annotation", ["media_id"])
    op.create_index("ix_annotation_review_item_id", "annotation", ["review_item_id"])
    op.create_index("ix_annotation_author_id", "annotation", ["author_id"])
    # Plain columns (no foreign key), so SQLite adds them without rebuilding the table.
    for column in ("claimed_by", "reviewed_by"):
        op.add_column("review_item", sa.Column(column, sa.Integer(), nullable=True))
        op.create_index(f"ix_review_item_{column}", "review_item", [column])
    for column in ("claimed_at", "reviewed_at"):
        op.add_column("review_item", sa.Column(column, TZ, nullable=True))


def downgrade() -> None:
    for index in ("ix_review_item_claimed_by", "ix_review_item_reviewed_by"):
        op.drop_index(index, "review_item")
    with op.batch_alter_table("review_item") as batch:
        for column in ("claimed_by", "claimed_at", "reviewed_by", "reviewed_at"):
            batch.drop_column(column)
    op.drop_table("annotation")
    op.drop_table("login_attempt")
    op.drop_table("web_session")
    op.drop_table("user_account")
