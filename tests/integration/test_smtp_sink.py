"""The local SMTP sink: it stores every mail in a Maildir, in a test's thread or as a process of its own."""

from __future__ import annotations

import signal
import smtplib
import subprocess
import sys
from email.message import EmailMessage

import pytest

from services.notifications.adapters.smtp_sink import SmtpSink, read_mails


def _mail(to: str = "jeanne@example.org", subject: str = "Rappel : atelier numérique") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Tournées <notifications@tournees.localhost>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Bonjour Hélène,\n\nÀ bientôt.\n")
    return message


def test_the_sink_stores_every_mail_in_order_with_its_envelope(tmp_path):
    maildir = tmp_path / "mail"
    with SmtpSink(maildir) as sink:
        assert sink.url == f"smtp://127.0.0.1:{sink.port}"
        assert sink.port > 0
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            for number in range(3):
                client.send_message(_mail(subject=f"n°{number}"))
        received = sink.received()
    assert [mail["Subject"] for mail in received] == ["n°0", "n°1", "n°2"]
    assert received[0]["X-MailFrom"] == "notifications@tournees.localhost"
    assert received[0]["X-RcptTo"] == "jeanne@example.org"
    assert received[0].get_content() == "Bonjour Hélène,\n\nÀ bientôt.\n"
    assert [mail["Subject"] for mail in read_mails(maildir)] == ["n°0", "n°1", "n°2"]  # still there once stopped
    assert len(list((maildir / "new").iterdir())) == 3


def test_reading_a_maildir_that_does_not_exist_yet_gives_nothing(tmp_path):
    assert read_mails(tmp_path / "nothing") == []
    assert read_mails(tmp_path) == []  # a directory, not a Maildir


def test_the_sink_refuses_the_recipients_its_faults_name(tmp_path):
    with SmtpSink(tmp_path) as sink:
        sink.faults.rcpt_replies["Refuse@Example.org"] = "550 5.1.1 Mailbox unavailable"
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                client.send_message(_mail(to="refuse@example.org"))
            client.send_message(_mail(to="accept@example.org"))
        assert refused.value.recipients == {"refuse@example.org": (550, b"5.1.1 Mailbox unavailable")}
        assert [mail["To"] for mail in sink.received()] == ["accept@example.org"]


async def test_the_sink_runs_in_an_async_test_too(tmp_path):
    async with SmtpSink(tmp_path) as sink:
        sink.faults.data_reply = "451 4.3.0 Try again later"
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as client, pytest.raises(smtplib.SMTPDataError) as refused:
            client.send_message(_mail())
        assert refused.value.smtp_code == 451
        assert sink.received() == []
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP(sink.host, sink.port, timeout=5)  # stopped


def test_the_sink_runs_as_a_process_prints_its_url_and_stops_on_sigterm(tmp_path):
    maildir = tmp_path / "mail"
    process = subprocess.Popen(
        [sys.executable, "-m", "services.notifications.adapters.smtp_sink", "--port", "0", "--maildir", str(maildir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("smtp://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(_mail(subject="Été"))
        received = read_mails(maildir)
        assert [(mail["Subject"], mail["To"]) for mail in received] == [("Été", "jeanne@example.org")]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
