"""Retention: users with roles and hashed API keys, legal holds, disposal lists with their
items and approvals, and each record's status (active, proposed for destruction, destroyed,
transferred).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("records") as batch:
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("disposed_at", _WHEN, nullable=True))
        batch.add_column(sa.Column("disposed_by", sa.Text, nullable=True))
        batch.add_column(sa.Column("disposal_list_id", sa.Integer, nullable=True))
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("clearance", sa.String(16), nullable=False),
        sa.Column("key_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("disabled_at", _WHEN, nullable=True),
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("released_by", sa.Text, nullable=True),
        sa.Column("released_at", _WHEN, nullable=True),
    )
    op.create_table(
        "hold_records",
        sa.Column("hold_id", sa.Integer, sa.ForeignKey("holds.id"), primary_key=True),
        sa.Column("record_id", sa.String(32), primary_key=True),
    )
    op.create_index("ix_hold_records_record_id", "hold_records", ["record_id"])
    op.create_table(
        "disposal_lists",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("proposed_by", sa.Text, nullable=False),
        sa.Column("proposed_at", _WHEN, nullable=False),
        sa.Column("executed_by", sa.Text, nullable=True),
        sa.Column("executed_at", _WHEN, nullable=True),
        sa.Column("report_record_id", sa.String(32), nullable=True),
    )
    op.create_table(
        "disposal_items",
        sa.Column("list_id", sa.Integer, sa.ForeignKey("disposal_lists.id"), primary_key=True),
        sa.Column("record_id", sa.String(32), primary_key=True),
        sa.Column("done", sa.Boolean, nullable=False),
    )
    op.create_index("ix_disposal_items_record_id", "disposal_items", ["record_id"])
    op.create_table(
        "approvals",
        sa.Column("list_id", sa.Integer, sa.ForeignKey("disposal_lists.id"), primary_key=True),
        sa.Column("user_name", sa.String(128), primary_key=True),
        sa.Column("approved_at", _WHEN, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "approvals",
        "disposal_items",
        "disposal_lists",
        "hold_records",
        "holds",
        "users",
    ):
        op.drop_table(table)
    with op.batch_alter_table("records") as batch:
        for column in ("disposal_list_id", "disposed_by", "disposed_at", "status"):
            batch.drop_column(column)
