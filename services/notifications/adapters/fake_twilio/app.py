"""The fake's FastAPI app: Twilio's Messages API (``contract``) and the test-only ``/_fake`` controls (``control``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from services.notifications.adapters.fake_twilio import contract, control
from services.notifications.adapters.fake_twilio.engine import FakeTwilio, utc_now
from services.notifications.adapters.fake_twilio.messages import TwilioError
from services.notifications.adapters.fake_twilio.state import Clock, FakeTwilioState, Faults


def fake_twilio_app(
    account_sid: str,
    auth_token: str,
    *,
    faults: Faults | None = None,
    clock: Clock = utc_now,
    step_s: float = 0.05,
) -> FastAPI:
    """A fake of Twilio's Messages API (2010-04-01) for ``account_sid``/``auth_token``, plus its ``/_fake`` controls."""
    fake = FakeTwilio(FakeTwilioState(account_sid, auth_token, faults or Faults(), clock), step_s)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await fake.close()

    app = FastAPI(title="Fake Twilio (Messages API 2010-04-01)", lifespan=lifespan)
    app.state.fake = fake
    app.include_router(contract.router)
    app.include_router(control.router)

    @app.exception_handler(TwilioError)
    async def twilio_error(_: Request, error: TwilioError) -> JSONResponse:
        return JSONResponse(error.body(), status_code=error.status, headers=error.headers)

    return app
