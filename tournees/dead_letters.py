"""``tournees dead-letters list|replay``: read the DEADLETTER stream, and put dead letters back on their subject.

A consumer that gives up on a message publishes it unchanged to ``deadletter.<consumer>.<subject>``
with why in the ``Tournees-Dead-Letter-Reason`` header (``shared.messaging``). Listing reads the
stream message by message (``STREAM.MSG.GET``): nothing is consumed, acknowledged or removed.

Replaying republishes the original bytes (the envelope, unchanged) to the original subject, then
deletes the dead letter once JetStream has acknowledged that publish: a failed publish keeps it.
The republished envelope keeps its ``event_id``, so every consumer that already applied the event
skips it (their inbox), and only the one that gave up applies it now. The publish carries
``Nats-Msg-Id: replay-<dead letter's sequence>-<event_id>``: not the ``event_id`` itself, which
JetStream's duplicate window would drop as the original's duplicate, yet the same for a replay run
twice (a crash between the publish and the delete), which JetStream then drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError

from shared.events import InvalidEvent
from shared.events.envelope import read_json
from shared.events.streams import DEAD_LETTER_PREFIX, stream_for
from shared.messaging import REASON_HEADER

DEAD_LETTER_STREAM = "DEADLETTER"
CONSUMER_HEADER = "Tournees-Consumer"
ORIGINAL_SUBJECT_HEADER = "Tournees-Original-Subject"
DELIVERIES_HEADER = "Tournees-Deliveries"
REPLAY_HEADER = "Tournees-Replayed-From"
"""On a replayed message: the sequence of the dead letter it came from, in the DEADLETTER stream."""


@dataclass(frozen=True)
class DeadLetter:
    sequence: int
    subject: str
    consumer: str
    original_subject: str
    reason: str
    deliveries: int | None
    time: dt.datetime | None
    event_type: str | None
    """The envelope's ``subject`` (the event's type and version); None when the payload is no envelope."""
    event_id: str | None
    data: bytes

    @classmethod
    def from_message(cls, message: RawStreamMsg) -> DeadLetter:
        assert message.seq is not None
        assert message.subject is not None
        headers: dict[str, str] = message.headers or {}
        # deadletter.<consumer>.<subject>: a consumer's name has no dot, the subject has several.
        _, consumer, original = [*message.subject.split(".", 2), "", ""][:3]
        deliveries = headers.get(DELIVERIES_HEADER, "")
        envelope = _envelope(message.data or b"")
        return cls(
            sequence=message.seq,
            subject=message.subject,
            consumer=headers.get(CONSUMER_HEADER) or consumer,
            original_subject=headers.get(ORIGINAL_SUBJECT_HEADER) or original,
            reason=headers.get(REASON_HEADER, ""),
            deliveries=int(deliveries) if deliveries.isdigit() else None,
            time=message.time,
            event_type=_text(envelope.get("subject")),
            event_id=_text(envelope.get("event_id")),
            data=message.data or b"",
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "subject": self.subject,
            "consumer": self.consumer,
            "original_subject": self.original_subject,
            "reason": self.reason,
            "deliveries": self.deliveries,
            "time": self.time.isoformat() if self.time else None,
            "event_type": self.event_type,
            "event_id": self.event_id,
        }


def _envelope(data: bytes) -> dict[str, Any]:
    try:
        parsed = read_json(data)
    except InvalidEvent:  # a dead letter is often what a consumer could not read either
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def filter_subject(consumer: str | None) -> str:
    return f"{DEAD_LETTER_PREFIX}.{consumer}.>" if consumer else f"{DEAD_LETTER_PREFIX}.>"


async def read(js: JetStreamContext, *, consumer: str | None = None, limit: int | None = None) -> list[DeadLetter]:
    """The dead letters (of ``consumer``), oldest first, at most ``limit``; the stream is left as it is."""
    letters: list[DeadLetter] = []
    subject = filter_subject(consumer)
    sequence = 1
    while limit is None or len(letters) < limit:
        try:
            message = await js.get_msg(DEAD_LETTER_STREAM, seq=sequence, subject=subject, next=True)
        except NotFoundError:  # nothing at or after ``sequence``
            break
        letter = DeadLetter.from_message(message)
        letters.append(letter)
        sequence = letter.sequence + 1
    return letters


async def get(js: JetStreamContext, sequence: int) -> DeadLetter | None:
    try:
        return DeadLetter.from_message(await js.get_msg(DEAD_LETTER_STREAM, seq=sequence))
    except NotFoundError:
        return None


@dataclass(frozen=True)
class Replayed:
    letter: DeadLetter
    stream: str
    sequence: int
    duplicate: bool
    """JetStream had this very replay already (run twice): the dead letter is removed all the same."""


class NotReplayable(Exception):
    """A dead letter that cannot go back: not found, another consumer's, or no stream for its subject."""


def replay_headers(letter: DeadLetter) -> dict[str, str]:
    headers = {
        "Nats-Msg-Id": f"replay-{letter.sequence}-{letter.event_id or 'unparsed'}",
        REPLAY_HEADER: str(letter.sequence),
    }
    correlation = _text(_envelope(letter.data).get("correlation_id"))
    if correlation:
        headers["Tournees-Correlation-Id"] = correlation
    return headers


async def replay(js: JetStreamContext, letter: DeadLetter) -> Replayed:
    """Republish ``letter`` to its original subject; delete it once that publish is acknowledged."""
    try:
        stream = stream_for(letter.original_subject)
    except LookupError as exc:
        raise NotReplayable(f"#{letter.sequence}: {exc}") from None
    if stream == DEAD_LETTER_STREAM:
        raise NotReplayable(f"#{letter.sequence}: {letter.original_subject!r} is a dead-letter subject")
    ack = await js.publish(letter.original_subject, letter.data, stream=stream, headers=replay_headers(letter))
    with contextlib.suppress(NotFoundError):  # removed meanwhile (replayed by someone else, say): gone all the same
        await js.delete_msg(DEAD_LETTER_STREAM, letter.sequence)
    return Replayed(letter, ack.stream, ack.seq, bool(ack.duplicate))


async def chosen(js: JetStreamContext, sequences: Iterable[int], consumer: str | None) -> list[DeadLetter]:
    """The dead letters at ``sequences`` (all of them, or of ``consumer``, when none is given)."""
    wanted = list(sequences)
    if not wanted:
        return await read(js, consumer=consumer)
    letters = []
    for sequence in wanted:
        letter = await get(js, sequence)
        if letter is None:
            raise NotReplayable(f"#{sequence}: no such dead letter (replayed or expired already?)")
        if consumer and letter.consumer != consumer:
            raise NotReplayable(f"#{sequence}: a dead letter of {letter.consumer}, not of {consumer}")
        letters.append(letter)
    return letters


def describe(letter: DeadLetter) -> str:
    when = letter.time.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if letter.time else "?"
    event = f"{letter.event_type or '?'} {letter.event_id or '(not an envelope)'}"
    deliveries = f", {letter.deliveries} deliveries" if letter.deliveries is not None else ""
    return (
        f"#{letter.sequence}  {when}  {letter.subject}\n"
        f"    consumer {letter.consumer}, from {letter.original_subject}{deliveries}\n"
        f"    event    {event}\n"
        f"    reason   {letter.reason or '?'}"
    )


class Unreachable(Exception):
    """No NATS at the URL given."""


async def _connect(url: str, deadline_s: float = 10.0) -> Any:
    import nats

    async def quiet(_exc: Exception) -> None:
        """nats-py logs every failed attempt with its traceback by default; one line is said below."""

    # nats-py retries a first connection that fails, whatever its options: hence the deadline.
    connect = nats.connect(url, connect_timeout=5, allow_reconnect=False, error_cb=quiet, name="tournees-dead-letters")
    try:
        return await asyncio.wait_for(connect, deadline_s)
    except Exception as exc:
        raise Unreachable(f"cannot reach NATS at {url} ({type(exc).__name__}); give --nats-url or NATS_URL") from None


async def list_command(url: str, *, consumer: str | None, limit: int, as_json: bool) -> int:
    nc = await _connect(url)
    try:
        js: JetStreamContext = nc.jetstream()
        letters = await read(js, consumer=consumer, limit=limit + 1)
        total = (await js.stream_info(DEAD_LETTER_STREAM)).state.messages
    finally:
        await nc.close()
    for letter in letters[:limit]:
        print(json.dumps(letter.to_json(), ensure_ascii=False) if as_json else describe(letter))
    if not as_json:
        more = " (more: raise --limit)" if len(letters) > limit else ""
        whose = f" of {consumer}" if consumer else ""
        print(f"{min(len(letters), limit)} dead letter(s){whose} shown{more}; {total} in {DEAD_LETTER_STREAM}")
    return 0


async def replay_command(url: str, *, sequences: list[int], consumer: str | None) -> int:
    """Replay the dead letters at ``sequences`` (every one, of ``consumer`` if given, when empty)."""
    nc = await _connect(url)
    failed = 0
    try:
        js: JetStreamContext = nc.jetstream()
        try:
            letters = await chosen(js, sequences, consumer)
        except NotReplayable as exc:
            print(f"tournees dead-letters: {exc}; nothing replayed")
            return 1
        for letter in letters:
            try:
                done = await replay(js, letter)
            except NotReplayable as exc:
                print(f"kept {exc}")
                failed += 1
                continue
            again = " (already there: replayed before)" if done.duplicate else ""
            print(
                f"#{letter.sequence} {letter.event_id or '(not an envelope)'} -> {letter.original_subject} "
                f"({done.stream} #{done.sequence}){again}; dead letter removed"
            )
    finally:
        await nc.close()
    print(f"{len(letters) - failed} replayed, {failed} kept")
    return 1 if failed else 0
