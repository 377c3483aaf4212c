"""The audit chain is signed: each audit row names the audit key that signed it.

Rows written before have no key id; they keep their plain SHA-256 chain and are sealed
by the first signed row (pipeline/store/audit.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit", sa.Column("key_id", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("key_id")
