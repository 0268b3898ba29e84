"""The requests the fake makes: status callbacks and incoming-message webhooks, form-encoded and signed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping

import httpx

from services.notifications.adapters.fake_twilio.messages import API_VERSION, FakeMessage, num_segments
from services.notifications.adapters.fake_twilio.state import CallbackAttempt, FakeTwilioState

ATTEMPTS = 3
BACKOFF_S = 0.2
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


def signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """``X-Twilio-Signature``: base64 of HMAC-SHA1, keyed with the auth token, over the full URL followed by each
    POST parameter's name and value, sorted by name."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def status_params(message: FakeMessage) -> dict[str, str]:
    """A status callback's parameters (``ErrorCode`` only when the message failed or was undelivered)."""
    params = {
        "AccountSid": message.account_sid,
        "ApiVersion": API_VERSION,
        "From": message.from_ or "",
        "MessageSid": message.sid,
        "MessageStatus": message.status,
        "SmsSid": message.sid,
        "SmsStatus": message.status,
        "To": message.to,
    }
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if message.error_code is not None:
        params["ErrorCode"] = str(message.error_code)
    return params


def incoming_params(message: FakeMessage) -> dict[str, str]:
    """An incoming-message webhook's parameters (an SMS, no media)."""
    return {
        "AccountSid": message.account_sid,
        "ApiVersion": API_VERSION,
        "Body": message.body,
        "From": message.from_ or "",
        "MessageSid": message.sid,
        "NumMedia": "0",
        "NumSegments": str(num_segments(message.body)),
        "SmsMessageSid": message.sid,
        "SmsSid": message.sid,
        "SmsStatus": "received",
        "To": message.to,
    }


def idempotency_token() -> str:
    """``I-Twilio-Idempotency-Token``: one per webhook, the same on each retry of it; opaque (not signed)."""
    return str(uuid.uuid4())


async def post_signed(
    client: httpx.AsyncClient, state: FakeTwilioState, url: str, params: dict[str, str]
) -> int | None:
    """POST ``params`` to ``url``, again after a refused or failed attempt (``ATTEMPTS`` in all), each attempt with
    the same signature and idempotency token; the last status."""
    signed, token = signature(state.auth_token, url, params), idempotency_token()
    headers = {"X-Twilio-Signature": signed, IDEMPOTENCY_HEADER: token}
    status_code: int | None = None
    for attempt in range(ATTEMPTS):
        if attempt:
            await asyncio.sleep(BACKOFF_S * attempt)
        try:
            response = await client.post(url, data=params, headers=headers)
            status_code = response.status_code
        except httpx.HTTPError:
            status_code = None
        state.callbacks.append(CallbackAttempt(url, params, signed, token, status_code))
        if status_code is not None and status_code < 400:
            break
    return status_code
