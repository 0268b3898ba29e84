"""Twilio's Messages API as the fake answers it: create, fetch and list, behind HTTP Basic auth."""

from __future__ import annotations

import asyncio
import base64
import hmac
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from services.notifications.adapters.fake_twilio.engine import FakeTwilio
from services.notifications.adapters.fake_twilio.messages import API_VERSION, FakeMessage, TwilioError, validate_create

ACCOUNT = f"/{API_VERSION}/Accounts/{{account_sid}}"
FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")

router = APIRouter(tags=["Twilio Messages API 2010-04-01"])


def authorized(request: Request, account_sid: str) -> FakeTwilio:
    """HTTP Basic with AccountSid:AuthToken (401, code 20003, otherwise); the path's account must be that one."""
    fake: FakeTwilio = request.app.state.fake
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        user = password = ""
    valid = hmac.compare_digest(user, fake.state.account_sid) and hmac.compare_digest(password, fake.state.auth_token)
    if scheme.lower() != "basic" or not valid:
        raise TwilioError(401, 20003, "Authenticate", {"WWW-Authenticate": 'Basic realm="Twilio API"'})
    if account_sid != fake.state.account_sid:
        raise TwilioError(404, 20404, f"The requested resource {request.url.path} was not found")
    return fake


Fake = Annotated[FakeTwilio, Depends(authorized)]


@router.post(f"{ACCOUNT}/Messages.json", status_code=201)
async def create_message(request: Request, fake: Fake) -> JSONResponse:
    form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    if fake.state.faults.delay_s:
        await asyncio.sleep(fake.state.faults.delay_s)
    fault = fake.state.draw_fault()
    if isinstance(fault, TwilioError):
        raise fault
    # A late answer's message is stored before the wait: Twilio took it while the client was giving up.
    answer = _created(form, fake) if fault is None or fault.accepted else fault.unanswered()
    if fault is not None:
        await asyncio.sleep(fault.seconds)
    if isinstance(answer, TwilioError):
        raise answer
    return JSONResponse(answer.resource(), status_code=201)


def _created(form: dict[str, str], fake: FakeTwilio) -> FakeMessage | TwilioError:
    """The message stored and on its way to its last status, or Twilio's answer to a bad create."""
    try:
        validate_create(form, fake.state.unsubscribed)
    except TwilioError as error:
        return error
    message = fake.state.add(
        to=form["To"],
        from_=form.get("From") or None,
        body=form["Body"],
        direction="outbound-api",
        status="queued",
        messaging_service_sid=form.get("MessagingServiceSid") or None,
        status_callback=form.get("StatusCallback") or None,
    )
    fake.send(message)
    return message


@router.get(f"{ACCOUNT}/Messages/{{sid}}.json")
async def fetch_message(request: Request, sid: str, fake: Fake) -> dict[str, Any]:
    message = fake.state.messages.get(sid)
    if message is None:
        raise TwilioError(404, 20404, f"The requested resource {request.url.path} was not found")
    return message.resource()


@router.get(f"{ACCOUNT}/Messages.json")
async def list_messages(request: Request, fake: Fake) -> dict[str, Any]:
    """Newest first; ``To``, ``From``, ``DateSent`` (``<``/``>`` inclusive); ``PageSize``, ``Page``, ``PageToken``.

    The page token is ``PA`` followed by the last SID of the page before, so pages hold still while messages arrive.
    """
    query = request.query_params
    filters = {name: query[name] for name in FILTERS if name in query}
    page_size, page = _integer(query, "PageSize", 50, 1, 1000), _integer(query, "Page", 0, 0, None)
    matching = [message for message in fake.state.newest_first() if _matches(message, filters)]
    token = query.get("PageToken")
    if token:
        after = fake.state.messages.get("SM" + token.removeprefix("PASM"))
        if not token.startswith("PASM") or after is None:
            raise TwilioError(400, 20001, f"Invalid PageToken: {token}")
        matching = [message for message in matching if message.order < after.order]
    items = matching[:page_size]
    path = request.url.path

    def uri(page: int, token: str | None = None) -> str:
        params: dict[str, Any] = {**filters, "PageSize": page_size, "Page": page}
        if token:
            params["PageToken"] = token
        return f"{path}?{urlencode(params)}"

    start = page * page_size
    return {
        "messages": [message.resource() for message in items],
        "start": start,
        "end": start + max(len(items) - 1, 0),
        "page": page,
        "page_size": page_size,
        "uri": uri(page, token),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1, "PA" + items[-1].sid) if len(matching) > page_size else None,
        "previous_page_uri": None,
    }


def _integer(query: Any, name: str, default: int, low: int, high: int | None) -> int:
    try:
        value = int(query.get(name, default))
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        raise TwilioError(400, 20001, f"Invalid {name}: {query.get(name)}")
    return value


def _matches(message: FakeMessage, filters: dict[str, str]) -> bool:
    if "To" in filters and message.to != filters["To"]:
        return False
    if "From" in filters and message.from_ != filters["From"]:
        return False
    for name, operator in (("DateSent", "="), ("DateSent<", "<"), ("DateSent>", ">")):
        if name in filters and not _sent_matches(message, operator, filters[name]):
            return False
    return True


def _sent_matches(message: FakeMessage, operator: str, value: str) -> bool:
    """A day (``YYYY-MM-DD``) compares with the day sent, a moment (ISO 8601, as the SDK sends) with the moment."""
    if message.sent is None:
        return False
    try:
        if operator == "=" or len(value) == 10:
            day, sent_day = date.fromisoformat(value[:10]), message.sent.date()
            return {"=": sent_day == day, "<": sent_day <= day, ">": sent_day >= day}[operator]
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise TwilioError(400, 20001, f"Invalid DateSent: {value}") from error
    return message.sent <= moment if operator == "<" else message.sent >= moment
