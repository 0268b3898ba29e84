"""What an usager's SMS reply asks for: to stop receiving SMS, to receive them again, to cancel their next
booking (ANNULER: what every SMS tells them to reply), or nothing. Pure Python.

The keywords are Twilio's own (its Advanced Opt-Out handles them on its side too, and answers the
usager itself) and the French ARRET/ARRÊT; case, surrounding spaces and punctuation do not count,
so "Arrêt ", "stop." and " STOP!" all stop. Any other reply is not a request (seniors answer "merci").
"""

from __future__ import annotations

import enum
import string

OPT_OUT_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ARRET", "ARRÊT"})
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})
CANCEL_KEYWORDS = frozenset({"ANNULER", "ANNULE", "ANNULÉ", "ANNULEZ", "ANNULATION"})
CANCELLED_BY_SMS = "cancelled by the usager, by SMS"
OPT_OUT_REASON = "the usager replied STOP: no more SMS"

_IGNORED_AROUND = string.whitespace + string.punctuation + "«»…’“”¡¿"


class SmsRequest(enum.Enum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    CANCEL = "cancel"


def sms_request(body: str) -> SmsRequest | None:
    """The request an SMS reply makes, if any."""
    word = body.strip(_IGNORED_AROUND).upper()
    if word in OPT_OUT_KEYWORDS:
        return SmsRequest.OPT_OUT
    if word in OPT_IN_KEYWORDS:
        return SmsRequest.OPT_IN
    if word in CANCEL_KEYWORDS:
        return SmsRequest.CANCEL
    return None
