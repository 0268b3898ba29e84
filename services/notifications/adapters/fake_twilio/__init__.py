"""A local fake of Twilio's Messages API (contract 2010-04-01), for development, tests and the demo.

Run it: ``python -m services.notifications.adapters.fake_twilio --port 0`` prints its base URL; point the real SDK
at it with ``twilio_client(base_url, account_sid, auth_token)`` (``adapters/twilio_sms.py``).

Where each rule comes from:

- Paths, the Message resource and the create/list parameters: Twilio's OpenAPI description, repository
  ``twilio/twilio-oai``, ``spec/json/twilio_api_v2010.json`` (commit 00c8d36829d67333c14bef357affd57851408ad7):
  ``POST``/``GET /2010-04-01/Accounts/{AccountSid}/Messages.json`` (CreateMessage, ListMessage) and
  ``GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`` (FetchMessage); the schema
  ``api.v2010.account.message`` (``sid`` ``^(SM|MM)[0-9a-fA-F]{32}$``, ``num_segments``/``num_media`` strings,
  ``error_code`` an integer, dates ``date-time-rfc-2822``), ``message_enum_status``, ``message_enum_direction``;
  CreateMessageRequest (form-encoded; ``To`` required; ``From``, ``MessagingServiceSid``, ``Body``,
  ``StatusCallback``); ListMessage's query (``To``, ``From``, ``DateSent``, ``DateSent<``, ``DateSent>``,
  ``PageSize`` 1–1000 default 50, ``Page``, ``PageToken``) and its page fields (``first_page_uri``,
  ``next_page_uri``, ``previous_page_uri``, ``page``, ``page_size``, ``start``, ``end``, ``uri``); the security
  scheme ``accountSid_authToken`` (HTTP Basic). ``tests/data/twilio_message_schema.json`` holds the schema's names.
- The error body (``code``, ``message``, ``more_info``, ``status``) and the codes 20003, 20404, 20429, 20500, 20503,
  21211, 21602, 21603, 21604, 21610, 30003, 30008: Twilio's error dictionary (twilio.com/docs/api/errors), and
  the ``twilio`` SDK 9.13.0 reading that body into ``TwilioRestException`` (``twilio/base/version.py``).
- Status callbacks and incoming-message webhooks (form-encoded POSTs; ``MessageSid``, ``MessageStatus``,
  ``ErrorCode``…; ``Body``, ``NumMedia``…): Twilio's Messaging docs (message resource, "Outbound Message Status in
  Status Callbacks", the messaging webhook request). ``X-Twilio-Signature``: Twilio's "Secure webhooks" page
  (twilio.com/docs/usage/webhooks/webhooks-security): base64 HMAC-SHA1 keyed with the auth token over the URL
  followed by the sorted POST parameters; the tests check it with the SDK's ``RequestValidator``.
- Opt-out keywords (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT; START, UNSTOP, YES to opt in): Twilio's default
  opt-out handling; the answer 21610 to a later create. ARRET and ARRÊT are Tournées' own rule, not Twilio's.
- GSM-7 (160, 153 per part) and UCS-2 (70, 67) segments: the ``Body`` parameter's description in the spec and
  GSM 03.38 for the character set.

The fake's own choices, not Twilio's: a status callback for each status after ``queued`` (``sending``, ``sent``,
then ``delivered``, ``undelivered`` or ``failed``), in order, each POST tried up to three times; ``price`` stays
null; a path account other than the authenticated one answers 404 (20404); a bad ``PageSize``/``Page``/
``PageToken``/``DateSent`` answers 400 with code 20001; an opt-out holds for every sender of the account; media is
not supported (``Body`` is required); a create drawn to time out that Twilio did not take answers 504 (code
20500) once its hold is over. The ``/_fake`` routes are test controls, no part of the contract.
"""

from services.notifications.adapters.fake_twilio.app import fake_twilio_app
from services.notifications.adapters.fake_twilio.state import Faults, Outcome

__all__ = ["Faults", "Outcome", "fake_twilio_app"]
