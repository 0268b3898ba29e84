"""Scheduling's tables (its own database): the local copy of the registry, and plans."""

from sqlalchemy import Column, Date, Float, ForeignKey, Integer, MetaData, String, Table, Uuid

from shared.db import UtcDateTime
from shared.outbox import messaging_tables

metadata = MetaData()

conseillers = Table(
    "conseillers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("home_commune", String(5), nullable=False),
    Column("weekly_hours", Float, nullable=False),
)

plans = Table(
    "plans",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("territory", String(100), nullable=False),
    Column("week_start", Date, nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
)

permanences = Table(
    "permanences",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("plan_id", Uuid, ForeignKey("plans.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("conseiller_id", Uuid, nullable=False),
    Column("commune", String(5), nullable=False),
    Column("lieu", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
)

outbox, inbox = messaging_tables(metadata)
