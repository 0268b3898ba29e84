"""Several reminders per booking (the day before, two hours before…): the send log keys a message by its lead too.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("lead_minutes", sa.Integer(), nullable=False, server_default="0"))
        batch.drop_constraint("uq_messages_booking_kind_version", type_="unique")
        batch.create_unique_constraint(
            "uq_messages_booking_kind_version_lead", ["booking_id", "kind", "version", "lead_minutes"]
        )


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_constraint("uq_messages_booking_kind_version_lead", type_="unique")
        batch.create_unique_constraint("uq_messages_booking_kind_version", ["booking_id", "kind", "version"])
        batch.drop_column("lead_minutes")
