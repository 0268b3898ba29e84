"""Communes, territories, structures, lieux, conseillers, absences, demand, outbox and inbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_messaging_tables, drop_messaging_tables

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "demand",
    "absences",
    "conseiller_territories",
    "conseillers",
    "lieux",
    "structures",
    "territory_communes",
    "territories",
    "reference_data",
    "communes",
)


def upgrade() -> None:
    op.create_table(
        "communes",
        sa.Column("insee", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("departement", sa.String(length=3), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("epci_siren", sa.String(length=9), nullable=True),
        sa.Column("epci_name", sa.String(length=200), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("mairie_latitude", sa.Float(), nullable=True),
        sa.Column("mairie_longitude", sa.Float(), nullable=True),
        sa.Column("mairie_address", sa.String(length=300), nullable=True),
        sa.Column("mairie_opening_hours", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("insee"),
    )
    op.create_index(op.f("ix_communes_departement"), "communes", ["departement"], unique=False)
    op.create_index(op.f("ix_communes_epci_siren"), "communes", ["epci_siren"], unique=False)
    op.create_table(
        "reference_data",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "territories",
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("holiday_calendar", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "demand",
        sa.Column("commune", sa.String(length=5), nullable=False),
        sa.Column("individual_hours", sa.Float(), nullable=False),
        sa.Column("atelier_hours", sa.Float(), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune"],
            ["communes.insee"],
        ),
        sa.PrimaryKeyConstraint("commune"),
    )
    op.create_table(
        "structures",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("commune", sa.String(length=5), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("siret", sa.String(length=14), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune"],
            ["communes.insee"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_structures_commune"), "structures", ["commune"], unique=False)
    op.create_table(
        "territory_communes",
        sa.Column("territory_code", sa.String(length=80), nullable=False),
        sa.Column("insee", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["insee"],
            ["communes.insee"],
        ),
        sa.ForeignKeyConstraint(["territory_code"], ["territories.code"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("territory_code", "insee"),
    )
    op.create_index(op.f("ix_territory_communes_insee"), "territory_communes", ["insee"], unique=False)
    op.create_table(
        "lieux",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("structure_id", sa.Uuid(), nullable=True),
        sa.Column("commune", sa.String(length=5), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("has_computers", sa.Boolean(), nullable=False),
        sa.Column("accessible", sa.Boolean(), nullable=False),
        sa.Column("opening_hours", sa.Text(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commune"],
            ["communes.insee"],
        ),
        sa.ForeignKeyConstraint(
            ["structure_id"],
            ["structures.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id"),
    )
    op.create_index(op.f("ix_lieux_commune"), "lieux", ["commune"], unique=False)
    op.create_table(
        "conseillers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("employer_structure_id", sa.Uuid(), nullable=False),
        sa.Column("home_lieu_id", sa.Uuid(), nullable=False),
        sa.Column("weekly_hours", sa.Float(), nullable=False),
        sa.Column("availability", sa.JSON(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("travel_mode", sa.String(length=20), nullable=False),
        sa.Column("max_travel_minutes_per_day", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_structure_id"],
            ["structures.id"],
        ),
        sa.ForeignKeyConstraint(
            ["home_lieu_id"],
            ["lieux.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "absences",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("conseiller_id", sa.Uuid(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("start_half", sa.String(length=2), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("end_half", sa.String(length=2), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["conseiller_id"], ["conseillers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_absences_conseiller_id"), "absences", ["conseiller_id"], unique=False)
    op.create_table(
        "conseiller_territories",
        sa.Column("conseiller_id", sa.Uuid(), nullable=False),
        sa.Column("territory_code", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(["conseiller_id"], ["conseillers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["territory_code"],
            ["territories.code"],
        ),
        sa.PrimaryKeyConstraint("conseiller_id", "territory_code"),
    )
    op.create_index(
        op.f("ix_conseiller_territories_territory_code"), "conseiller_territories", ["territory_code"], unique=False
    )

    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
    for table in TABLES:
        op.drop_table(table)
