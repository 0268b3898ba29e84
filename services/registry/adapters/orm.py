"""The registry's tables (its own database)."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
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

communes = Table(
    "communes",
    metadata,
    Column("insee", String(5), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("population", Integer, nullable=False),
    Column("departement", String(3), nullable=False, index=True),
    Column("region", String(2), nullable=False),
    Column("epci_siren", String(9), nullable=True, index=True),
    Column("epci_name", String(200), nullable=True),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("mairie_latitude", Float, nullable=True),
    Column("mairie_longitude", Float, nullable=True),
    Column("mairie_address", String(300), nullable=True),
    Column("mairie_opening_hours", Text, nullable=True),
)

reference_data = Table(
    "reference_data",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("checksum", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("loaded_at", UtcDateTime(), nullable=False),
)

territories = Table(
    "territories",
    metadata,
    Column("code", String(80), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("holiday_calendar", String(20), nullable=False),
    Column("version", Integer, nullable=False),
)

territory_communes = Table(
    "territory_communes",
    metadata,
    Column("territory_code", String(80), ForeignKey("territories.code", ondelete="CASCADE"), primary_key=True),
    Column("insee", String(5), ForeignKey("communes.insee"), primary_key=True, index=True),
)

structures = Table(
    "structures",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("commune", String(5), ForeignKey("communes.insee"), nullable=False, index=True),
    Column("address", String(300), nullable=False),
    Column("latitude", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("siret", String(14), nullable=True),
    Column("archived", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
)

lieux = Table(
    "lieux",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("structure_id", Uuid, ForeignKey("structures.id"), nullable=True),
    Column("commune", String(5), ForeignKey("communes.insee"), nullable=False, index=True),
    Column("address", String(300), nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("has_computers", Boolean, nullable=False),
    Column("accessible", Boolean, nullable=False),
    Column("opening_hours", Text, nullable=False),
    Column("recurrences", JSON, nullable=False, server_default="[]"),
    Column("external_id", String(200), nullable=True, unique=True),
    Column("closed", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
)

conseillers = Table(
    "conseillers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("phone", String(20), nullable=True),
    Column("employer_structure_id", Uuid, ForeignKey("structures.id"), nullable=False),
    Column("home_lieu_id", Uuid, ForeignKey("lieux.id"), nullable=False),
    Column("weekly_hours", Float, nullable=False),
    Column("availability", JSON, nullable=False),
    Column("skills", JSON, nullable=False),
    Column("travel_mode", String(20), nullable=False),
    Column("max_travel_minutes_per_day", Integer, nullable=False),
    Column("archived", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
)

conseiller_territories = Table(
    "conseiller_territories",
    metadata,
    Column("conseiller_id", Uuid, ForeignKey("conseillers.id", ondelete="CASCADE"), primary_key=True),
    Column("territory_code", String(80), ForeignKey("territories.code"), primary_key=True, index=True),
)

absences = Table(
    "absences",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("conseiller_id", Uuid, ForeignKey("conseillers.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("start_date", Date, nullable=False),
    Column("start_half", String(2), nullable=False),
    Column("end_date", Date, nullable=False),
    Column("end_half", String(2), nullable=False),
    Column("kind", String(20), nullable=False),
)

demand = Table(
    "demand",
    metadata,
    Column("commune", String(5), ForeignKey("communes.insee"), primary_key=True),
    Column("individual_hours", Float, nullable=False),
    Column("atelier_hours", Float, nullable=False),
    Column("overridden", Boolean, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("login", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("territories", JSON, nullable=False),
    Column("conseiller_id", Uuid, ForeignKey("conseillers.id"), nullable=True, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

failed_logins = Table(
    "failed_logins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("login", String(254), nullable=False, index=True),
    Column("attempted_at", UtcDateTime(), nullable=False),
)

outbox, inbox = messaging_tables(metadata)
