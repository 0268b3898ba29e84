"""Alembic, driven from code: each service has its own migrations and its own database."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Connection, MetaData
from sqlalchemy.ext.asyncio import AsyncEngine


def alembic_config(script_location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    return config


# Replicas of a service start together and each migrates: on Postgres they queue on this lock
# (held until the migration's transaction ends) instead of racing to create the same tables.
# A SQLite file belongs to one process (the embedded mode), so it needs none.
MIGRATION_LOCK = 7_471_263


async def upgrade(engine: AsyncEngine, script_location: Path, revision: str = "head") -> None:
    """Apply the service's migrations up to ``revision`` (idempotent, safe to run concurrently)."""
    config = alembic_config(script_location)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(_upgrade)


def run_migrations(metadata: MetaData, service: str) -> None:
    """Body of every service's ``env.py``: migrate on the connection handed over by ``upgrade``.

    Each service keeps its own version table, so two services pointed at one database by
    mistake fail loudly instead of taking each other's revisions for their own.
    """
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("apply migrations with `tournees migrate SERVICE`, not the alembic command")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=f"{service}_alembic_version",
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# The shape of the outbox and inbox as of each service's first migration. Never edit it:
# a later change to ``shared.outbox.messaging_tables`` gets a new function and a new revision.
def create_messaging_tables() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "outbox",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid(), nullable=False, unique=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stream_sequence", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["id"],
        postgresql_where=sa.text("published_at IS NULL"),
        sqlite_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    )


def drop_messaging_tables() -> None:
    op.drop_table("inbox")
    op.drop_index("ix_outbox_unpublished", table_name="outbox")
    op.drop_table("outbox")


# The outbox keeps the W3C trace context of the span that wrote each row (``shared.telemetry``).
def add_outbox_trace_context() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("trace_context", sa.JSON(), nullable=True))


def drop_outbox_trace_context() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("trace_context")
