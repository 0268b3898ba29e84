"""``python -m services.notifications.adapters.fake_twilio --port N``: serve the fake, print its base URL first.

``--port 0`` takes a free port; the printed URL says which. The account and token come from ``--account-sid`` and
``--auth-token`` (or ``FAKE_TWILIO_ACCOUNT_SID``/``FAKE_TWILIO_AUTH_TOKEN``), demo values otherwise.
"""

from __future__ import annotations

import argparse
import os
import socket

import uvicorn

from services.notifications.adapters.fake_twilio.app import fake_twilio_app

DEMO_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEMO_AUTH_TOKEN = "fake-twilio-demo-token"  # noqa: S105 - the fake's own, for the demo


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="fake_twilio", description="A local fake of Twilio's Messages API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--account-sid", default=os.environ.get("FAKE_TWILIO_ACCOUNT_SID", DEMO_ACCOUNT_SID))
    parser.add_argument("--auth-token", default=os.environ.get("FAKE_TWILIO_AUTH_TOKEN", DEMO_AUTH_TOKEN))
    parser.add_argument("--step-s", type=float, default=0.5, help="seconds between a message's statuses")
    args = parser.parse_args(argv)
    sock = socket.create_server((args.host, args.port))
    host, port = sock.getsockname()[:2]
    print(f"http://{host}:{port}", flush=True)
    app = fake_twilio_app(args.account_sid, args.auth_token, step_s=args.step_s)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
