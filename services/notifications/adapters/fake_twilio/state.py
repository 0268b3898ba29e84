"""What the fake holds in memory: messages in the order received, opted-out numbers, failing numbers, faults."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.notifications.adapters.fake_twilio.messages import FakeMessage, TwilioError

Clock = Callable[[], datetime]


class Faults(BaseModel):
    """Failures of create calls, drawn from a generator seeded with ``seed``: the same calls meet the same faults.

    One draw per create, the rates following each other: below ``rate_429`` a 429 (code 20429, with
    ``Retry-After``), then ``rate_500`` a 500 (20500), ``rate_503`` a 503 (20503), ``rate_timeout`` a timeout,
    ``rate_slow`` a slow answer. A timed-out create is held ``hold_s`` (longer than the client waits) before its
    answer; a second draw says whether Twilio had accepted it meanwhile (``timeout_accepted`` of them: stored at
    once, answered 201 late) or not (nothing stored, answered 504). A slow create is accepted and answered after
    ``slow_s``. ``delay_s`` slows every create answer, fault or not.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate_429: float = Field(default=0.0, ge=0, le=1)
    rate_500: float = Field(default=0.0, ge=0, le=1)
    rate_503: float = Field(default=0.0, ge=0, le=1)
    rate_timeout: float = Field(default=0.0, ge=0, le=1)
    rate_slow: float = Field(default=0.0, ge=0, le=1)
    retry_after_s: int = Field(default=1, ge=0)
    hold_s: float = Field(default=30.0, ge=0)
    timeout_accepted: float = Field(default=0.5, ge=0, le=1)
    slow_s: float = Field(default=5.0, ge=0)
    delay_s: float = Field(default=0.0, ge=0)
    seed: int = 0

    @model_validator(mode="after")
    def _rates_share_one_draw(self) -> Faults:
        if self.rate_429 + self.rate_500 + self.rate_503 + self.rate_timeout + self.rate_slow > 1:
            raise ValueError("the rates share one draw: their sum is at most 1")
        return self


@dataclass(frozen=True)
class Late:
    """A create answered ``seconds`` late: a timeout (stored or not, as ``accepted`` says) or a slow answer."""

    kind: Literal["timeout", "slow"]
    seconds: float
    accepted: bool

    @property
    def name(self) -> str:
        """How ``FakeTwilioState.drawn`` counts it."""
        return self.kind if self.kind == "slow" else f"timeout_{'accepted' if self.accepted else 'not_accepted'}"

    def unanswered(self) -> TwilioError:
        """What a client that waited the whole hold gets when Twilio never took the message (the fake's choice)."""
        return TwilioError(504, 20500, "Gateway Timeout")


class Outcome(BaseModel):
    """How a message to a failing number ends (Twilio's delivery errors: 30003 unreachable, 30008 unknown)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["undelivered", "failed"] = "undelivered"
    error_code: int = 30003
    error_message: str = "Unreachable destination handset"


@dataclass(frozen=True)
class CallbackAttempt:
    """One POST the fake made to a webhook: ``status_code`` is None when the connection failed."""

    url: str
    params: dict[str, str]
    signature: str
    idempotency_token: str
    status_code: int | None


class FakeTwilioState:
    def __init__(self, account_sid: str, auth_token: str, faults: Faults, clock: Clock) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock = clock
        self.messages: dict[str, FakeMessage] = {}
        self.unsubscribed: set[str] = set()
        self.failing: dict[str, Outcome] = {}
        self.callbacks: list[CallbackAttempt] = []
        self.set_faults(faults)

    def set_faults(self, faults: Faults) -> None:
        """Faults from now on: the generator starts again from their seed, ``drawn`` counts again from zero."""
        self.faults = faults
        self._random = random.Random(faults.seed)  # noqa: S311 - a reproducible draw, not a secret
        self.drawn: Counter[str] = Counter()

    def draw_fault(self) -> TwilioError | Late | None:
        """The fault the next create meets, counted in ``drawn`` by kind (``ok`` when there is none)."""
        fault = self._draw()
        if fault is None:
            self.drawn["ok"] += 1
        else:
            self.drawn[fault.name if isinstance(fault, Late) else str(fault.status)] += 1
        return fault

    def _draw(self) -> TwilioError | Late | None:
        faults, draw = self.faults, self._random.random()
        if (draw := draw - faults.rate_429) < 0:
            headers = {"Retry-After": str(faults.retry_after_s)}
            return TwilioError(429, 20429, "Too Many Requests", headers)
        if (draw := draw - faults.rate_500) < 0:
            return TwilioError(500, 20500, "Internal Server Error")
        if (draw := draw - faults.rate_503) < 0:
            return TwilioError(503, 20503, "Service Unavailable")
        if (draw := draw - faults.rate_timeout) < 0:
            return Late("timeout", faults.hold_s, accepted=self._random.random() < faults.timeout_accepted)
        if draw - faults.rate_slow < 0:
            return Late("slow", faults.slow_s, accepted=True)
        return None

    def add(self, **fields: Any) -> FakeMessage:
        message = FakeMessage(
            order=len(self.messages) + 1, account_sid=self.account_sid, created=self.clock(), **fields
        )
        self.messages[message.sid] = message
        return message

    def move(self, message: FakeMessage, status: str, outcome: Outcome | None = None) -> None:
        message.status = status
        message.updated = self.clock()
        if status == "sent":
            message.sent = message.updated
        if outcome is not None and status == outcome.status:
            message.error_code, message.error_message = outcome.error_code, outcome.error_message

    def newest_first(self) -> list[FakeMessage]:
        return sorted(self.messages.values(), key=lambda message: message.order, reverse=True)

    def reset(self) -> None:
        self.messages.clear()
        self.unsubscribed.clear()
        self.failing.clear()
        self.callbacks.clear()
        self.set_faults(Faults())
