"""``SmtpEmailGateway`` against the real SMTP sink (aiosmtpd, in process): what arrives, and how a send fails."""

from __future__ import annotations

import datetime as dt
import socket
import traceback
from collections.abc import AsyncIterator
from email.utils import parsedate_to_datetime

import pytest
from pydantic import SecretStr

from services.notifications.adapters.gateways import (
    Accepted,
    InDoubt,
    PermanentFailure,
    SendFailed,
    TransientFailure,
)
from services.notifications.adapters.smtp_email import SmtpEmailGateway
from services.notifications.adapters.smtp_sink import SmtpSink
from services.notifications.settings import NotificationsSettings

TO = "jeanne.lefevre@example.org"
SENDER = "Tournées <notifications@tournees.localhost>"
MESSAGE_ID = "<3f1c2a9e-8d7b-4c55-9a61-0d2e4b7f9c10@tournees>"
SUBJECT = "Rappel : atelier numérique le mardi 8 décembre à 9h30"
BODY = "Bonjour Hélène,\n\n    Où : Salle des fêtes, Bazoches-sur-Hoëne\n\nÀ bientôt,\nVos conseillers numériques\n"


@pytest.fixture
async def sink(tmp_path) -> AsyncIterator[SmtpSink]:
    async with SmtpSink(tmp_path / "mail") as running:
        yield running


def _gateway(sink: SmtpSink, **overrides: object) -> SmtpEmailGateway:
    arguments: dict[str, object] = {"host": sink.host, "port": sink.port, "sender": SENDER, "timeout_s": 5.0}
    arguments.update(overrides)
    return SmtpEmailGateway(**arguments)  # type: ignore[arg-type]


async def _send(gateway: SmtpEmailGateway, to: str = TO) -> Accepted:
    return await gateway.send(to, SUBJECT, BODY, MESSAGE_ID)


def _assert_names_no_address(failure: SendFailed, *addresses: str) -> None:
    assert failure.__cause__ is None
    assert failure.__context__ is None
    shown = "".join(traceback.format_exception(failure)) + repr(failure) + failure.reason + repr(failure.args)
    for address in (TO, *addresses):
        assert address.casefold() not in shown.casefold()
        assert address.split("@")[0].casefold() not in shown.casefold()


async def test_a_sent_mail_arrives_with_its_headers_and_utf8_body(sink):
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    assert await _send(_gateway(sink)) == Accepted(provider_sid=None)
    [mail] = sink.received()
    assert mail["From"] == SENDER
    assert mail["To"] == TO
    assert mail["Subject"] == SUBJECT
    assert mail["Message-ID"] == MESSAGE_ID
    assert before <= parsedate_to_datetime(mail["Date"]) <= dt.datetime.now(dt.UTC)
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content() == BODY
    assert mail["X-MailFrom"] == "notifications@tournees.localhost"  # the envelope
    assert mail["X-RcptTo"] == TO


async def test_the_same_message_id_is_kept_on_every_attempt(sink):
    gateway = _gateway(sink)
    await _send(gateway)
    await _send(gateway)
    assert [mail["Message-ID"] for mail in sink.received()] == [MESSAGE_ID, MESSAGE_ID]


async def test_a_non_ascii_address_goes_through_with_smtputf8(sink):
    await _send(_gateway(sink), to="hélène@exemple.fr")
    [mail] = sink.received()
    assert mail["To"] == "hélène@exemple.fr"
    assert mail["X-RcptTo"] == "hélène@exemple.fr"
    assert mail.get_content() == BODY


async def test_a_closed_port_is_a_transient_failure():
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    gateway = SmtpEmailGateway(host="127.0.0.1", port=port, sender=SENDER, timeout_s=5.0)
    with pytest.raises(TransientFailure) as failed:
        await _send(gateway)
    assert type(failed.value) is TransientFailure
    assert not failed.value.in_doubt
    assert failed.value.reason == "SMTP connection refused at connect"
    _assert_names_no_address(failed.value)


async def test_a_server_that_never_answers_times_out_as_a_transient_failure():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never greets
        gateway = SmtpEmailGateway(host="127.0.0.1", port=silent.getsockname()[1], sender=SENDER, timeout_s=0.3)
        with pytest.raises(TransientFailure) as failed:
            await _send(gateway)
    assert type(failed.value) is TransientFailure
    assert failed.value.reason == "SMTP timeout at connect"


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.1.1 <jeanne.lefevre@example.org>: Recipient address rejected: User unknown",
        "553 5.1.3 Bad recipient address syntax jeanne.lefevre@example.org",
    ],
)
async def test_a_refused_recipient_is_a_permanent_failure_naming_no_address(sink, reply):
    sink.faults.rcpt_replies[TO] = reply
    with pytest.raises(PermanentFailure) as failed:
        await _send(_gateway(sink))
    code = reply[:3]
    assert failed.value.reason == f"SMTP {code} recipient refused"
    assert failed.value.code == code
    _assert_names_no_address(failed.value)
    assert sink.received() == []


async def test_a_recipient_deferred_with_451_is_a_transient_failure(sink):
    sink.faults.rcpt_replies[TO] = "451 4.7.1 <jeanne.lefevre@example.org>: greylisted, try again later"
    with pytest.raises(TransientFailure) as failed:
        await _send(_gateway(sink))
    assert type(failed.value) is TransientFailure
    assert failed.value.reason == "SMTP 451 recipient refused"
    assert failed.value.code == "451"
    _assert_names_no_address(failed.value)


@pytest.mark.parametrize(
    ("reply", "failure"),
    [("451 4.3.0 Try again later", TransientFailure), ("554 5.7.1 Message rejected as spam", PermanentFailure)],
)
async def test_a_refused_data_maps_by_its_code(sink, reply, failure):
    sink.faults.data_reply = reply
    with pytest.raises(SendFailed) as failed:
        await _send(_gateway(sink))
    assert type(failed.value) is failure
    assert failed.value.reason == f"SMTP {reply[:3]} message refused"
    _assert_names_no_address(failed.value)


async def test_no_answer_to_data_in_time_is_in_doubt_and_the_mail_may_well_have_arrived(sink):
    sink.faults.data_delay_s = 2.0
    with pytest.raises(InDoubt) as failed:
        await _send(_gateway(sink, timeout_s=0.3))
    assert failed.value.in_doubt
    assert failed.value.reason.startswith("SMTP timeout after DATA")
    _assert_names_no_address(failed.value)
    [mail] = sink.received()
    assert mail["Message-ID"] == MESSAGE_ID  # how the sender can tell a resent one apart


async def test_an_address_that_cannot_be_a_header_is_a_permanent_failure(sink):
    injected = "jeanne.lefevre@example.org\r\nBcc: victime@example.org"
    with pytest.raises(PermanentFailure) as failed:
        await _send(_gateway(sink), to=injected)
    assert failed.value.reason == "invalid recipient address"
    _assert_names_no_address(failed.value, "victime@example.org")
    assert sink.received() == []


async def test_a_message_id_is_required_as_given(sink):
    with pytest.raises(ValueError, match="Message-ID"):
        await _gateway(sink).send(TO, SUBJECT, BODY, "3f1c2a9e@tournees")
    assert sink.received() == []


async def test_it_logs_in_when_a_username_is_set(tmp_path):
    async with SmtpSink(tmp_path, credentials=("tournees", "s3cret")) as sink:
        with pytest.raises(TransientFailure) as failed:
            await _send(_gateway(sink))  # no AUTH: the sink requires it
        assert failed.value.code == "530"
        with pytest.raises(TransientFailure) as failed:
            await _send(_gateway(sink, username="tournees", password=SecretStr("wrong")))
        assert failed.value.reason == "SMTP 535 authentication failed"
        await _send(_gateway(sink, username="tournees", password=SecretStr("s3cret")))
        assert [mail["Message-ID"] for mail in sink.received()] == [MESSAGE_ID]


async def test_starttls_against_a_server_without_it_is_a_transient_failure(sink):
    with pytest.raises(TransientFailure) as failed:
        await _send(_gateway(sink, starttls=True))
    assert failed.value.reason == "SMTP extension not supported (STARTTLS or AUTH)"
    assert sink.received() == []


async def test_the_settings_configure_it(sink):
    settings = NotificationsSettings(
        smtp_host=sink.host, smtp_port=sink.port, email_from="Médiation <mediation@example.fr>", smtp_timeout_s=5
    )
    await _send(SmtpEmailGateway.from_settings(settings))
    [mail] = sink.received()
    assert mail["From"] == "Médiation <mediation@example.fr>"
    defaults = NotificationsSettings()
    assert (defaults.smtp_host, defaults.smtp_port, defaults.smtp_starttls) == ("127.0.0.1", 8025, False)
    assert defaults.smtp_username == ""
