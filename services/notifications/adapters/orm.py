"""Notifications' tables (its own database)."""

from sqlalchemy import Column, MetaData, String, Table, Uuid

from shared.db import UtcDateTime
from shared.outbox import messaging_tables

metadata = MetaData()

permanences = Table(
    "permanences",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("plan_id", Uuid, nullable=False, index=True),
    Column("conseiller_id", Uuid, nullable=False),
    Column("commune", String(5), nullable=False),
    Column("lieu", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("starts_at", UtcDateTime(), nullable=False),
    Column("ends_at", UtcDateTime(), nullable=False),
    Column("time_zone", String(64), nullable=False),
)

outbox, inbox = messaging_tables(metadata)
