"""The fake Twilio against Twilio's published contract: the Message schema, segments, signatures, create's errors."""

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from twilio.request_validator import RequestValidator

from services.notifications.adapters.fake_twilio import Faults
from services.notifications.adapters.fake_twilio.engine import PATHS
from services.notifications.adapters.fake_twilio.messages import (
    FakeMessage,
    TwilioError,
    num_segments,
    validate_create,
)
from services.notifications.adapters.fake_twilio.state import FakeTwilioState, Late
from services.notifications.adapters.fake_twilio.webhooks import signature, status_params

SPEC = json.loads((Path(__file__).parents[1] / "data" / "twilio_message_schema.json").read_text())
ACCOUNT_SID = "AC" + "a" * 32
STATUSES = sorted({"queued", "received"}.union(*PATHS.values()))


def message(**fields) -> FakeMessage:
    defaults = {
        "order": 1,
        "account_sid": ACCOUNT_SID,
        "to": "+33612345678",
        "from_": "+33700000000",
        "body": "Bonjour",
        "direction": "outbound-api",
        "status": "queued",
        "created": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    }
    return FakeMessage(**{**defaults, **fields})


def test_every_field_of_the_fakes_message_is_a_property_of_the_specs_message_schema():
    assert set(message().resource()) <= set(SPEC["properties"])


def test_the_fakes_message_has_every_property_of_the_specs_message_schema():
    assert set(message().resource()) == set(SPEC["properties"])


@pytest.mark.parametrize("status", STATUSES)
def test_every_status_the_fake_gives_is_in_the_specs_enum(status):
    assert status in SPEC["status_enum"]


@pytest.mark.parametrize("direction", ["outbound-api", "inbound"])
def test_every_direction_the_fake_gives_is_in_the_specs_enum(direction):
    assert message(direction=direction).resource()["direction"] in SPEC["direction_enum"]


def test_the_message_is_shaped_like_the_specs_example():
    resource = message(sent=datetime(2026, 3, 2, 9, 30, 1, tzinfo=UTC)).resource()
    assert re.fullmatch(r"SM[0-9a-f]{32}", resource["sid"])
    assert resource["date_created"] == "Mon, 02 Mar 2026 09:30:00 +0000"
    assert resource["date_sent"] == "Mon, 02 Mar 2026 09:30:01 +0000"
    assert (resource["num_segments"], resource["num_media"], resource["api_version"]) == ("1", "0", "2010-04-01")
    assert resource["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{resource['sid']}.json"


@pytest.mark.parametrize(
    ("body", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("é" * 160, 1),  # é, è, à, ù are GSM-7
        ("€" * 80, 1),  # an extension character takes two septets
        ("€" * 81, 2),
        ("ê" + "a" * 69, 1),  # ê is not GSM-7: the whole message is UCS-2
        ("ê" + "a" * 70, 2),
        ("ê" + "a" * 133, 2),
        ("ê" + "a" * 134, 3),
    ],
)
def test_segments_count_gsm7_by_160_and_153_and_ucs2_by_70_and_67(body, segments):
    assert num_segments(body) == segments


def test_the_fakes_signature_is_the_one_twilios_request_validator_computes_and_accepts():
    url = "https://notifications.example/twilio/status?relance=1"
    params = status_params(message(status="delivered"))
    signed = signature("token-de-test", url, params)
    validator = RequestValidator("token-de-test")
    assert signed == validator.compute_signature(url, params)
    assert validator.validate(url, params, signed)
    assert not RequestValidator("un-autre-token").validate(url, params, signed)


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"From": "+33700000000", "Body": "Bonjour"}, 21604),
        ({"To": "0612345678", "From": "+33700000000", "Body": "Bonjour"}, 21211),
        ({"To": "+33 6 12 34 56 78", "From": "+33700000000", "Body": "Bonjour"}, 21211),
        ({"To": "+33612345678", "Body": "Bonjour"}, 21603),
        ({"To": "+33612345678", "From": "+33700000000"}, 21602),
        ({"To": "+33699999999", "From": "+33700000000", "Body": "Bonjour"}, 21610),
    ],
)
def test_a_bad_create_gets_twilios_code_and_a_400(form, code):
    with pytest.raises(TwilioError) as error:
        validate_create(form, unsubscribed={"+33699999999"})
    assert (error.value.status, error.value.code) == (400, code)
    assert error.value.body()["more_info"] == f"https://www.twilio.com/docs/errors/{code}"


def test_a_messaging_service_stands_for_a_sender():
    validate_create({"To": "+33612345678", "MessagingServiceSid": "MG" + "b" * 32, "Body": "Bonjour"}, set())


def draws(faults: Faults, count: int) -> list[int | Late | None]:
    state = FakeTwilioState(ACCOUNT_SID, "token", faults, lambda: datetime.now(UTC))
    return [fault.status if isinstance(fault := state.draw_fault(), TwilioError) else fault for _ in range(count)]


def test_faults_are_the_same_for_the_same_seed_and_near_their_rates():
    faults = Faults(rate_429=0.2, rate_500=0.1, rate_503=0.1, seed=7)
    first, again = draws(faults, 2000), draws(faults, 2000)
    assert first == again
    assert draws(faults.model_copy(update={"seed": 8}), 2000) != first
    assert 0.17 < first.count(429) / 2000 < 0.23
    assert 0.07 < first.count(500) / 2000 < 0.13
    assert 0.07 < first.count(503) / 2000 < 0.13


def test_a_429_says_when_to_come_back():
    state = FakeTwilioState(ACCOUNT_SID, "token", Faults(rate_429=1, retry_after_s=3), lambda: datetime.now(UTC))
    fault = state.draw_fault()
    assert isinstance(fault, TwilioError)
    assert (fault.status, fault.code, fault.headers) == (429, 20429, {"Retry-After": "3"})


def test_timeouts_and_slow_answers_come_at_their_rates_in_the_same_draw_as_the_errors():
    faults = Faults(rate_429=0.08, rate_500=0.04, rate_503=0.04, rate_timeout=0.04, rate_slow=0.1, seed=11,
                    hold_s=9, slow_s=2)  # fmt: skip
    first = draws(faults, 5000)
    assert draws(faults, 5000) == first
    timeouts = [fault for fault in first if isinstance(fault, Late) and fault.kind == "timeout"]
    assert {(fault.seconds, fault.accepted) for fault in timeouts} == {(9, True), (9, False)}
    assert 0.03 < len(timeouts) / 5000 < 0.05
    assert 0.35 < sum(fault.accepted for fault in timeouts) / len(timeouts) < 0.65  # timeout_accepted 0.5
    assert 0.085 < first.count(Late("slow", 2, accepted=True)) / 5000 < 0.115
    assert 0.07 < first.count(429) / 5000 < 0.09
    assert 0.03 < first.count(500) / 5000 < 0.05
    assert 0.03 < first.count(503) / 5000 < 0.05
    assert 0.6 < first.count(None) / 5000 < 0.74


def test_the_share_of_timeouts_twilio_accepted_is_the_second_draws():
    for share, accepted in ((1.0, {True}), (0.0, {False})):
        faults = Faults(rate_timeout=1, timeout_accepted=share, seed=5)
        assert {fault.accepted for fault in draws(faults, 50) if isinstance(fault, Late)} == accepted


def test_the_same_seed_without_timeouts_draws_the_errors_it_drew_before_they_existed():
    """Timeouts and slow answers come after the errors in the draw: a seed's 429/500/503 are the same with them."""
    errors = Faults(rate_429=0.1, rate_500=0.1, rate_503=0.1, seed=3)
    with_late = errors.model_copy(update={"rate_slow": 0.2})
    assert [d if isinstance(d, int) else None for d in draws(with_late, 500)] == draws(errors, 500)


def test_the_drawn_faults_are_counted_by_kind_from_when_they_were_set():
    state = FakeTwilioState(ACCOUNT_SID, "token", Faults(rate_429=0.5, rate_timeout=0.5), lambda: datetime.now(UTC))
    for _ in range(40):
        state.draw_fault()
    assert set(state.drawn) == {"429", "timeout_accepted", "timeout_not_accepted"}
    assert sum(state.drawn.values()) == 40
    state.set_faults(Faults())
    state.draw_fault()
    assert state.drawn == {"ok": 1}


def test_rates_adding_up_past_one_are_refused():
    with pytest.raises(ValidationError, match="at most 1"):
        Faults(rate_429=0.5, rate_503=0.3, rate_timeout=0.3)
