"""Notifications' tables (its own database)."""

from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid

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
    Column("territory", String(100), nullable=False, index=True),
    Column("capacity", Integer, nullable=True),
    Column("booked", Integer, nullable=False, server_default="0"),
    # `booked` counts active bookings; only `take_seat`/`release_seat` change it, atomically.
)

outbox, inbox = messaging_tables(metadata)
