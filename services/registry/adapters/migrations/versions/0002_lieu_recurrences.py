"""Recurrences of a lieu (a coordinator's standing requests: "an atelier every Friday 16:00-17:00"),
as a JSON list on the lieu; existing lieux have none.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("lieux", sa.Column("recurrences", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("lieux") as batch:
        batch.drop_column("recurrences")
