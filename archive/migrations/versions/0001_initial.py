"""Initial schema: records, their files, seals and the quarantine list.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "records",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("series_code", sa.String(64), nullable=True),
        sa.Column("access", sa.String(16), nullable=False),
        sa.Column("closed_year", sa.Integer, nullable=True),
        sa.Column("doc_number", sa.String(128), nullable=False, server_default=""),
        sa.Column("doc_type", sa.String(128), nullable=False, server_default=""),
        sa.Column("issuer", sa.Text, nullable=False, server_default=""),
        sa.Column("issued_date", sa.Date, nullable=True),
        sa.Column("place", sa.String(128), nullable=False, server_default=""),
        sa.Column("subject", sa.Text, nullable=False, server_default=""),
        sa.Column("language", sa.String(16), nullable=False, server_default="vi"),
        sa.Column("page_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("source_name", sa.Text, nullable=False, server_default=""),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_records_series_code", "records", ["series_code"])
    op.create_table(
        "record_files",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(32), sa.ForeignKey("records.id"), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("media_type", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.UniqueConstraint("record_id", "role", "sha256"),
    )
    op.create_index("ix_record_files_record_id", "record_files", ["record_id"])
    op.create_index("ix_record_files_sha256", "record_files", ["sha256"])
    op.create_table(
        "seals",
        sa.Column("record_id", sa.String(32), sa.ForeignKey("records.id"), primary_key=True),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source_path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_quarantine_sha256", "quarantine", ["sha256"])


def downgrade() -> None:
    op.drop_table("quarantine")
    op.drop_table("seals")
    op.drop_index("ix_record_files_sha256", "record_files")
    op.drop_index("ix_record_files_record_id", "record_files")
    op.drop_table("record_files")
    op.drop_index("ix_records_series_code", "records")
    op.drop_table("records")
