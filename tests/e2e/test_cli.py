"""End to end: the real ``tournees`` CLI as a process, with its embedded nats-server and the
three services as processes, driven over HTTP like any client would."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import SecretStr

from shared.auth import Role, issue_token, verify_token
from shared.settings import DEFAULT_AUTH_SECRET
from tests.e2e.stack import (
    SERVICES,
    ProcInfo,
    StartTournees,
    command_line,
    descendants_of,
    describe,
    is_alive,
    marked_processes,
    urls_for,
    wait_ready,
    wait_until_gone,
)

pytestmark = pytest.mark.e2e

PARIS = ZoneInfo("Europe/Paris")
T = TypeVar("T")


class Expected(NamedTuple):
    commune: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime


def eventually(check: Callable[[], T | None], what: str, timeout_s: float = 30.0) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s:.0f} s")
        time.sleep(0.1)


def next_monday_in_paris() -> dt.date:
    today = dt.datetime.now(PARIS).date()
    return today + dt.timedelta(days=7 - today.weekday())


def at(day: dt.date, hh_mm: str) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(hh_mm), PARIS)


def assert_no_orphans(before: Sequence[ProcInfo], marker: str) -> None:
    """Once ``tournees`` has exited, its children are gone: it waited for each of them. Checked
    at once, with no grace period, so that leaving them to PR_SET_PDEATHSIG does not pass."""
    alive = [p for p in before if is_alive(p)]
    assert not alive, f"children still alive after tournees exited: {describe(alive)}"
    left = marked_processes(marker)
    assert not left, f"processes of this run still alive after tournees exited: {describe(left)}"


def register_a_conseiller(http: httpx.Client, registry: str) -> str:
    """Mortagne in the registry: the territory, the EPN and its room, one conseiller."""

    def ok(path: str, body: dict[str, Any], method: str = "POST") -> Any:
        response = http.request(method, f"{registry}{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json()

    ok("/territories", {"code": "epci:200036069"}, method="PUT")
    epn = ok("/structures", {"name": "EPN de Mortagne-au-Perche", "kind": "epn", "commune": "61293"})
    room = ok(
        "/lieux",
        {
            "name": "EPN de Mortagne-au-Perche", "kind": "structure", "structure_id": epn["id"], "commune": "61293",
            "latitude": 48.5206, "longitude": 0.5465, "capacity": 12, "opening_hours": "Mo-Fr 09:00-17:00",
        },
    )  # fmt: skip
    conseiller = ok(
        "/conseillers",
        {
            "name": "Dominique Loriot", "email": "dominique.loriot@epn.example", "employer_structure_id": epn["id"],
            "home_lieu_id": room["id"], "weekly_hours": 35, "availability": [{"weekday": 0, "half": "am"}],
            "territories": ["epci:200036069"],
        },
    )  # fmt: skip
    conseiller_id: str = conseiller["id"]
    return conseiller_id


@pytest.mark.timeout(240)
def test_up_runs_the_flow_across_the_three_services(
    start_tournees: StartTournees, tmp_path: Path, port_base: int, auth_secret: str
) -> None:
    data_dir = tmp_path / "data"
    urls = urls_for(port_base)
    tournees = start_tournees(
        "up", "--data-dir", str(data_dir), "--port-base", str(port_base), env={"AUTH_SECRET": auth_secret}
    )
    api_token = issue_token(SecretStr(auth_secret), subject="e2e", role=Role.ADMIN)
    wait_ready(tournees, urls, timeout_s=90)

    children = descendants_of(tournees.pid)
    commands = [command_line(c.pid) for c in children]
    assert len(children) == 6, f"expected nats-server, fake Twilio, SMTP sink, three services: {describe(children)}"
    assert any("nats-server" in c for c in commands), commands
    for name in (*SERVICES, "notifications.adapters.fake_twilio", "notifications.adapters.smtp_sink"):
        assert any(f"services.{name}" in c for c in commands), commands
    assert not any(secret in c for c in commands for secret in ("--auth-token", auth_secret)), commands
    # Everything lives under --data-dir.
    assert (data_dir / "nats").is_dir()
    for name in SERVICES:
        assert (data_dir / f"{name}.db").is_file()

    # --- the bearer token: probes are open, the API is not ---------------------------------
    with httpx.Client(timeout=10) as anonymous:
        for name in SERVICES:
            assert anonymous.get(f"{urls[name]}/healthz").status_code == 200
        refused = [
            anonymous.post(f"{urls['registry']}/conseillers", json={"name": "x"}),
            anonymous.get(f"{urls['scheduling']}/conseillers"),
            anonymous.get(f"{urls['notifications']}/permanences"),
            anonymous.get(
                f"{urls['scheduling']}/conseillers",
                # signed with the default secret: not this run's
                headers={
                    "Authorization": f"Bearer {issue_token(SecretStr(DEFAULT_AUTH_SECRET), subject='x', role=Role.ADMIN)}"
                },
            ),
        ]
        for response in refused:
            assert response.status_code == 401, (response.request.url, response.status_code, response.text)
            assert response.headers.get("www-authenticate") == "Bearer"

    # --- the coordinator page: served by scheduling, which tells it where the others are ----
    page = f"{urls['scheduling']}/coordinator/"
    assert httpx.get(page, timeout=10).headers["content-type"].startswith("text/html")
    assert httpx.get(f"{page}config.json", timeout=10).json() == {
        "registry_url": urls["registry"],
        "notifications_url": urls["notifications"],
    }
    for name in ("registry", "notifications"):  # whose APIs the page's browser may call (CORS)
        preflight = httpx.options(
            f"{urls[name]}/territories",
            headers={"Origin": urls["scheduling"], "Access-Control-Request-Method": "GET"},
            timeout=10,
        )
        assert preflight.headers.get("access-control-allow-origin") == urls["scheduling"], (name, preflight.headers)

    # --- registry → scheduling → notifications ---------------------------------------------
    with httpx.Client(timeout=10, headers={"Authorization": f"Bearer {api_token}"}) as http:
        conseiller_id = register_a_conseiller(http, urls["registry"])

        def copied() -> bool:
            listing = http.get(f"{urls['scheduling']}/conseillers")
            assert listing.status_code == 200, listing.text
            return any(c["id"] == conseiller_id for c in listing.json()["items"])

        eventually(copied, "the conseiller reaching scheduling")

        monday = next_monday_in_paris()
        wednesday = monday + dt.timedelta(days=2)
        expected = {
            "EPN de Mortagne-au-Perche": Expected("61293", "permanence", at(monday, "09:30"), at(monday, "12:00")),
            "Mairie de Bazoches-sur-Hoëne": Expected(
                "61029", "atelier", at(wednesday, "14:00"), at(wednesday, "17:00")
            ),
        }
        permanences = [
            {
                "conseiller_id": conseiller_id,
                "commune": e.commune,
                "lieu": lieu,
                "kind": e.kind,
                # The first one in Paris time, the second in UTC: notifications must give both
                # back in the territory's local time either way.
                "starts_at": (e.starts_at if i == 0 else e.starts_at.astimezone(dt.UTC)).isoformat(),
                "ends_at": (e.ends_at if i == 0 else e.ends_at.astimezone(dt.UTC)).isoformat(),
            }
            for i, (lieu, e) in enumerate(expected.items())
        ]
        response = http.post(
            f"{urls['scheduling']}/plans",
            json={
                "territory": "epci:200036069",
                "week_start": monday.isoformat(),
                "time_zone": "Europe/Paris",
                "permanences": permanences,
            },
        )
        assert response.status_code == 201, response.text
        plan = response.json()
        assert plan["status"] == "draft"

        response = http.post(f"{urls['scheduling']}/plans/{plan['id']}/publish")
        assert response.status_code == 200, response.text
        published = response.json()
        assert published["status"] == "published"
        assert len(published["permanences"]) == len(expected)

        def received() -> list[dict[str, Any]]:
            listing = http.get(f"{urls['notifications']}/permanences", params={"plan_id": plan["id"]})
            assert listing.status_code == 200, listing.text
            items: list[dict[str, Any]] = listing.json()
            return items if len(items) >= len(expected) else []

        items = eventually(received, "the published plan reaching notifications")

    assert sorted(i["lieu"] for i in items) == sorted(expected)
    assert {i["id"] for i in items} == {p["id"] for p in published["permanences"]}
    for item in items:
        want = expected[item["lieu"]]
        assert item["plan_id"] == plan["id"]
        assert item["conseiller_id"] == conseiller_id
        assert item["commune"] == want.commune
        assert item["kind"] == want.kind
        assert item["time_zone"] == "Europe/Paris"
        assert dt.datetime.fromisoformat(item["starts_at"]) == want.starts_at
        assert dt.datetime.fromisoformat(item["ends_at"]) == want.ends_at
        local_start = dt.datetime.fromisoformat(item["local_start"])
        # The same instant, written in Paris's wall-clock time and offset (winter or summer).
        assert local_start == want.starts_at
        assert local_start.utcoffset() == want.starts_at.utcoffset(), item["local_start"]
        assert local_start.replace(tzinfo=None) == want.starts_at.replace(tzinfo=None), item

    # --- Ctrl-C stops everything, cleanly, and leaves nothing behind -----------------------
    os.kill(tournees.pid, signal.SIGINT)
    stopping = time.monotonic()
    returncode = tournees.wait(40)
    assert returncode == 0, tournees.output_tail()
    assert time.monotonic() - stopping < 40
    assert_no_orphans(children, tournees.marker)

    out = tournees.stdout()
    for prefix in (*SERVICES, "nats"):
        assert re.search(rf"^{prefix}\s+\| ", out, re.MULTILINE), f"no line prefixed {prefix!r}\n{out[-3000:]}"
    assert "Tournées is up" in out
    for name in SERVICES:
        assert f"{urls[name]}/docs" in out
    assert f"  coordinators  {page} " in out
    printed = re.search(r"An admin token for the APIs \(12 h\):\n  (\S+)", out)
    assert printed is not None, out[-2000:]
    assert verify_token(SecretStr(auth_secret), printed[1]).role is Role.ADMIN  # usable with this run's secret


@pytest.mark.timeout(180)
def test_demo_headless_prints_a_summary_and_exits_0(
    start_tournees: StartTournees, tmp_path: Path, port_base: int
) -> None:
    data_dir = tmp_path / "demo"
    data_dir.mkdir()
    stale = data_dir / "left-from-a-previous-run.db"
    stale.write_text("stale")

    tournees = start_tournees("demo", "--headless", "--data-dir", str(data_dir), "--port-base", str(port_base))
    returncode = tournees.wait(120)

    assert returncode == 0, tournees.output_tail()
    out = tournees.stdout()
    assert "Tournées demo — the territories of the field reports" in out
    for territory, zone in [
        ("Communauté de communes du Pays de Mortagne", "Europe/Paris, FR"),
        ("Thionville et environs", "Europe/Paris, FR-57"),
        ("Gard", "Europe/Paris, FR"),
        ("Communauté de communes de Charente Limousine", "Europe/Paris, FR"),
        ("Communauté d'agglomération du Sud", "Indian/Reunion, FR-974"),
    ]:
        assert re.search(rf"^  {re.escape(territory)}.* {re.escape(zone)}$", out, re.MULTILINE), (
            territory,
            out[-3000:],
        )
    assert re.search(r"^  Gard +350 +744,178 +\d+ +48 ", out, re.MULTILINE), out[-3000:]
    assert re.search(r"plan [0-9a-f-]{36} for the Pays de Mortagne au Perche, by the solver:", out), out[-3000:]
    assert re.search(r"plan [0-9a-f-]{36} for Le Tampon \(La Réunion\), by the solver:", out), out[-3000:]
    assert re.search(r"^    OPTIMAL, proven gap 0\.0%, ", out, re.MULTILINE), out[-3000:]
    published = [int(n) for n in re.findall(r"^  published: (\d+) permanences;", out, re.MULTILINE)]
    assert len(published) == 2, out[-3000:]
    assert min(published) > 0, out[-3000:]
    assert "received by notifications (local time, Europe/Paris)" in out
    assert "received by notifications (local time, Indian/Reunion)" in out
    received = re.findall(
        r"^    (lundi|mardi|mercredi|jeudi|vendredi) +\d\d/\d\d (\d\d:\d\d)–(\d\d:\d\d)  (permanence|atelier) +(.+)$",
        out,
        re.MULTILINE,
    )
    assert len(received) == sum(published), out[-3000:]
    for _, start, end, _, _ in received:  # in the half-day windows, local time
        assert "08:30" <= start < end <= "17:30", (start, end)
    assert_sms_shown(out)
    assert re.search(r"registry → scheduling → notifications: \d+\.\d s in all", out)
    login = r"^  coordinator login \(the page, or POST registry /auth/token\): coordination\.mortagne@example\.org / [\w-]{16}$"
    assert re.search(login, out, re.MULTILINE), out[-3000:]
    assert not stale.exists(), "the demo must start from a clean data dir"
    assert_no_orphans([], tournees.marker)


def assert_sms_shown(out: str) -> None:
    """The usagers' SMS as they arrive: each at a local time out of quiet hours, saying the permanence's local time."""
    assert re.search(r"^  32 fictional usagers booked \(24 by SMS, 8 by e-mail\)", out, re.MULTILINE), out[-3000:]
    shown = re.findall(
        r"^    ([0-9][0-9 ]+[0-9])  (?:arrived|will arrive) \S+ \d\d/\d\d (\d\d:\d\d) \(([\w/]+)(?:, 1 segment)?\)\n"
        r"      « (.+) »$",
        out,
        re.MULTILINE,
    )
    confirmations = [s for s in shown if s[3].startswith("Inscription confirmée : ")]
    assert len(confirmations) == 24, out[-5000:]
    for _, at, _, text in shown:
        assert "09:00" <= at < "20:00", (at, text)  # never in the default quiet hours, 20:00–09:00 local
        assert text.endswith("Pour annuler, répondez ANNULER."), text
        assert len(text) <= 160, text
    tampon = [text for _, _, zone, text in confirmations if zone == "Indian/Reunion"]
    assert len(tampon) == 12, out[-5000:]
    for text in tampon:  # the Relais are open 08:30–12:00 and 13:30–16:30, La Réunion's time (UTC+4)
        assert re.search(r" à (8h30|13h30), Relais solidarité .+, Le Tampon\. ", text), text
    assert re.search(r"^  24 reminders by SMS scheduled, the day before", out, re.MULTILINE), out[-3000:]
    assert re.search(r"^  8 confirmations by e-mail: \d received so far by the SMTP sink in ", out, re.MULTILINE)


@pytest.mark.timeout(150)
def test_up_reports_a_service_that_cannot_start(start_tournees: StartTournees, tmp_path: Path, port_base: int) -> None:
    tournees = start_tournees(
        "up",
        "--data-dir",
        str(tmp_path / "data"),
        "--port-base",
        str(port_base),
        env={"REGISTRY_DATABASE_URL": "sqlite:////proc/forbidden/registry.db"},
    )
    returncode = tournees.wait(90)

    assert returncode != 0, tournees.output_tail()
    err = tournees.stderr()
    assert re.search(r"^tournees: registry exited with \d+", err, re.MULTILINE), tournees.output_tail()
    assert "/proc/forbidden" in err  # the tail of its log says why
    assert_no_orphans([], tournees.marker)


@pytest.mark.timeout(150)
def test_children_do_not_outlive_a_killed_supervisor(
    start_tournees: StartTournees, tmp_path: Path, port_base: int
) -> None:
    tournees = start_tournees("up", "--data-dir", str(tmp_path / "data"), "--port-base", str(port_base))
    wait_ready(tournees, urls_for(port_base), timeout_s=90)
    children = descendants_of(tournees.pid)
    assert len(children) == 6, describe(children)  # nats-server, fake Twilio, SMTP sink, three services

    os.kill(tournees.pid, signal.SIGKILL)  # no chance to stop them: PR_SET_PDEATHSIG must
    assert tournees.wait(10) == -signal.SIGKILL

    alive = wait_until_gone(children, timeout_s=30)
    assert not alive, f"children outlived the supervisor: {describe(alive)}"
