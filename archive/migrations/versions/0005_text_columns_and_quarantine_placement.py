"""Unbounded text for metadata that comes from outside (edXML headers, edits): PostgreSQL
refused values over 128 characters that SQLite took. Quarantine entries keep the access
level, series and closed year their input was given, for `quarantine retry`.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_WIDENED = {
    "records": [
        ("series_code", sa.String(64)),
        ("doc_number", sa.String(128)),
        ("doc_type", sa.String(128)),
        ("type_name", sa.String(128)),
        ("place", sa.String(128)),
        ("language", sa.String(16)),
        ("ingested_by", sa.String(128)),
    ],
    "record_files": [("media_type", sa.String(128))],
    "record_changes": [("changed_by", sa.String(128))],
    "events": [("agent", sa.String(128))],
}


def upgrade() -> None:
    for table, columns in _WIDENED.items():
        with op.batch_alter_table(table) as batch:
            for name, old in columns:
                batch.alter_column(name, type_=sa.Text(), existing_type=old)
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("access", sa.String(16), nullable=True))
        batch.add_column(sa.Column("series_code", sa.Text, nullable=True))
        batch.add_column(sa.Column("closed_year", sa.Integer, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("closed_year")
        batch.drop_column("series_code")
        batch.drop_column("access")
    for table, columns in _WIDENED.items():
        with op.batch_alter_table(table) as batch:
            for name, old in columns:
                batch.alter_column(name, type_=old, existing_type=sa.Text())
