"""Twilio's webhooks applied (inbound SMS by MessageSid, status callbacks by MessageSid and MessageStatus), so
that a replayed one is refused.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbound_sms",
        sa.Column("message_sid", sa.String(64), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_token", sa.String(100), nullable=True),
    )
    op.create_table(
        "status_callbacks",
        sa.Column("message_sid", sa.String(64), primary_key=True),
        sa.Column("message_status", sa.String(20), primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_token", sa.String(100), nullable=True),
    )
    op.create_index("ix_status_callbacks_received_at", "status_callbacks", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_status_callbacks_received_at", table_name="status_callbacks")
    op.drop_table("status_callbacks")
    op.drop_table("inbound_sms")
