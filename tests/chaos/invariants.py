"""What must hold after the faults, checked from the outside: at the fake Twilio and in the SMTP sink's
Maildir (what usagers received), in the services' databases read directly (outboxes, inboxes, copies), in
JetStream's dead-letter stream, and through the APIs. Not from the services' own counters."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import nats
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from services.notifications.adapters.smtp_sink.sink import read_mails
from services.notifications.domain.quiet_hours import QuietHours, is_quiet, next_allowed, reminder_due
from tests.chaos.system import System
from tests.chaos.workload import Booked, Workload

QUIET = QuietHours(dt.time(20, 0), dt.time(9, 0))
"""The services' default quiet hours, which the suite does not change."""
LEAD = dt.timedelta(days=1)
"""The services' default reminder lead (``REMINDER_LEADS=P1D``)."""
MARGIN = dt.timedelta(seconds=5)
"""Around the moment a booking was made, its reminder may or may not have been planned."""
END_MARGIN = dt.timedelta(seconds=60)
"""A reminder due in the last minute before the checks may still be on its way (retries of a failed send)."""
KINDS = {
    "Inscription confirmée": "confirmation",
    "Rappel": "reminder",
    "Changement": "moved",
    "Annulation": "cancelled",
}
DRAIN_TIMEOUT_S = 300.0
QUIET_GRACE = dt.timedelta(seconds=2)


@dataclass(frozen=True)
class Received:
    recipient: str
    kind: str
    at: dt.datetime
    channel: str
    identity: str
    """The SMS's sid; the e-mail's Message-ID (a mail sent again after a lost answer keeps it: one mail)."""


@dataclass
class Counts:
    expected: int = 0
    """Messages that had to arrive (the ones that may or may not have are not counted)."""
    delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0


@dataclass
class Verdict:
    counts: dict[str, Counts] = field(default_factory=dict)
    """Per channel."""
    violations: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def fail(self, what: str) -> None:
        self.violations.append(what)


def kind_of(text_: str) -> str:
    return next((kind for prefix, kind in KINDS.items() if text_.startswith(prefix)), "other")


def expected_reminder(booked: Booked, end: dt.datetime) -> bool | None:
    """True: a reminder had to arrive by ``end``; False: none may have; None: either (too close to call)."""
    zone = ZoneInfo(booked.time_zone)
    due = reminder_due(booked.starts_at, LEAD, zone, QUIET)
    if due is None:
        return False
    earliest, latest = next_allowed(booked.asked_at, zone, QUIET), next_allowed(booked.answered_at, zone, QUIET)
    if due <= earliest - MARGIN or due > end + MARGIN:
        return False  # not planned (the confirmation said it all), or not due yet
    if due > latest + MARGIN and due <= end - END_MARGIN:
        return True
    return None


async def sms_received(system: System) -> list[Received]:
    async with httpx.AsyncClient(timeout=30) as client:
        answer = (await client.get(f"{system.twilio_url}/_fake/messages")).json()
    return [
        Received(m["to"], kind_of(m["body"]), parsedate_to_datetime(m["date_created"]), "sms", m["sid"])
        for m in answer["messages"]
        if m["direction"] == "outbound-api"
    ]


def mail_received(system: System) -> list[Received]:
    return [
        Received(
            str(mail["To"]),
            kind_of(str(mail["Subject"])),
            parsedate_to_datetime(str(mail["Date"])),
            "email",
            str(mail["Message-ID"]),
        )
        for mail in read_mails(system.maildir)
    ]


async def wait_for_drain(system: System, workload: Workload) -> list[Received]:
    """Everything received once nothing that had to arrive is missing any more and nothing more came for a while
    (a copy sent twice would show by then); or, at ``DRAIN_TIMEOUT_S``, whatever came (the check says what not)."""
    deadline, last, still_since = time.monotonic() + DRAIN_TIMEOUT_S, -1, time.monotonic()
    while True:
        received = await sms_received(system) + mail_received(system)
        if len(received) != last:
            last, still_since = len(received), time.monotonic()
        scratch = Verdict()
        check_messages(workload, received, system.clock.now(), scratch)
        missing = sum(counts.lost for counts in scratch.counts.values())
        if (missing == 0 and time.monotonic() - still_since > 10) or time.monotonic() > deadline:
            return received
        await asyncio.sleep(1)


def check_messages(workload: Workload, received: list[Received], end: dt.datetime, verdict: Verdict) -> None:
    by_recipient: dict[str, Counter[str]] = {}
    for message in {(m.recipient, m.kind, m.identity): m for m in received}.values():
        by_recipient.setdefault(message.recipient, Counter())[message.kind] += 1
    copies = len(received) - len({(m.recipient, m.kind, m.identity) for m in received})
    verdict.facts["e-mails sent again with their Message-ID (after a lost answer)"] = copies
    known = set()
    for booked in workload.booked:
        recipient = booked.email or booked.phone
        known.add(recipient)
        counts = verdict.counts.setdefault(booked.channel, Counts())
        got = by_recipient.get(recipient, Counter())
        _tally(
            counts,
            got["confirmation"],
            expected=True,
            what=f"confirmation to booking at {booked.starts_at}",
            verdict=verdict,
        )
        _tally(
            counts,
            got["reminder"],
            expected=expected_reminder(booked, end),
            what=f"reminder of {booked.starts_at}",
            verdict=verdict,
        )
        for kind in ("moved", "cancelled", "other"):
            if got[kind]:
                counts.unexpected += got[kind]
                verdict.fail(f"{got[kind]} unexpected {kind} message(s) to a booked usager")
    strangers = [m for m in received if m.recipient not in known]
    if strangers:
        verdict.fail(f"{len(strangers)} message(s) to recipients never booked")


def _tally(counts: Counts, got: int, *, expected: bool | None, what: str, verdict: Verdict) -> None:
    if expected is None:
        counts.delivered += min(got, 1)
        if got > 1:
            counts.duplicated += got - 1
            verdict.fail(f"{what}: received {got} times")
        return
    counts.expected += int(expected)
    counts.delivered += min(got, 1)
    if expected and got == 0:
        counts.lost += 1
    if got > 1:
        counts.duplicated += got - 1
    if got > int(expected):
        verdict.fail(f"{what}: received {got} times, expected {int(expected)}")
    if expected and got == 0:
        verdict.fail(f"{what}: lost")


def check_quiet_hours(received: list[Received], zone: ZoneInfo, verdict: Verdict) -> None:
    """None received in quiet hours, but for its first seconds: a send decided at 19:59:59 arrives after 20:00."""
    at_night = [m for m in received if is_quiet(m.at - QUIET_GRACE, zone, QUIET) and is_quiet(m.at, zone, QUIET)]
    verdict.facts["sent in quiet hours"] = len(at_night)
    for message in at_night[:5]:
        verdict.fail(
            f"a {message.kind} {message.channel} sent at {message.at.astimezone(zone):%a %H:%M:%S}, in quiet hours"
        )
    if len(at_night) > 5:
        verdict.fail(f"… and {len(at_night) - 5} more in quiet hours")


async def check_databases(system: System, workload: Workload, verdict: Verdict) -> None:
    """Outboxes emptied, every event applied once downstream, the copies equal to their source."""
    rows: dict[str, dict[str, list[Any]]] = {}
    for service, queries in _QUERIES.items():
        engine = create_async_engine(system.postgres.url(service).replace("postgresql://", "postgresql+asyncpg://"))
        try:
            async with engine.connect() as conn:
                rows[service] = {name: list((await conn.execute(text(sql))).all()) for name, sql in queries.items()}
        finally:
            await engine.dispose()
    for service in rows:
        stuck = rows[service]["unpublished"]
        if stuck:
            verdict.fail(f"{service}: {len(stuck)} outbox row(s) never published")
    _applied_once(
        rows["registry"]["events"], rows["scheduling"]["inbox"], "scheduling-registry", "registry → scheduling", verdict
    )
    plan_events = [
        r
        for r in rows["scheduling"]["events"]
        if r[1].startswith("scheduling.plan.") or r[1].startswith("scheduling.permanence.")
    ]
    _applied_once(plan_events, rows["notifications"]["inbox"], None, "scheduling → notifications", verdict)
    registry_demand = {r[0]: (r[1], r[2]) for r in rows["registry"]["demand"]}
    copy = {r[0]: (r[1], r[2]) for r in rows["scheduling"]["demand"]}
    differing = [c for c in registry_demand if copy.get(c) != registry_demand[c]]
    if differing:
        verdict.fail(f"scheduling's copy of the demand differs from the registry's for {len(differing)} commune(s)")
    lost_writes = [
        c
        for c, hours in workload.demand.items()
        if c not in workload.demand_in_doubt and registry_demand.get(c) != hours
    ]
    if lost_writes:
        verdict.fail(f"{len(lost_writes)} acknowledged demand write(s) not in the registry")
    verdict.facts["events registry → scheduling"] = len(rows["registry"]["events"])
    verdict.facts["events scheduling → notifications"] = len(plan_events)


def _applied_once(events: list[Any], inbox: list[Any], consumer: str | None, path: str, verdict: Verdict) -> None:
    applied = Counter(str(r[0]) for r in inbox if consumer is None or r[1] == consumer)
    subjects = {str(r[0]): r[2] for r in inbox}
    missing = [str(r[0]) for r in events if applied[str(r[0])] == 0]
    if missing:
        verdict.fail(f"{path}: {len(missing)} event(s) published but never applied")
    doubled = [event for event, count in applied.items() if count > 1]
    if doubled:
        verdict.fail(f"{path}: {len(doubled)} event(s) applied more than once")
    sent = {str(r[0]) for r in events}
    foreign = [event for event in applied if event not in sent]
    if foreign:
        verdict.fail(
            f"{path}: {len(foreign)} event(s) applied that no outbox published: {Counter(subjects[e] for e in foreign)}"
        )


_OUTBOX = {
    "unpublished": "SELECT event_id FROM outbox WHERE published_at IS NULL",
    "events": "SELECT event_id, subject FROM outbox",
}
_QUERIES = {
    "registry": {**_OUTBOX, "demand": "SELECT commune, individual_hours, atelier_hours FROM demand"},
    "scheduling": {
        **_OUTBOX,
        "inbox": "SELECT event_id, consumer, subject FROM inbox",
        "demand": "SELECT commune, individual_hours, atelier_hours FROM demand",
    },
    "notifications": {**_OUTBOX, "inbox": "SELECT event_id, consumer, subject FROM inbox"},
}


async def check_dead_letters(system: System, verdict: Verdict) -> None:
    assert system.supervisor.nats_url is not None
    client = await nats.connect(system.supervisor.nats_url)
    try:
        info = await client.jetstream().stream_info("DEADLETTER")
        count = info.state.messages
    finally:
        await client.close()
    verdict.facts["dead letters"] = count
    if count:
        verdict.fail(f"{count} message(s) in the dead-letter stream (none was malformed)")


async def check_bookings_and_plans(workload: Workload, verdict: Verdict) -> None:
    """Every acknowledged booking is there once; every published plan's permanences reached notifications."""
    ours = Counter(b.permanence_id for b in workload.booked)
    for permanence_id, count in ours.items():
        page = await workload.call(
            "GET", "notifications", f"/permanences/{permanence_id}/bookings", params={"limit": 1}
        )
        if page["total"] != count:
            verdict.fail(f"permanence {permanence_id}: {page['total']} bookings, {count} acknowledged")
    for plan_id, count in workload.published.items():
        items = await workload.call("GET", "notifications", "/permanences", params={"plan_id": plan_id, "limit": 1000})
        if len(items) != count:
            verdict.fail(f"plan {plan_id}: {len(items)} permanences in notifications, {count} published")
    verdict.facts["bookings acknowledged"] = len(workload.booked)
    verdict.facts["plans published"] = len(workload.published)


PHONE = re.compile(
    r"(?:\+|%2B|00)33[\s.-]?6[\s.-]?2(?:[\s.-]?\d){7}"  # +33 6 2…, URL-encoded, 0033…
    r"|\b0[\s.-]?6[\s.-]?2(?:[\s.-]?\d){7}\b"  # 06 2…
    r"|\b33620\d{6}\b",  # digits only
    re.IGNORECASE,
)
"""The usagers' numbers as the workload makes them (``+3362…``), in every form a line could hold them."""
OUTSIDE_WORLD = ("twilio", "smtp")
"""The fake Twilio and the SMTP sink stand for the providers: their own logs are not the system's."""


def check_logs(system: System, workload: Workload, secrets_used: list[str], verdict: Verdict) -> None:
    """No phone number, e-mail address, token or secret the run used in any line the system wrote (its logs and
    its traces, exported to its output)."""
    emails = {b.email for b in workload.booked if b.email}
    lines = 0
    for line in system.log_path.read_text(errors="replace").splitlines():
        if line.split(" |", 1)[0].strip() in OUTSIDE_WORLD:
            continue
        lines += 1
        if PHONE.search(line):
            verdict.fail(f"a phone number in the logs: {PHONE.sub('<phone>', line)[:200]}")
        if "@chaos.example" in line and any(email in line for email in emails):
            verdict.fail("an usager's e-mail address in the logs")
        for secret in secrets_used:
            if secret in line:
                verdict.fail("a token or secret in the logs")
    verdict.facts["log lines searched"] = lines


def check_answers(workload: Workload, verdict: Verdict) -> None:
    """Under faults a service refuses connections or answers 503 (try again): never a 500, which says a bug."""
    verdict.facts["why requests were sent again"] = dict(workload.failures.most_common())
    errors = {failure: n for failure, n in workload.failures.items() if failure.isdigit() and failure != "503"}
    if errors:
        verdict.fail(f"answers other than 503 while the faults were on: {errors}")
