"""The send log (messages to usagers, one per booking, kind and version); bookings learn their version and
why they were cancelled.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("cancel_reason", sa.String(500), nullable=True))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("booking_id", sa.Uuid(), sa.ForeignKey("bookings.id"), nullable=False),
        sa.Column("usager_id", sa.Uuid(), sa.ForeignKey("usagers.id"), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("booking_id", "kind", "version", name="uq_messages_booking_kind_version"),
    )
    op.create_index("ix_messages_usager_id", "messages", ["usager_id"])
    op.create_index("ix_messages_status_due_at", "messages", ["status", "due_at"])


def downgrade() -> None:
    op.drop_table("messages")
    with op.batch_alter_table("bookings") as batch:
        batch.drop_column("version")
        batch.drop_column("cancel_reason")
