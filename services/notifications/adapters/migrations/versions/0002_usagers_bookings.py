"""Permanences learn their territory, capacity and seats taken; usagers and their bookings.

Permanences copied before this revision get the territory "" (admins only, until their plan is
published again) and the capacity the domain gives (``model.capacity_of``, copied here so the
revision does not change with the code): one appointment per 30 minutes for an individual
permanence, not limited for an atelier (its seats were not sent then).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.db import UtcDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("permanences") as batch:
        batch.add_column(sa.Column("territory", sa.String(100), nullable=False, server_default=""))
        batch.add_column(sa.Column("capacity", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("booked", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_permanences_territory", "permanences", ["territory"])
    _fill_capacities()
    op.create_table(
        "usagers",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone_encrypted", sa.Text(), nullable=True),
        sa.Column("phone_hash", sa.String(64), nullable=True),
        sa.Column("email_encrypted", sa.Text(), nullable=True),
        sa.Column("email_hash", sa.String(64), nullable=True),
        sa.Column("preferred_channel", sa.String(10), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("territory", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_booking_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_usagers_phone_hash", "usagers", ["phone_hash"])
    op.create_index("ix_usagers_email_hash", "usagers", ["email_hash"])
    op.create_index("ix_usagers_territory", "usagers", ["territory"])
    op.create_table(
        "bookings",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("usager_id", sa.Uuid(), sa.ForeignKey("usagers.id"), nullable=False),
        sa.Column("permanence_id", sa.Uuid(), sa.ForeignKey("permanences.id"), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_bookings_usager_id", "bookings", ["usager_id"])
    op.create_index("ix_bookings_permanence_id", "bookings", ["permanence_id"])
    active = sa.text("status = 'booked'")
    op.create_index(
        "ux_bookings_active",
        "bookings",
        ["usager_id", "permanence_id"],
        unique=True,
        sqlite_where=active,
        postgresql_where=active,
    )


def _fill_capacities() -> None:
    table = sa.table(
        "permanences",
        sa.column("id", sa.Uuid()),
        sa.column("kind", sa.String()),
        sa.column("starts_at", UtcDateTime()),
        sa.column("ends_at", UtcDateTime()),
        sa.column("capacity", sa.Integer()),
    )
    connection = op.get_bind()
    for row in connection.execute(sa.select(table)).all():
        if row.kind == "atelier":
            continue
        capacity = max(1, (row.ends_at - row.starts_at) // dt.timedelta(minutes=30))
        connection.execute(sa.update(table).where(table.c.id == row.id).values(capacity=capacity))


def downgrade() -> None:
    op.drop_table("bookings")
    op.drop_table("usagers")
    op.drop_index("ix_permanences_territory", table_name="permanences")
    with op.batch_alter_table("permanences") as batch:
        batch.drop_column("booked")
        batch.drop_column("capacity")
        batch.drop_column("territory")
