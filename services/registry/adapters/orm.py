"""The registry's tables (its own database)."""

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Uuid

from shared.outbox import messaging_tables

metadata = MetaData()

conseillers = Table(
    "conseillers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("home_commune", String(5), nullable=False),
    Column("weekly_hours", Float, nullable=False),
    Column("version", Integer, nullable=False),
)

outbox, inbox = messaging_tables(metadata)
