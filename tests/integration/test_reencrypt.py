"""Re-encrypting usagers' contacts under a new first key (``tournees notifications reencrypt``)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import insert, select

from services.notifications.adapters.orm import usagers
from services.notifications.adapters.personal_data import PersonalDataCipher, UnreadablePersonalData
from services.notifications.adapters.reencrypt import reencrypt
from services.notifications.bootstrap import MIGRATIONS
from shared.migrations import upgrade
from tests.conftest import Database

LOOKUP = "l" * 32


async def test_every_contact_ends_under_the_first_key_and_nothing_else_changes(database: Database) -> None:
    old, new, lost = (PersonalDataCipher.new_key() for _ in range(3))
    before = PersonalDataCipher([old], LOOKUP)
    engine = database.engine()
    await upgrade(engine, MIGRATIONS)
    contacts = {uuid.UUID(int=i + 1): (f"+3361234567{i}", f"usager{i}@example.fr" if i % 2 else None) for i in range(7)}
    anonymised, unreadable = uuid.UUID(int=100), uuid.UUID(int=101)
    rows = [
        _usager(usager, before.encrypt(phone), before.encrypt(email) if email else None)
        for usager, (phone, email) in contacts.items()
    ]
    rows.append(_usager(anonymised, None, None))
    rows.append(_usager(unreadable, PersonalDataCipher([lost], LOOKUP).encrypt("+33600000000"), None))
    async with engine.begin() as conn:
        await conn.execute(insert(usagers), rows)

    done = await reencrypt(engine, PersonalDataCipher([new, old], LOOKUP), batch=3)

    assert (done.rewritten, done.changed_meanwhile, done.unreadable) == (7, 0, [unreadable])
    only_new = PersonalDataCipher([new], LOOKUP)
    async with engine.connect() as conn:
        stored = {row.id: row for row in await conn.execute(select(usagers))}
    for usager, (phone, email) in contacts.items():
        assert only_new.decrypt(stored[usager].phone_encrypted) == phone
        assert (only_new.decrypt(stored[usager].email_encrypted) if email else None) == email
        assert stored[usager].phone_hash == f"hash-{usager}"
    assert (stored[anonymised].phone_encrypted, stored[anonymised].email_encrypted) == (None, None)
    assert stored[unreadable].phone_encrypted == rows[-1]["phone_encrypted"]
    with pytest.raises(UnreadablePersonalData):
        only_new.decrypt(stored[unreadable].phone_encrypted)
    await engine.dispose()


def _usager(usager: uuid.UUID, phone: str | None, email: str | None) -> dict[str, object]:
    return {
        "id": usager,
        "name": "Usager",
        "phone_encrypted": phone,
        "phone_hash": f"hash-{usager}",
        "email_encrypted": email,
        "email_hash": None,
        "preferred_channel": "sms",
        "consent": True,
        "territory": "epci:200036069",
        "created_at": dt.datetime.now(dt.UTC),
    }
