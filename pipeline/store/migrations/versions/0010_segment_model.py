"""Which speech model produced each segment's words (issue 17, the second look): "tiny.en", or
"base" where a span was decoded again; NULL for transcripts stored before.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("segment") as batch:
        batch.add_column(sa.Column("model", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("segment") as batch:
        batch.drop_column("model")
