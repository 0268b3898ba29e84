"""``tournees dead-letters`` against a real nats-server: a message given up on is listed with its reason,
replayed to its subject once the cause is fixed, applied, and removed from the dead letters."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
from faststream.nats import NatsBroker, NatsRouter
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import PubAck

from shared.events import DemandChanged, Envelope
from shared.messaging import REASON_HEADER, ConsumerPolicy, durable_consumer
from tests.integration.helpers import eventually
from tournees import dead_letters
from tournees.cli import main

SUBJECT = DemandChanged.subject
CONSUMER = "test-dead-letters"
FAST = ConsumerPolicy(max_deliver=2, ack_wait_s=5, base_delay_s=0.05, max_delay_s=0.1)


def envelope(commune: str = "61293") -> Envelope:
    event = DemandChanged(commune=commune, individual_hours=3, atelier_hours=1, overridden=False)
    return Envelope.wrap(event, producer="registry")


class Consumer:
    """A durable consumer whose handler fails while ``broken``, and records what it applied."""

    def __init__(self) -> None:
        self.broken = True
        self.applied: list[uuid.UUID] = []
        self.failure: Exception = RuntimeError("demand table is locked")
        self.attempts = 0
        self.repaired_after: int | None = None
        """Attempts after which it stops failing (None: when ``broken`` is set to False)."""


@pytest.fixture
async def consumer(nats_url: str, nc: NATS) -> AsyncIterator[Consumer]:
    state = Consumer()
    router = NatsRouter()

    @durable_consumer(router, DemandChanged, durable=CONSUMER, policy=FAST)
    async def apply(env: Envelope, event: DemandChanged) -> None:
        state.attempts += 1
        if state.repaired_after is not None and state.attempts > state.repaired_after:
            state.broken = False
        if state.broken:
            raise state.failure
        if env.event_id not in state.applied:  # what a consumer's inbox does
            state.applied.append(env.event_id)

    broker = NatsBroker(nats_url)
    broker.include_router(router)
    await broker.start()
    yield state
    await broker.stop()


async def stored(js: JetStreamContext, expected: int) -> None:
    async def enough() -> bool:
        return (await js.stream_info(dead_letters.DEAD_LETTER_STREAM)).state.messages == expected

    await eventually(enough)


async def publish(js: JetStreamContext, sent: Envelope) -> None:
    await js.publish(SUBJECT, sent.to_bytes(), headers={"Nats-Msg-Id": str(sent.event_id)})


async def test_a_failing_message_is_listed_replayed_applied_and_removed(consumer: Consumer, nc: NATS) -> None:
    js = nc.jetstream()
    failing = envelope()
    await publish(js, failing)
    await js.publish(SUBJECT, b"\x00not json")
    await stored(js, 2)

    letters = await dead_letters.read(js)
    assert [(letter.consumer, letter.original_subject) for letter in letters] == [(CONSUMER, SUBJECT)] * 2
    failed = next(letter for letter in letters if letter.event_id == str(failing.event_id))
    assert failed.subject == f"deadletter.{CONSUMER}.{SUBJECT}"
    assert failed.reason == "failed after 2 attempts: RuntimeError: demand table is locked"
    assert failed.event_type == SUBJECT
    assert failed.deliveries == 2
    assert failed.time is not None
    malformed = next(letter for letter in letters if letter is not failed)
    assert malformed.reason.startswith("invalid: not JSON")
    assert (malformed.event_id, malformed.event_type) == (None, None)
    assert await dead_letters.read(js, consumer="another-consumer") == []
    assert await dead_letters.read(js, consumer=CONSUMER, limit=1) == letters[:1]
    assert (await js.stream_info(dead_letters.DEAD_LETTER_STREAM)).state.messages == 2  # listing removed nothing

    consumer.broken = False
    replayed = await dead_letters.replay(js, failed)

    await eventually(lambda: _true(consumer.applied == [failing.event_id]))
    assert (replayed.stream, replayed.duplicate) == ("REGISTRY", False)
    again = await js.get_msg("REGISTRY", seq=replayed.sequence)
    assert again.subject == SUBJECT
    assert again.data == failing.to_bytes()  # the envelope unchanged: consumers that applied it skip it
    assert again.headers is not None
    assert again.headers["Nats-Msg-Id"] == f"replay-{failed.sequence}-{failing.event_id}"
    assert again.headers[dead_letters.REPLAY_HEADER] == str(failed.sequence)
    assert [letter.sequence for letter in await dead_letters.read(js)] == [malformed.sequence]
    assert await dead_letters.get(js, failed.sequence) is None
    assert REASON_HEADER not in again.headers


async def test_a_replay_interrupted_before_its_delete_publishes_once_when_run_again(
    consumer: Consumer, nc: NATS
) -> None:
    js = nc.jetstream()
    await publish(js, envelope())
    await stored(js, 1)
    [letter] = await dead_letters.read(js)
    consumer.broken = False

    with pytest.raises(ConnectionError):
        await dead_letters.replay(DeleteFails(nc), letter)
    assert await dead_letters.read(js) == [letter]  # published, but still a dead letter
    second = await dead_letters.replay(js, letter)

    assert second.duplicate
    assert (await js.stream_info("REGISTRY")).state.messages == 2  # the original and one replay
    assert await dead_letters.read(js) == []
    await eventually(lambda: _true(len(consumer.applied) == 1))


async def test_a_message_is_never_given_up_on_while_the_database_is_unreachable(consumer: Consumer, nc: NATS) -> None:
    """The service's database away (stopped, restarting) says nothing of the message: it is tried again past
    ``max_deliver`` (2 here) until the database answers, then applied, and nothing is dead-lettered."""
    js = nc.jetstream()
    consumer.failure = ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
    consumer.repaired_after = 6
    sent = envelope()
    await publish(js, sent)

    await eventually(lambda: _true(consumer.applied == [sent.event_id]))
    assert consumer.attempts == 7
    assert (await js.stream_info(dead_letters.DEAD_LETTER_STREAM)).state.messages == 0


class DeleteFails(JetStreamContext):
    async def delete_msg(self, stream_name: str, seq: int) -> bool:
        raise ConnectionError("connection lost")


class PublishFails(JetStreamContext):
    async def publish(self, *args: object, **kwargs: object) -> PubAck:
        raise TimeoutError("no acknowledgement")


async def test_a_dead_letter_whose_replay_is_not_acknowledged_is_kept(consumer: Consumer, nc: NATS) -> None:
    js = nc.jetstream()
    await publish(js, envelope())
    await stored(js, 1)
    [letter] = await dead_letters.read(js)

    with pytest.raises(TimeoutError):
        await dead_letters.replay(PublishFails(nc), letter)

    assert await dead_letters.read(js) == [letter]


async def test_a_dead_letter_of_a_subject_no_stream_captures_is_kept(nc: NATS) -> None:
    js = nc.jetstream()
    await js.publish(f"deadletter.{CONSUMER}.nowhere.thing.done.v1", b"{}", headers={REASON_HEADER: "invalid: ?"})
    [letter] = await dead_letters.read(js)

    with pytest.raises(dead_letters.NotReplayable, match="no stream captures"):
        await dead_letters.replay(js, letter)

    assert await dead_letters.read(js) == [letter]


async def test_the_cli_lists_and_replays(
    consumer: Consumer, nc: NATS, nats_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    js = nc.jetstream()
    sent = [envelope("61293"), envelope("57672")]
    for one in sent:
        await publish(js, one)
    await stored(js, 2)

    assert await _cli("dead-letters", "list", "--json", "--nats-url", nats_url) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(item["event_id"] for item in listed) == sorted(str(one.event_id) for one in sent)
    assert {item["reason"] for item in listed} == {"failed after 2 attempts: RuntimeError: demand table is locked"}
    assert await _cli("dead-letters", "list", "--consumer", "nobody", "--nats-url", nats_url) == 0
    assert "0 dead letter(s) of nobody shown; 2 in DEADLETTER" in capsys.readouterr().out

    consumer.broken = False
    assert await _cli("dead-letters", "replay", str(listed[0]["sequence"]), "--nats-url", nats_url) == 0
    assert "1 replayed, 0 kept" in capsys.readouterr().out
    assert await _cli("dead-letters", "replay", str(listed[0]["sequence"]), "--nats-url", nats_url) == 1
    assert "no such dead letter" in capsys.readouterr().out
    assert await _cli("dead-letters", "replay", "--all", "--consumer", "nobody", "--nats-url", nats_url) == 0
    assert await _cli("dead-letters", "replay", "--all", "--consumer", CONSUMER, "--nats-url", nats_url) == 0

    await eventually(lambda: _true(sorted(consumer.applied) == sorted(one.event_id for one in sent)))
    await stored(js, 0)


async def _cli(*argv: str) -> int:
    """``tournees …`` runs its own event loop: in a thread, beside the test's."""
    return await asyncio.to_thread(main, list(argv))


async def _true(value: bool) -> bool:
    return value
