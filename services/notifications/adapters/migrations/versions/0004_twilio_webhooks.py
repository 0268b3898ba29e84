"""Twilio's webhooks: usagers opt out of SMS (STOP) and back in (START); messages learn their provider sid
and delivery status.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("usagers") as batch:
        batch.add_column(sa.Column("sms_opted_out", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("provider_sid", sa.String(64), nullable=True))
        batch.add_column(sa.Column("delivery_status", sa.String(20), nullable=True))
        batch.add_column(sa.Column("delivery_error_code", sa.String(10), nullable=True))
        batch.create_unique_constraint("uq_messages_provider_sid", ["provider_sid"])


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("uq_messages_provider_sid", type_="unique")
        batch.drop_column("delivery_error_code")
        batch.drop_column("delivery_status")
        batch.drop_column("provider_sid")
    with op.batch_alter_table("usagers") as batch:
        batch.drop_column("opted_out_at")
        batch.drop_column("sms_opted_out")
