"""The original's full sha256 as the record's unique key; the history of record edits.

Record ids stay as they are (24 hex characters of the sha256); the full hash becomes the key
that finds a record by its original, so a colliding id prefix can no longer be mistaken for
the same file.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("original_sha256", sa.String(64), nullable=True))
    op.execute(
        "UPDATE records SET original_sha256 = (SELECT f.sha256 FROM record_files f "
        "WHERE f.record_id = records.id AND f.role = 'original')"
    )
    op.create_index("ix_records_original_sha256", "records", ["original_sha256"], unique=True)
    op.create_table(
        "record_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(32), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("old_value", sa.Text, nullable=True),
        sa.Column("new_value", sa.Text, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("changed_by", sa.String(128), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_record_changes_record_id", "record_changes", ["record_id"])


def downgrade() -> None:
    op.drop_index("ix_record_changes_record_id", "record_changes")
    op.drop_table("record_changes")
    op.drop_index("ix_records_original_sha256", "records")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("original_sha256")
