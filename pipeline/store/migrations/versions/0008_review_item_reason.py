"""Why a review item was dismissed or released, and who did it (issue 15): the queue shows it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_item") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reason_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_item") as batch:
        batch.drop_column("reason_by")
        batch.drop_column("reason")
