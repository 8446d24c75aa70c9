"""Why a hold was released (as a hold says why it was put), and who cancelled a disposal list,
when and why: a cancelled list releases its records for a new proposal.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("holds") as batch:
        batch.add_column(sa.Column("release_reason", sa.Text, nullable=True))
    with op.batch_alter_table("disposal_lists") as batch:
        batch.add_column(sa.Column("cancelled_by", sa.Text, nullable=True))
        batch.add_column(sa.Column("cancelled_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("cancel_reason", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disposal_lists") as batch:
        batch.drop_column("cancel_reason")
        batch.drop_column("cancelled_at")
        batch.drop_column("cancelled_by")
    with op.batch_alter_table("holds") as batch:
        batch.drop_column("release_reason")
