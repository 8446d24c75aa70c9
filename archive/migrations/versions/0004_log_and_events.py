"""The append-only log (entries, Merkle tree nodes, head, signed checkpoints), PREMIS-style
events, a second hash (sha512) per file, who ingested a record and its incoming signatures.

The log starts empty; records sealed before it are appended by ``luutru migrate`` (it needs
the signing key, which a migration script must not touch), in the order they were sealed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "records", sa.Column("ingested_by", sa.String(128), nullable=False, server_default="")
    )
    op.add_column("records", sa.Column("signatures", sa.JSON, nullable=True))
    op.add_column("record_files", sa.Column("sha512", sa.String(128), nullable=True))
    op.create_table(
        "log_entries",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(32), nullable=True),
        sa.Column("entry_sha256", sa.String(64), nullable=False),
        sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_log_entries_record_id", "log_entries", ["record_id"])
    op.create_index("ix_log_entries_entry_sha256", "log_entries", ["entry_sha256"])
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
    )
    head = op.create_table(
        "log_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
    )
    # The log's name in its checkpoints: unique to this archive, fixed for its lifetime.
    op.bulk_insert(head, [{"id": 1, "origin": f"luutru.archive/{secrets.token_hex(8)}", "size": 0}])
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("witnessed_note", sa.Text, nullable=True),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(32), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("agent", sa.String(128), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_events_at", "events", ["at"])
    op.create_index("ix_events_record_id", "events", ["record_id"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("log_checkpoints")
    op.drop_table("log_head")
    op.drop_table("log_nodes")
    op.drop_index("ix_log_entries_entry_sha256", "log_entries")
    op.drop_index("ix_log_entries_record_id", "log_entries")
    op.drop_table("log_entries")
    with op.batch_alter_table("record_files") as batch:
        batch.drop_column("sha512")
    with op.batch_alter_table("records") as batch:
        batch.drop_column("signatures")
        batch.drop_column("ingested_by")
