"""Twilio's webhooks: an usager's SMS reply (inbound) and the delivery status of a sent SMS (status).

Twilio cannot send a bearer token: each request is authenticated by its ``X-Twilio-Signature``
(HMAC-SHA1 of the URL and the form parameters under the account's auth token), checked here with
the SDK's ``RequestValidator``; a missing or wrong signature is 403 and changes nothing. So is a webhook
applied already (a replay, or Twilio retrying one it did not get the answer of): 403 "replayed". Answers never
repeat a phone number.
"""

import datetime as dt
from collections.abc import Callable
from typing import Annotated
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from fastapi.exceptions import RequestValidationError
from twilio.request_validator import RequestValidator

from services.notifications.service_layer import twilio_webhooks
from services.notifications.service_layer.twilio_webhooks import Replayed, Webhook
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.http import invalid, problems

PREFIX = "/webhooks/twilio"
STATUS_PATH = f"{PREFIX}/status"
"""Where Twilio posts a sent SMS's delivery status (the ``StatusCallback`` of each message)."""
TWIML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
EMPTY_TWIML = f"{TWIML_HEAD}<Response/>"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"
"""Twilio's header naming one webhook, the same on its retries of it (not covered by the signature)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def required(form: dict[str, str], name: str) -> None:
    """A 422 naming the field, in FastAPI's shape, when the form lacks it."""
    if not form.get(name):
        raise RequestValidationError([{"loc": ("body", name), "msg": "Field required", "type": "missing"}])


def router(
    uow: Callable[[], NotificationsUnitOfWork],
    auth_token: str,
    public_base_url: str,
    clock: Callable[[], dt.datetime] = _now,
) -> APIRouter:
    api = APIRouter(prefix=PREFIX, tags=["webhooks"], responses=problems(403))
    validator = RequestValidator(auth_token)
    base = public_base_url.rstrip("/")

    async def signed_form(request: Request) -> dict[str, str]:
        """The form Twilio sent, once its signature checks out; 403 otherwise.

        The signature is over the URL as Twilio called it: ``public_base_url`` + the path, not the
        request's Host or scheme, which a TLS-terminating proxy rewrites (and a client could forge).
        """
        form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        url = base + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(url, form, signature):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid Twilio signature")
        return form

    Form = Annotated[dict[str, str], Depends(signed_form)]

    def webhook(request: Request, form: Form) -> Webhook:
        required(form, "MessageSid")
        return Webhook(form["MessageSid"], request.headers.get(IDEMPOTENCY_HEADER))

    Received = Annotated[Webhook, Depends(webhook)]

    @api.post("/inbound", response_class=Response, responses=invalid("no MessageSid"))
    async def inbound(form: Form, received: Received) -> Response:
        """An usager's SMS reply. No bearer token: the ``X-Twilio-Signature`` is the authentication.

        STOP, ARRÊT … opt the usager out of SMS at once (their pending SMS are skipped); START, UNSTOP,
        YES opt them back in (Twilio sends its own confirmation of those: the answer is an empty TwiML);
        ANNULER cancels their next booking, and the TwiML answers which one (or that there is none);
        anything else is ignored. The same ``MessageSid`` again is 403 "replayed" and changes nothing.
        """
        try:
            answer = await twilio_webhooks.sms_reply(
                received, form.get("From", ""), form.get("Body", ""), uow(), clock()
            )
        except Replayed as replayed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "replayed") from replayed
        if answer is None:
            return Response(EMPTY_TWIML, media_type="text/xml")
        return Response(f"{TWIML_HEAD}<Response><Message>{escape(answer)}</Message></Response>", media_type="text/xml")

    @api.post(
        STATUS_PATH.removeprefix(PREFIX),
        status_code=status.HTTP_200_OK,
        response_class=Response,
        responses=invalid("no MessageSid or MessageStatus"),
    )
    async def delivery_status(form: Form, received: Received) -> Response:
        """A sent SMS's delivery status. No bearer token: the ``X-Twilio-Signature`` is the authentication.

        Recorded on the message with that ``MessageSid``, never over a later status (callbacks can come out of
        order: a late one is answered 200 and changes nothing); a sid no message has yet is kept for when the sender
        records it, and answered 200 all the same. The same ``MessageSid`` and ``MessageStatus`` again is 403
        "replayed" and changes nothing.
        """
        required(form, "MessageStatus")
        try:
            await twilio_webhooks.delivery_status(
                received, form["MessageStatus"], form.get("ErrorCode") or None, uow(), clock()
            )
        except Replayed as replayed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "replayed") from replayed
        return Response(status_code=status.HTTP_200_OK)

    return api
