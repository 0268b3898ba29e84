"""Each service's migrations build exactly the tables its code declares, on SQLite and Postgres."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from services.notifications.adapters import orm as notifications_orm
from services.notifications.bootstrap import MIGRATIONS as NOTIFICATIONS_MIGRATIONS
from services.registry.adapters import orm as registry_orm
from services.registry.bootstrap import MIGRATIONS as REGISTRY_MIGRATIONS
from services.scheduling.adapters import orm as scheduling_orm
from services.scheduling.bootstrap import MIGRATIONS as SCHEDULING_MIGRATIONS
from shared.migrations import alembic_config, upgrade

SERVICES = {
    "registry": (registry_orm.metadata, REGISTRY_MIGRATIONS),
    "scheduling": (scheduling_orm.metadata, SCHEDULING_MIGRATIONS),
    "notifications": (notifications_orm.metadata, NOTIFICATIONS_MIGRATIONS),
}


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_match_the_declared_tables(service, database):
    metadata, migrations = SERVICES[service]
    engine = database.engine()
    await upgrade(engine, migrations)
    await upgrade(engine, migrations)  # idempotent: a restart applies nothing twice

    def diff(connection):
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": f"{service}_alembic_version"}
        )
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert differences == []
    assert tables == {*metadata.tables, f"{service}_alembic_version"}


@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_downgrade_to_nothing(service, database):
    _, migrations = SERVICES[service]
    engine = database.engine()
    await upgrade(engine, migrations)
    await downgrade(engine, migrations, "base")
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert tables == {f"{service}_alembic_version"}


async def downgrade(engine, migrations, revision: str) -> None:
    """Run the service's migrations down to ``revision`` (``base``: nothing left)."""
    config = alembic_config(migrations)

    def down(connection):
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(down)


async def test_two_services_sharing_a_database_by_mistake_fail_loudly(database):
    engine = database.engine()
    await upgrade(engine, REGISTRY_MIGRATIONS)
    with pytest.raises(Exception, match=r"(?i)already exists"):
        await upgrade(engine, SCHEDULING_MIGRATIONS)
    await engine.dispose()


async def test_replicas_migrating_at_once_all_succeed(postgres_database):
    """Replicas starting together all migrate; none crashes on another's tables. (Replicas share
    a database only on Postgres: a SQLite file belongs to one process, in the embedded mode.)"""
    engines = [postgres_database.engine() for _ in range(3)]
    await asyncio.gather(*(upgrade(engine, REGISTRY_MIGRATIONS) for engine in engines))
    async with engines[0].connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    for engine in engines:
        await engine.dispose()
    assert "conseillers" in tables


async def test_permanences_copied_before_bookings_get_a_capacity_and_no_territory(database):
    """0002 on an existing copy: one appointment per 30 minutes for a permanence, an atelier not limited."""
    engine = database.engine()
    await upgrade(engine, NOTIFICATIONS_MIGRATIONS, "0001")
    start = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    rows = {
        kind: {
            "id": uuid.uuid4(),
            "plan_id": uuid.uuid4(),
            "conseiller_id": uuid.uuid4(),
            "commune": "61293",
            "lieu": "EPN",
            "kind": kind,
            "starts_at": start,
            "ends_at": start + dt.timedelta(hours=3),
            "time_zone": "Europe/Paris",
        }
        for kind in ("permanence", "atelier")
    }
    async with engine.begin() as conn:
        await conn.execute(sa.insert(notifications_orm.permanences).values(list(rows.values())))
    await upgrade(engine, NOTIFICATIONS_MIGRATIONS)
    table = notifications_orm.permanences
    async with engine.connect() as conn:
        found = {
            row.kind: (row.territory, row.capacity, row.booked)
            for row in await conn.execute(sa.select(table.c.kind, table.c.territory, table.c.capacity, table.c.booked))
        }
    await engine.dispose()
    assert found == {"permanence": ("", 6, 0), "atelier": ("", None, 0)}


async def test_permanences_copied_before_commune_names_have_an_empty_one(database):
    """0007 on an existing copy: the name is "" (the SMS then shows the lieu alone), the INSEE code stays."""
    engine = database.engine()
    await upgrade(engine, NOTIFICATIONS_MIGRATIONS, "0006")
    start = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
    row = {
        "id": uuid.uuid4(), "plan_id": uuid.uuid4(), "conseiller_id": uuid.uuid4(), "commune": "61293", "lieu": "EPN",
        "kind": "permanence", "starts_at": start, "ends_at": start + dt.timedelta(hours=3),
        "time_zone": "Europe/Paris", "territory": "dep:61", "capacity": 6,
    }  # fmt: skip
    async with engine.begin() as conn:
        await conn.execute(sa.insert(notifications_orm.permanences).values(row))
    await upgrade(engine, NOTIFICATIONS_MIGRATIONS)
    table = notifications_orm.permanences
    async with engine.connect() as conn:
        found = (await conn.execute(sa.select(table.c.commune, table.c.commune_name))).one()
    await engine.dispose()
    assert tuple(found) == ("61293", "")


async def test_0011_records_each_twilio_webhook_once_and_its_downgrade_drops_only_that(database):
    """0011 on an existing database: an inbound SMS's sid, a status callback's sid and status, each recorded once
    (what refuses a replay); downgraded, the tables before it are left as they were."""
    engine = database.engine()
    await upgrade(engine, NOTIFICATIONS_MIGRATIONS, "0010")
    async with engine.connect() as conn:
        before = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await upgrade(engine, NOTIFICATIONS_MIGRATIONS)
    now = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)
    inbound, callbacks = notifications_orm.inbound_sms, notifications_orm.status_callbacks
    async with engine.begin() as conn:
        await conn.execute(sa.insert(inbound).values(message_sid="SM1", received_at=now, idempotency_token="t"))
        await conn.execute(sa.insert(callbacks).values(message_sid="SM1", message_status="sent", received_at=now))
        await conn.execute(sa.insert(callbacks).values(message_sid="SM1", message_status="delivered", received_at=now))
    for table, key in ((inbound, {}), (callbacks, {"message_status": "sent"})):
        with pytest.raises(sa.exc.IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(sa.insert(table).values(message_sid="SM1", received_at=now, **key))
    await downgrade(engine, NOTIFICATIONS_MIGRATIONS, "0010")
    async with engine.connect() as conn:
        after = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    assert after == before
    assert {"inbound_sms", "status_callbacks"}.isdisjoint(after)
