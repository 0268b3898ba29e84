"""A local SMTP sink for development, tests and the demo: it accepts every mail and stores it in a Maildir.

Run it: ``python -m services.notifications.adapters.smtp_sink --port 0 --maildir DIR`` prints
``smtp://127.0.0.1:<port>`` first, then serves until SIGTERM or Ctrl-C; point ``SMTP_HOST``/``SMTP_PORT`` at it.
In a test: ``with SmtpSink(tmp_path) as sink:`` (or ``async with``) starts it on a free port, in a thread;
``sink.received()`` or ``read_mails(DIR)`` read the mails back (``email.message.EmailMessage``), each with the SMTP
envelope in ``X-MailFrom`` and ``X-RcptTo``. ``sink.faults`` makes it refuse a recipient (``550``), answer
``DATA`` with an error (``451``), or answer it late, once the mail is stored (a send in doubt).

Production sends through a real SMTP server, configured by the settings only: nothing here is used there.
"""

from services.notifications.adapters.smtp_sink.sink import DEFAULT_MAILDIR, Faults, SmtpSink, read_mails

__all__ = ["DEFAULT_MAILDIR", "Faults", "SmtpSink", "read_mails"]
