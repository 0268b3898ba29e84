"""The real ``twilio`` SDK pointed at the fake: its own HTTP client, sending what is meant for Twilio's API host to
another base URL.

``Client.api.base_url`` could be changed instead, but only for the ``api`` domain; the HTTP client sees every
request (next pages included, which the SDK builds from ``next_page_uri`` on the same host), whatever the domain.
"""

from __future__ import annotations

from typing import Any

from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

TWILIO_API = "https://api.twilio.com"


class RedirectingHttpClient(TwilioHttpClient):  # type: ignore[misc]  # the SDK has no type hints
    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API):
            url = self.base_url + url.removeprefix(TWILIO_API)
        return super().request(method, url, *args, **kwargs)


def fake_twilio_client(base_url: str, account_sid: str, auth_token: str) -> Client:
    """A ``twilio.rest.Client`` whose requests to ``https://api.twilio.com`` go to ``base_url``."""
    return Client(account_sid, auth_token, http_client=RedirectingHttpClient(base_url))
