"""Local copy of the registry (territories and their communes, structures, lieux, conseillers,
absences, demand), plans, permanences, outbox and inbox.

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


def upgrade() -> None:
    op.create_table(
        "territories",
        sa.Column("code", sa.String(100), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.Text(), nullable=False),
        sa.Column("holiday_calendar", sa.Text(), nullable=False),
    )
    op.create_table(
        "territory_communes",
        sa.Column("code", sa.String(100), sa.ForeignKey("territories.code", ondelete="CASCADE"), primary_key=True),
        sa.Column("insee", sa.String(5), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
    )
    op.create_index("ix_territory_communes_insee", "territory_communes", ["insee"])
    op.create_table(
        "structures",
        sa.Column("structure_id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("commune", sa.String(5), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("archived", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "lieux",
        sa.Column("lieu_id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("structure_id", sa.Uuid(), nullable=True),
        sa.Column("commune", sa.String(5), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("has_computers", sa.Boolean(), nullable=False),
        sa.Column("accessible", sa.Boolean(), nullable=False),
        sa.Column("opening_hours", sa.Text(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_lieux_commune", "lieux", ["commune"])
    op.create_table(
        "conseillers",
        sa.Column("conseiller_id", sa.Uuid(), primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("employer_structure_id", sa.Uuid(), nullable=False),
        sa.Column("home_lieu_id", sa.Uuid(), nullable=False),
        sa.Column("weekly_hours", sa.Float(), nullable=False),
        sa.Column("availability", sa.JSON(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("travel_mode", sa.String(30), nullable=False),
        sa.Column("max_travel_minutes_per_day", sa.Integer(), nullable=False),
        sa.Column("territories", sa.JSON(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "absences",
        sa.Column("absence_id", sa.Uuid(), primary_key=True),
        sa.Column("conseiller_id", sa.Uuid(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("start_half", sa.String(2), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("end_half", sa.String(2), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
    )
    op.create_index("ix_absences_conseiller_id", "absences", ["conseiller_id"])
    op.create_table(
        "demand",
        sa.Column("commune", sa.String(5), primary_key=True),
        sa.Column("individual_hours", sa.Float(), nullable=False),
        sa.Column("atelier_hours", sa.Float(), nullable=False),
        sa.Column("overridden", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("territory", sa.String(100), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=True),
        sa.Column("replaces", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    )
    op.create_table(
        "permanences",
        sa.Column("plan_id", sa.Uuid(), sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("conseiller_id", sa.Uuid(), nullable=False),
        sa.Column("commune", sa.String(5), nullable=False),
        sa.Column("lieu", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lieu_id", sa.Uuid(), nullable=True),
        sa.Column("pinned", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_permanences_id", "permanences", ["id"])
    op.create_table(
        "replan_requests",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("plan_id", sa.Uuid(), sa.ForeignKey("plans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_replan_requests_pending",
        "replan_requests",
        ["requested_at"],
        sqlite_where=sa.text("done_at IS NULL"),
        postgresql_where=sa.text("done_at IS NULL"),
    )
    create_messaging_tables()


def downgrade() -> None:
    drop_messaging_tables()
    op.drop_table("replan_requests")
    op.drop_index("ix_permanences_id", table_name="permanences")
    op.drop_table("permanences")
    op.drop_table("plans")
    op.drop_table("demand")
    op.drop_index("ix_absences_conseiller_id", table_name="absences")
    op.drop_table("absences")
    op.drop_table("conseillers")
    op.drop_index("ix_lieux_commune", table_name="lieux")
    op.drop_table("lieux")
    op.drop_table("structures")
    op.drop_index("ix_territory_communes_insee", table_name="territory_communes")
    op.drop_table("territory_communes")
    op.drop_table("territories")
