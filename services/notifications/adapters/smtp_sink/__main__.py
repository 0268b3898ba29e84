"""``python -m services.notifications.adapters.smtp_sink --port N --maildir DIR``: serve the sink, print its URL first.

``--port 0`` takes a free port; the printed ``smtp://127.0.0.1:<port>`` says which. It stops on SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from services.notifications.adapters.smtp_sink.sink import DEFAULT_MAILDIR, SmtpSink


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="smtp_sink", description="A local SMTP server that stores every mail.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--maildir", type=Path, default=DEFAULT_MAILDIR, help=f"default: {DEFAULT_MAILDIR}")
    args = parser.parse_args(argv)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    with SmtpSink(args.maildir, host=args.host, port=args.port) as sink:
        print(sink.url, flush=True)
        stopping.wait()


if __name__ == "__main__":
    main()
