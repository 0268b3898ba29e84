"""The fake Twilio driven by the real ``twilio`` SDK over a real socket, its webhooks checked by ``RequestValidator``."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
import requests
from fastapi import FastAPI, Request, Response
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from services.notifications.adapters.fake_twilio import fake_twilio_app
from services.notifications.adapters.twilio_sms import twilio_client
from tests.integration.twilio_stack import serving, wait_until

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "jeton-de-test"
OUR_NUMBER = "+33757000000"
USAGER = "+33612345678"


@dataclass
class Receiver:
    """Our side of the webhooks: what reached it, and how many requests it should refuse first (500)."""

    url: str = ""
    received: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    """The ``I-Twilio-Idempotency-Token`` of every request that reached it, refused or not."""
    refuse_first: int = 0

    def on(self, path: str) -> list[dict[str, str]]:
        return [params for url, params, _ in self.received if url.startswith(self.url + path)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    app = FastAPI()

    @app.post("/{path:path}")
    async def hook(request: Request) -> Response:
        state.tokens.append(request.headers.get("I-Twilio-Idempotency-Token", ""))
        if state.refuse_first > 0:
            state.refuse_first -= 1
            return Response(status_code=500)
        params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        state.received.append((str(request.url), params, request.headers.get("X-Twilio-Signature", "")))
        return Response("<Response/>", media_type="application/xml")

    with serving(app) as url:
        state.url = url
        yield state


@pytest.fixture
def fake_url() -> Iterator[str]:
    with serving(fake_twilio_app(ACCOUNT_SID, AUTH_TOKEN, step_s=0.02)) as url:
        yield url


@pytest.fixture
def client(fake_url: str) -> Client:
    return twilio_client(fake_url, ACCOUNT_SID, AUTH_TOKEN)


def control(fake_url: str, method: str, path: str, **kwargs: Any) -> Any:
    response = httpx.request(method, f"{fake_url}/_fake{path}", timeout=10, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


def send(
    client: Client, to: str = USAGER, body: str = "Rappel : permanence numérique demain 9 h", **kwargs: Any
) -> Any:
    return client.messages.create(to=to, from_=OUR_NUMBER, body=body, **kwargs)


def test_a_message_is_created_then_fetched_then_listed_through_the_sdk(client):
    created = send(client)
    assert created.sid.startswith("SM")
    assert (created.status, created.to, created.from_, created.num_segments) == ("queued", USAGER, OUR_NUMBER, "1")
    assert created.direction == "outbound-api"
    assert created.date_created.tzinfo is not None  # the SDK read the RFC 2822 date
    assert client.messages(created.sid).fetch().sid == created.sid
    assert [message.sid for message in client.messages.list(to=USAGER)] == [created.sid]
    assert client.messages.list(to="+33600000000") == []


def test_the_sdk_follows_next_page_uri_newest_first(client):
    sids = [send(client).sid for _ in range(5)]
    assert [message.sid for message in client.messages.list(page_size=2)] == sids[::-1]
    page, sizes = client.messages.page(page_size=2), []
    assert "PageToken=PASM" in page.next_page_url
    while page is not None:
        sizes.append(len(list(page)))
        page = page.next_page()
    assert sizes == [2, 2, 1]


def test_the_list_filters_on_the_day_sent(client):
    sid = send(client).sid
    wait_until(lambda: client.messages(sid).fetch().date_sent)
    today = datetime.now(UTC).date()
    assert [message.sid for message in client.messages.list(date_sent=today)] == [sid]
    assert client.messages.list(date_sent_before=datetime(2020, 1, 1, tzinfo=UTC)) == []


def test_a_message_reaches_delivered_and_every_status_callback_is_signed_by_twilios_algorithm(client, receiver):
    sid = send(client, status_callback=f"{receiver.url}/twilio/status?tournee=7").sid
    wait_until(lambda: client.messages(sid).fetch().status == "delivered")
    wait_until(lambda: len(receiver.received) == 3)
    assert [params["MessageStatus"] for _, params, _ in receiver.received] == ["sending", "sent", "delivered"]
    validator = RequestValidator(AUTH_TOKEN)
    for url, params, signature in receiver.received:
        assert params["MessageSid"] == sid
        assert (params["AccountSid"], params["From"], params["To"]) == (ACCOUNT_SID, OUR_NUMBER, USAGER)
        assert "ErrorCode" not in params
        assert validator.validate(url, params, signature)


def test_a_failing_number_ends_undelivered_with_its_error_code(client, fake_url, receiver):
    control(fake_url, "POST", "/failing", json={"number": USAGER})
    sid = send(client, status_callback=f"{receiver.url}/status").sid
    wait_until(lambda: client.messages(sid).fetch().status == "undelivered")
    assert client.messages(sid).fetch().error_code == 30003
    wait_until(lambda: len(receiver.received) == 3)
    assert receiver.received[-1][1]["MessageStatus"] == "undelivered"
    assert receiver.received[-1][1]["ErrorCode"] == "30003"


def test_a_number_can_be_made_to_fail_before_sending(client, fake_url):
    control(fake_url, "POST", "/failing", json={"number": USAGER, "outcome": {"status": "failed", "error_code": 30008}})
    sid = send(client).sid
    wait_until(lambda: client.messages(sid).fetch().status == "failed")
    assert client.messages(sid).fetch().date_sent is None


def test_a_refused_status_callback_is_tried_again(client, fake_url, receiver):
    receiver.refuse_first = 2
    sid = send(client, status_callback=f"{receiver.url}/status").sid
    wait_until(lambda: len(receiver.received) == 3)
    assert [params["MessageStatus"] for _, params, _ in receiver.received] == ["sending", "sent", "delivered"]
    # The fake records an attempt once it has its answer, just after the receiver has it.
    wait_until(lambda: len(control(fake_url, "GET", "/callbacks")["callbacks"]) == 5)
    attempts = control(fake_url, "GET", "/callbacks")["callbacks"]
    assert [(a["params"]["MessageSid"], a["status_code"]) for a in attempts[:3]] == [(sid, 500), (sid, 500), (sid, 200)]
    # Twilio's idempotency token: the same on each retry of a webhook, another for each webhook.
    assert receiver.tokens == [a["idempotency_token"] for a in attempts]
    assert len(set(receiver.tokens[:3])) == 1
    assert len(set(receiver.tokens[2:])) == 3


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"to": "", "from_": OUR_NUMBER, "body": "Bonjour"}, 21604),
        ({"to": "06 12 34 56 78", "from_": OUR_NUMBER, "body": "Bonjour"}, 21211),
        ({"to": USAGER, "body": "Bonjour"}, 21603),
        ({"to": USAGER, "from_": OUR_NUMBER}, 21602),
    ],
)
def test_a_bad_create_raises_twilios_code_through_the_sdk(client, kwargs, code):
    with pytest.raises(TwilioRestException) as error:
        client.messages.create(**kwargs)
    assert (error.value.status, error.value.code) == (400, code)


def test_wrong_credentials_get_a_401(fake_url):
    with pytest.raises(TwilioRestException) as error:
        send(twilio_client(fake_url, ACCOUNT_SID, "pas-le-bon"))
    assert (error.value.status, error.value.code) == (401, 20003)
    response = httpx.get(f"{fake_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    assert response.status_code == 401
    assert response.json()["more_info"] == "https://www.twilio.com/docs/errors/20003"


def test_another_accounts_path_is_not_found(fake_url):
    other = "AC" + "2" * 32
    response = httpx.get(f"{fake_url}/2010-04-01/Accounts/{other}/Messages.json", auth=(ACCOUNT_SID, AUTH_TOKEN))
    assert (response.status_code, response.json()["code"]) == (404, 20404)


def outcomes(client: Client, count: int) -> list[int]:
    statuses = []
    for _ in range(count):
        try:
            send(client)
            statuses.append(201)
        except TwilioRestException as error:
            statuses.append(error.status)
    return statuses


def test_429_and_5xx_come_at_the_seeded_rate_and_again_the_same_for_the_same_seed(client, fake_url):
    faults = {"rate_429": 0.3, "rate_500": 0.1, "rate_503": 0.1, "retry_after_s": 2, "seed": 42}
    control(fake_url, "PUT", "/faults", json=faults)
    first = outcomes(client, 60)  # each SDK create took ~40 ms here: keep the count small
    control(fake_url, "PUT", "/faults", json=faults)
    assert outcomes(client, 60) == first
    assert 9 <= first.count(429) <= 30
    assert 1 <= first.count(500) <= 14
    assert 1 <= first.count(503) <= 14
    created = [m for m in control(fake_url, "GET", "/messages")["messages"] if m["direction"] == "outbound-api"]
    assert len(created) == 2 * first.count(201)


def test_a_429_carries_retry_after_and_twilios_code(fake_url):
    control(fake_url, "PUT", "/faults", json={"rate_429": 1, "retry_after_s": 2})
    response = httpx.post(
        f"{fake_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": USAGER, "From": OUR_NUMBER, "Body": "Bonjour"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
    )
    assert (response.status_code, response.headers["Retry-After"], response.json()["code"]) == (429, "2", 20429)


def test_a_slow_fake_answers_late(client, fake_url):
    control(fake_url, "PUT", "/faults", json={"delay_s": 0.3})
    started = time.monotonic()
    send(client)
    assert time.monotonic() - started >= 0.3


def outbound_sids(fake_url: str) -> list[str]:
    return [m["sid"] for m in control(fake_url, "GET", "/messages")["messages"] if m["direction"] == "outbound-api"]


def test_a_timed_out_create_that_twilio_accepted_is_listed_though_the_client_never_got_its_answer(fake_url):
    control(fake_url, "PUT", "/faults", json={"rate_timeout": 1, "timeout_accepted": 1, "hold_s": 2})
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        send(twilio_client(fake_url, ACCOUNT_SID, AUTH_TOKEN, timeout_s=0.3))
    assert time.monotonic() - started < 1.5
    [sid] = outbound_sids(fake_url)  # stored at once, before the client gave up
    assert control(fake_url, "GET", "/stats")["faults"] == {"timeout_accepted": 1}
    listed = twilio_client(fake_url, ACCOUNT_SID, AUTH_TOKEN).messages.list(to=USAGER)
    assert [(message.sid, message.body) for message in listed] == [(sid, "Rappel : permanence numérique demain 9 h")]


def test_a_timed_out_create_that_twilio_did_not_take_stores_nothing(fake_url):
    control(fake_url, "PUT", "/faults", json={"rate_timeout": 1, "timeout_accepted": 0, "hold_s": 2})
    with pytest.raises(requests.ReadTimeout):
        send(twilio_client(fake_url, ACCOUNT_SID, AUTH_TOKEN, timeout_s=0.3))
    time.sleep(0.5)
    assert outbound_sids(fake_url) == []
    assert control(fake_url, "GET", "/stats")["faults"] == {"timeout_not_accepted": 1}


@pytest.mark.parametrize(("accepted", "status"), [(1, 201), (0, 504)])
def test_a_client_that_waits_out_the_hold_gets_the_late_answer(fake_url, accepted, status):
    control(fake_url, "PUT", "/faults", json={"rate_timeout": 1, "timeout_accepted": accepted, "hold_s": 0.4})
    started = time.monotonic()
    response = httpx.post(
        f"{fake_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"To": USAGER, "From": OUR_NUMBER, "Body": "Bonjour"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
    )
    assert time.monotonic() - started >= 0.4
    assert response.status_code == status
    assert len(outbound_sids(fake_url)) == accepted


def test_a_slow_answer_comes_within_the_timeout_and_the_message_is_sent(fake_url):
    control(fake_url, "PUT", "/faults", json={"rate_slow": 1, "slow_s": 0.4})
    started = time.monotonic()
    sid = send(twilio_client(fake_url, ACCOUNT_SID, AUTH_TOKEN, timeout_s=2)).sid
    assert time.monotonic() - started >= 0.4
    assert outbound_sids(fake_url) == [sid]


def test_faults_whose_rates_add_up_past_one_are_refused(fake_url):
    response = httpx.put(f"{fake_url}/_fake/faults", json={"rate_500": 0.6, "rate_timeout": 0.6})
    assert response.status_code == 422
    assert control(fake_url, "GET", "/faults")["rate_timeout"] == 0


@pytest.mark.parametrize("stop", ["STOP", " arrêt ", "Arret"])
def test_an_inbound_stop_blocks_the_next_message_with_21610_and_start_lifts_it(client, fake_url, receiver, stop):
    answer = control(
        fake_url,
        "POST",
        "/inbound",
        json={"from": USAGER, "to": OUR_NUMBER, "body": stop, "url": f"{receiver.url}/sms"},
    )
    assert (answer["webhook_status"], answer["unsubscribed"]) == (200, True)
    url, params, signature = receiver.received[-1]
    assert (params["From"], params["To"], params["Body"], params["NumMedia"]) == (USAGER, OUR_NUMBER, stop, "0")
    assert params["MessageSid"] == answer["sid"]
    assert RequestValidator(AUTH_TOKEN).validate(url, params, signature)
    with pytest.raises(TwilioRestException) as error:
        send(client)
    assert (error.value.status, error.value.code) == (400, 21610)
    send(client, to="+33698765432")  # only the usager who said STOP

    control(fake_url, "POST", "/inbound", json={"from": USAGER, "to": OUR_NUMBER, "body": "START", "url": receiver.url})
    assert control(fake_url, "GET", "/unsubscribed") == {"numbers": []}
    assert send(client).status == "queued"


def test_the_control_list_counts_every_message_in_the_order_received(client, fake_url):
    sids = [send(client, to=f"+3361234567{digit}").sid for digit in range(3)]
    listed = control(fake_url, "GET", "/messages")["messages"]
    assert [(m["order"], m["sid"]) for m in listed] == list(zip([1, 2, 3], sids, strict=True))


def test_the_stats_count_messages_recipients_and_segments(client, fake_url):
    for to in ("+33612345670", "+33612345670", "+33612345671"):
        send(client, to=to)
    send(client, to="+33612345672", body="ê" * 100)  # ê is not in GSM-7: UCS-2, two segments
    stats = control(fake_url, "GET", "/stats")
    assert (stats["outbound"], stats["recipients"], stats["repeated"]) == (4, 3, 1)
    assert (stats["segments"], stats["faults"]) == ({"1": 3, "2": 1}, {"ok": 4})
    assert stats["first_created"] <= stats["last_created"]


def test_the_fake_runs_as_a_process_and_prints_its_url():
    process = subprocess.Popen(
        [sys.executable, "-m", "services.notifications.adapters.fake_twilio", "--port", "0",
         "--account-sid", ACCOUNT_SID, "--auth-token", AUTH_TOKEN, "--step-s", "0.02"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client = twilio_client(url, ACCOUNT_SID, AUTH_TOKEN)
        sid = wait_until(lambda: _try_send(client))
        wait_until(lambda: client.messages(sid).fetch().status == "delivered")
    finally:
        process.terminate()
        process.wait(timeout=10)


def _try_send(client: Client) -> str | None:
    try:
        return str(send(client).sid)
    except Exception:
        return None
