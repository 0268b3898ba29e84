"""Accounts that log in (login, role, territories or conseiller, scrypt hash of the password),
and the failed logins the brute-force guard counts.

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
    op.create_table(
        "accounts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("login", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("territories", sa.JSON(), nullable=False),
        sa.Column("conseiller_id", sa.Uuid(), sa.ForeignKey("conseillers.id"), nullable=True, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "failed_logins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("login", sa.String(254), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_failed_logins_login", "failed_logins", ["login"])


def downgrade() -> None:
    op.drop_index("ix_failed_logins_login", table_name="failed_logins")
    op.drop_table("failed_logins")
    op.drop_table("accounts")
