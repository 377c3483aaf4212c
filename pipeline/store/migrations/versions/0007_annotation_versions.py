"""A submitted annotation is never changed: a correction is a new version naming the one it
corrects, which is kept and marked superseded.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("annotation") as batch:
        batch.add_column(sa.Column("supersedes_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_annotation_supersedes_id", "annotation", ["supersedes_id"])


def downgrade() -> None:
    op.drop_index("ix_annotation_supersedes_id", "annotation")
    with op.batch_alter_table("annotation") as batch:
        batch.drop_column("superseded_at")
        batch.drop_column("supersedes_id")
