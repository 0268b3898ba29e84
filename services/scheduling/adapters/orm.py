"""Scheduling's tables (its own database): the local copy of the registry, and plans.

The copy's free-text columns are ``Text``: the event contracts put no length limit on them,
and a copy must never refuse (on Postgres only) what the registry accepted.
"""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

from shared.db import UtcDateTime
from shared.outbox import messaging_tables

metadata = MetaData()

# --- the copy of the registry, fed by registry events only ------------------------------------

territories = Table(
    "territories",
    metadata,
    Column("code", String(100), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("name", Text, nullable=False),
    Column("time_zone", Text, nullable=False),
    Column("holiday_calendar", Text, nullable=False),
)

territory_communes = Table(
    "territory_communes",
    metadata,
    Column("code", String(100), ForeignKey("territories.code", ondelete="CASCADE"), primary_key=True),
    Column("insee", String(5), primary_key=True),
    Column("name", Text, nullable=False),
    Column("population", Integer, nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
)
Index("ix_territory_communes_insee", territory_communes.c.insee)

structures = Table(
    "structures",
    metadata,
    Column("structure_id", Uuid, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("commune", String(5), nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("archived", Boolean, nullable=False),
)

lieux = Table(
    "lieux",
    metadata,
    Column("lieu_id", Uuid, primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("structure_id", Uuid, nullable=True),
    Column("commune", String(5), nullable=False, index=True),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("has_computers", Boolean, nullable=False),
    Column("accessible", Boolean, nullable=False),
    Column("opening_hours", Text, nullable=False),
    Column("closed", Boolean, nullable=False),
    Column("recurrences", JSON, nullable=False, server_default="[]"),
)

conseillers = Table(
    "conseillers",
    metadata,
    Column("conseiller_id", Uuid, primary_key=True),
    Column("name", Text, nullable=False),
    Column("employer_structure_id", Uuid, nullable=False),
    Column("home_lieu_id", Uuid, nullable=False),
    Column("weekly_hours", Float, nullable=False),
    Column("availability", JSON, nullable=False),
    Column("skills", JSON, nullable=False),
    Column("travel_mode", String(30), nullable=False),
    Column("max_travel_minutes_per_day", Integer, nullable=False),
    Column("territories", JSON, nullable=False),
    Column("archived", Boolean, nullable=False),
)

absences = Table(
    "absences",
    metadata,
    Column("absence_id", Uuid, primary_key=True),
    Column("conseiller_id", Uuid, nullable=False, index=True),
    Column("start_date", Date, nullable=False),
    Column("start_half", String(2), nullable=False),
    Column("end_date", Date, nullable=False),
    Column("end_half", String(2), nullable=False),
    Column("kind", String(30), nullable=False),
)

demand = Table(
    "demand",
    metadata,
    Column("commune", String(5), primary_key=True),
    Column("individual_hours", Float, nullable=False),
    Column("atelier_hours", Float, nullable=False),
    Column("overridden", Boolean, nullable=False),
)

# --- scheduling's own data ------------------------------------------------------------------

plans = Table(
    "plans",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("territory", String(100), nullable=False),
    Column("week_start", Date, nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("figures", JSON, nullable=True),
    Column("replaces", Uuid, nullable=True),
    Column("reason", Text, nullable=True),
)

permanences = Table(
    "permanences",
    metadata,
    # A permanence a re-plan keeps keeps its id (bookings stay attached): one id, several plans.
    Column("plan_id", Uuid, ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    Column("id", Uuid, primary_key=True, index=True),
    Column("conseiller_id", Uuid, nullable=False),
    Column("commune", String(5), nullable=False),
    Column("lieu", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("lieu_id", Uuid, nullable=True),
    Column("pinned", Boolean, nullable=False, default=False),
)

solve_requests = Table(
    "solve_requests",
    metadata,
    # The id is the plan's a plan or re-plan request makes: asking twice gives the same plan.
    Column("id", Uuid, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("territory", String(100), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("requested_by", Text, nullable=True),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("worker", Text, nullable=True),
    Column("started_at", UtcDateTime(), nullable=True),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("progress", JSON, nullable=True),
    Column("result", JSON, nullable=True),
    Column("error", Text, nullable=True),
)
Index("ix_solve_requests_territory_requested_at", solve_requests.c.territory, solve_requests.c.requested_at)

solver_leases = Table(
    "solver_leases",
    metadata,
    # One row per territory being solved: the primary key makes "one solve per territory at a
    # time" hold across replicas; a replica that dies stops renewing, and the lease expires.
    Column("territory", String(100), primary_key=True),
    Column("request_id", Uuid, nullable=False),
    Column("holder", Text, nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
)

outbox, inbox = messaging_tables(metadata)
