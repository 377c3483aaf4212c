"""Sign-in throttling per name and address, per known device and per address (issue 14).

``login_throttle`` holds one counter per key, taken under a row lock at each attempt; it
replaces ``login_attempt``, one row per attempt that was counted, then written, so that
attempts at once all read the same count. Its rows only ever counted the last day's
attempts, so the upgrade drops them: counting starts afresh.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("scope", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", TZ, nullable=False),
        sa.Column("locked_until", TZ, nullable=True),
        sa.UniqueConstraint("scope", "name", "source", name="uq_login_throttle_key"),
    )
    op.create_index("ix_login_throttle_last_failed_at", "login_throttle", ["last_failed_at"])
    op.drop_index("ix_login_attempt_name", "login_attempt")
    op.drop_index("ix_login_attempt_client", "login_attempt")
    op.drop_table("login_attempt")


def downgrade() -> None:
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
    op.drop_index("ix_login_throttle_last_failed_at", "login_throttle")
    op.drop_table("login_throttle")
