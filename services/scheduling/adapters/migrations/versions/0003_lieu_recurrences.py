"""The recurrences of each lieu in the copy of the registry, a JSON list as in the registry's
events; lieux already copied get none (the events they came from carried none).

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
    op.add_column("lieux", sa.Column("recurrences", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("lieux") as batch:
        batch.drop_column("recurrences")
