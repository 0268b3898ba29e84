"""Delivery statuses that arrive before the sender has recorded the sid they are about.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "early_delivery_statuses",
        sa.Column("provider_sid", sa.String(64), primary_key=True),
        sa.Column("delivery_status", sa.String(20), nullable=False),
        sa.Column("delivery_error_code", sa.String(10), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("early_delivery_statuses")
