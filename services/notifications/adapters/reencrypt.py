"""Re-encrypting usagers' contacts under the first of ``ENCRYPTION_KEYS``: the middle step of a key rotation.

Rotation: put a new key first in ``ENCRYPTION_KEYS`` (the old one after it) on every replica, run
``tournees notifications reencrypt``, then drop the old key. Until the re-encryption, reads work with
both keys and every write already uses the new one. Each row is rewritten only if its tokens are still
those read (compare-and-set), so a contact the service changes meanwhile is never overwritten with
its older value. The lookup hashes (``LOOKUP_KEY``) do not change.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from services.notifications.adapters.orm import usagers
from services.notifications.adapters.personal_data import PersonalDataCipher, UnreadablePersonalData

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reencrypted:
    rewritten: int
    """Usagers whose contacts are now under the first key."""
    changed_meanwhile: int
    """Usagers the service wrote between the read and the rewrite (so under the first key already)."""
    unreadable: list[uuid.UUID]
    """Usagers with a token no key opens (an old key dropped too early): left as they are."""


async def reencrypt(engine: AsyncEngine, cipher: PersonalDataCipher, *, batch: int = 500) -> Reencrypted:
    rewritten = changed = 0
    unreadable: list[uuid.UUID] = []
    after: uuid.UUID | None = None
    phone, email = usagers.c.phone_encrypted, usagers.c.email_encrypted
    while True:
        query = select(usagers.c.id, phone, email).where(or_(phone.is_not(None), email.is_not(None)))
        if after is not None:
            query = query.where(usagers.c.id > after)
        async with engine.begin() as conn:  # one transaction a batch
            rows = (await conn.execute(query.order_by(usagers.c.id).limit(batch))).all()
            for row in rows:
                try:
                    values = {
                        column.name: cipher.rotate(token)
                        for column, token in ((phone, row.phone_encrypted), (email, row.email_encrypted))
                        if token is not None
                    }
                except UnreadablePersonalData:
                    unreadable.append(row.id)
                    continue
                result = await conn.execute(
                    update(usagers)
                    .where(
                        usagers.c.id == row.id,
                        phone.is_not_distinct_from(row.phone_encrypted),
                        email.is_not_distinct_from(row.email_encrypted),
                    )
                    .values(**values)
                )
                if result.rowcount:
                    rewritten += 1
                else:
                    changed += 1
        if len(rows) < batch:
            break
        after = rows[-1].id
        log.info("re-encrypted %d usagers so far", rewritten)
    return Reencrypted(rewritten, changed, unreadable)
