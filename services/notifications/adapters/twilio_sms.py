"""SMS through Twilio's Messages API with the real ``twilio`` SDK (the fake Twilio in development and tests).

The SDK is synchronous (``requests``): calls run in a pool of threads, one SDK client per thread. Its HTTP client
logs query strings at INFO (a listing's ``To`` is a phone number), so it gets a logger of its own that says
nothing below WARNING; urllib3 below it logs them at DEBUG, so its logger says nothing below INFO.

How Twilio's answers map to the sender's failures:
- 429 (20429) and 503: not accepted, try again later, not before their ``Retry-After`` (seconds) when they have one;
- other 5xx, a read timeout, a connection lost after the request went out: perhaps accepted (``InDoubt``);
- a refused connection or a connect timeout: not sent, try again later;
- 401/403/404: the account or credentials are wrong; try again later (an operator fixes the settings), every
  message is kept;
- other 4xx (21211 invalid number, 21610 unsubscribed recipient, 21614 not a mobile…): never worth retrying.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from services.notifications.adapters.gateways import Accepted, InDoubt, PermanentFailure, SendFailed, TransientFailure
from services.notifications.adapters.rate_limit import TokenBucket

TWILIO_API = "https://api.twilio.com"
RECONCILE_PAGE_SIZE = 50

_sdk_log = logging.getLogger("tournees.twilio_sdk")
_sdk_log.setLevel(logging.WARNING)
# urllib3 (under requests) logs each request line at DEBUG, query string included: a listing's To is a phone number.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)

T = TypeVar("T")


class RedirectingHttpClient(TwilioHttpClient):  # type: ignore[misc]  # the SDK has no type hints
    """Sends what is meant for ``https://api.twilio.com`` to another base URL (the fake Twilio).

    ``Client.api.base_url`` could be changed instead, but only for the ``api`` domain; the HTTP client sees every
    request (next pages included, which the SDK builds from ``next_page_uri`` on the same host).
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        super().__init__(logger=_sdk_log, **kwargs)
        self.base_url = base_url.rstrip("/")
        self.retry_after_s: float | None = None
        """The last answer's ``Retry-After`` in seconds: the SDK's exceptions leave the headers out."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if url.startswith(TWILIO_API) and self.base_url != TWILIO_API:
            url = self.base_url + url.removeprefix(TWILIO_API)
        self.retry_after_s = None
        response = super().request(method, url, *args, **kwargs)
        self.retry_after_s = _seconds(response.headers.get("Retry-After") if response.headers else None)
        return response


def twilio_client(api_url: str, account_sid: str, auth_token: str, timeout_s: float | None = None) -> Client:
    """A ``twilio.rest.Client`` talking to ``api_url`` (Twilio itself, or the fake)."""
    return Client(account_sid, auth_token, http_client=RedirectingHttpClient(api_url, timeout=timeout_s))


class TwilioSmsGateway:
    """``SmsGateway`` over Twilio: from one number (``sender``), at most ``per_second`` messages a second."""

    def __init__(
        self,
        new_client: Callable[[], Client],
        sender: str,
        *,
        status_callback: str | None,
        per_second: float,
        threads: int = 8,
    ) -> None:
        self.sender = sender
        self._new_client = new_client
        self._status_callback = status_callback
        self._bucket = TokenBucket(per_second)
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="twilio")
        self._local = threading.local()

    async def send(self, to: str, body: str) -> Accepted:
        await self._bucket.take()
        extra = {"status_callback": self._status_callback} if self._status_callback else {}
        message = await self._call(lambda client: client.messages.create(to=to, from_=self.sender, body=body, **extra))
        return Accepted(provider_sid=str(message.sid))

    async def find_accepted(self, to: str, body: str, since: dt.datetime, known: Collection[str]) -> str | None:
        """Pages through the messages to ``to`` from this sender, newest first, down to ``since``."""

        def find(client: Client) -> str | None:
            for message in client.messages.stream(to=to, from_=self.sender, page_size=RECONCILE_PAGE_SIZE):
                if message.date_created is not None and message.date_created < since:
                    return None
                if message.body == body and message.sid not in known:
                    return str(message.sid)
            return None

        return await self._call(find)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _call(self, call: Callable[[Client], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, lambda: self._in_thread(call))

    def _in_thread(self, call: Callable[[Client], T]) -> T:
        """``call`` with this thread's client, its failures read in the same thread (the client's last answer)."""
        client = self._client()
        try:
            return call(client)
        except TwilioRestException as exc:
            raise _failure(exc, getattr(client.http_client, "retry_after_s", None)) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _network_failure(exc) from None

    def _client(self) -> Client:
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._new_client()
        return client


def _failure(exc: TwilioRestException, retry_after_s: float | None = None) -> SendFailed:
    code = str(exc.code) if exc.code is not None else str(exc.status)
    reason = f"Twilio {exc.status} ({code})"
    if exc.status in (429, 503):
        return TransientFailure(reason, code=code, retry_after_s=retry_after_s)
    if exc.status >= 500:
        return InDoubt(reason, code=code)
    if exc.status in (401, 403, 404):
        return TransientFailure(f"{reason}: check the Twilio account settings", code=code)
    return PermanentFailure(reason, code=code)


def _network_failure(exc: requests.RequestException) -> SendFailed:
    if _never_left(exc):
        return TransientFailure(f"Twilio unreachable ({type(exc).__name__})")
    return InDoubt(f"no answer from Twilio ({type(exc).__name__})")


def _never_left(exc: requests.RequestException) -> bool:
    """Whether the request failed before it could reach Twilio (refused, no route, no name, connect timeout)."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectTimeout) or isinstance(reason, NewConnectionError)


def _seconds(retry_after: str | None) -> float | None:
    """``Retry-After`` as a number of seconds (its HTTP-date form is left to the backoff alone)."""
    value = (retry_after or "").strip()
    return float(value) if value.isdigit() else None
