"""What ingest found wanting in a record but archived anyway (digitization checks, unsure
metadata), the document's type name as written ("QUYẾT ĐỊNH"), and each page's OCR
confidence.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("warnings", sa.JSON, nullable=True))
    op.add_column(
        "records", sa.Column("type_name", sa.String(128), nullable=False, server_default="")
    )
    op.add_column("records", sa.Column("pages", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.drop_column("pages")
        batch.drop_column("type_name")
        batch.drop_column("warnings")
