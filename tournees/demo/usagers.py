"""The demo's usagers: fictional people booked into the published permanences, and what reaches them.

Their phone numbers are made up and go nowhere: notifications sends through the local fake of Twilio,
which keeps every SMS it accepts, and e-mails through the SMTP sink, which keeps them in a Maildir.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from tournees.demo.territories import fictional_name

EMAIL_EVERY = 4
"""One usager in four has an e-mail address and chose it; the others, mostly seniors, get SMS."""


class Api(Protocol):
    async def __call__(self, method: str, service: str, path: str, **kwargs: Any) -> Any: ...


@dataclass(frozen=True)
class Booked:
    booking_id: str
    name: str
    phone: str | None
    channel: str
    territory: str
    time_zone: str


@dataclass(frozen=True)
class Delivery:
    """One message to an usager: sent (with when it arrived) or still waiting (with when it will go)."""

    usager: Booked
    kind: str
    channel: str
    text: str
    at: dt.datetime
    sent: bool
    segments: int | None = None


def phone_of(n: int, overseas: bool) -> str:
    """Made-up mobile numbers: Réunion's 0692 for Le Tampon, 07 80 for mainland France."""
    return f"0692 00 {n // 100:02d} {n % 100:02d}" if overseas else f"07 80 00 {n // 100:02d} {n % 100:02d}"


async def book(api: Api, plans: list[tuple[str, str, str]], per_territory: int) -> list[Booked]:
    """``per_territory`` usagers booked into each published plan (territory code, plan id, time zone),
    one after the other into its permanences as long as they have room."""
    booked: list[Booked] = []
    for code, plan_id, zone in plans:
        permanences = await api("GET", "notifications", "/permanences", params={"plan_id": plan_id})
        seats = {p["id"]: p["capacity"] or per_territory for p in permanences}
        for n in range(per_territory):
            free = [pid for pid, left in seats.items() if left > 0]
            if not free:
                break
            permanence_id = free[n % len(free)]
            seats[permanence_id] -= 1
            booked.append(await _book_one(api, len(booked), code, zone, permanence_id))
    return booked


async def _book_one(api: Api, n: int, territory: str, zone: str, permanence_id: str) -> Booked:
    name = fictional_name(100 + n)
    by_email = n % EMAIL_EVERY == EMAIL_EVERY - 1
    phone = phone_of(n, zone == "Indian/Reunion")
    channel = "email" if by_email else "sms"
    body = {"name": name, "phone": phone, "consent": True, "territory": territory, "preferred_channel": channel}
    if by_email:
        body["email"] = f"usager{n}@example.org"
    usager = await api("POST", "notifications", "/usagers", json=body)
    booking = await api(
        "POST", "notifications", "/bookings", json={"usager_id": usager["id"], "permanence_id": permanence_id}
    )
    return Booked(booking["id"], name, phone, channel, territory, zone)


async def deliveries(api: Api, booked: list[Booked], twilio_url: str | None, timeout_s: float = 60) -> list[Delivery]:
    """Each booking's messages once its confirmation went out or waits for the end of quiet hours; the SMS as the
    fake Twilio received them."""
    logs = {b.booking_id: await _settled(api, b.booking_id, timeout_s) for b in booked}
    accepted = await _fake_twilio_messages(twilio_url) if twilio_url else {}
    found: list[Delivery] = []
    for usager in booked:
        for message in logs[usager.booking_id]:
            if message["status"] not in ("sent", "pending") or message["text"] is None:
                continue
            sms = accepted.get(message["provider_sid"] or "")
            if sms is not None:
                at = dt.datetime.strptime(sms["date_created"], "%a, %d %b %Y %H:%M:%S %z")
                found.append(Delivery(usager, message["kind"], "sms", sms["body"], at, True, int(sms["num_segments"])))
                continue
            at = dt.datetime.fromisoformat(message["sent_at"] or message["next_attempt_at"] or message["due_at"])
            found.append(
                Delivery(usager, message["kind"], message["channel"], message["text"], at, message["status"] == "sent")
            )
    return found


async def _settled(api: Api, booking_id: str, timeout_s: float) -> list[dict[str, Any]]:
    """The send log once its confirmation is no longer due now: sent, failed, or waiting for the morning."""

    async def check() -> list[dict[str, Any]] | None:
        log: list[dict[str, Any]] = await api("GET", "notifications", f"/bookings/{booking_id}/messages")
        now = dt.datetime.now(dt.UTC)
        confirmation = next(m for m in log if m["kind"] == "confirmation")
        waiting = confirmation["next_attempt_at"] or confirmation["due_at"]
        if confirmation["status"] != "pending" or dt.datetime.fromisoformat(waiting) > now + dt.timedelta(minutes=1):
            return log
        return None

    log: list[dict[str, Any]] = await _eventually(check, timeout_s)
    return log


async def _fake_twilio_messages(twilio_url: str) -> dict[str, dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.get(f"{twilio_url}/_fake/messages")
        answer.raise_for_status()
    return {m["sid"]: m for m in answer.json()["messages"] if m["direction"] == "outbound-api"}


async def _eventually(check: Callable[[], Awaitable[Any]], timeout_s: float) -> Any:
    deadline = time.monotonic() + timeout_s
    while (result := await check()) is None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the usagers' messages did not go out within {timeout_s:.0f} s")
        await asyncio.sleep(0.2)
    return result


def mails_in(maildir: Path | None) -> int:
    if maildir is None or not (maildir / "new").is_dir():
        return 0
    return sum(1 for _ in (maildir / "new").iterdir()) + sum(1 for _ in (maildir / "cur").iterdir())


def local(moment: dt.datetime, zone: str) -> str:
    days = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
    here = moment.astimezone(ZoneInfo(zone))
    return f"{days[here.weekday()]} {here:%d/%m %H:%M}"
