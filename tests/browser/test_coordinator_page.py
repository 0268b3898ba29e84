"""A coordinator plans, adjusts and publishes the Pays de Mortagne's rounds on the page, in Chromium.

The story of the issue: log in, plan a week (progress visible while the solver runs), pin a
permanence, publish; usagers book; declare an absence, review the re-plan as a diff (what moves,
who is told), publish it; notifications then has the change notices for those usagers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Demo, artifact

pytestmark = pytest.mark.timeout(300)

PARIS = ZoneInfo("Europe/Paris")
MORTAGNE = "epci:200036069"


def log_in(page: Page, demo: Demo) -> None:
    page.goto(demo.page_url)
    page.get_by_label("Adresse e-mail").fill(demo.login)
    page.get_by_label("Mot de passe").fill(demo.password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#territory")).to_have_value(MORTAGNE)
    expect(page.locator("#map svg")).to_be_visible()


def statuses(page: Page) -> list[str]:
    """Every text the status line showed since ``watch_status``."""
    seen: list[str] = page.evaluate("window.statuses")
    return seen


def watch_status(page: Page) -> None:
    page.evaluate(
        """() => {
        window.statuses = [];
        const status = document.getElementById('status-text');
        new MutationObserver(() => window.statuses.push(status.textContent))
            .observe(status, {childList: true, characterData: true, subtree: true});
    }"""
    )


def wait_status(page: Page, pattern: str, timeout_s: float = 90) -> None:
    expect(page.locator("#status-text")).to_have_text(re.compile(pattern), timeout=timeout_s * 1000)


def current_plan(page: Page, demo: Demo) -> dict[str, Any]:
    plan_id = page.locator("#plan").input_value()
    plan: dict[str, Any] = demo.admin.get(f"{demo.urls['scheduling']}/plans/{plan_id}").json()
    return plan


def permanence_button(page: Page, permanence_id: str) -> Locator:
    return page.locator(f'[data-permanence="{permanence_id}"]')


def move_to(page: Page, permanence_id: str, start: str, end: str) -> None:
    permanence_button(page, permanence_id).click()
    page.get_by_role("button", name="Déplacer…").click()
    dialog = page.locator("#move-dialog")
    dialog.get_by_label("Début").fill(start)
    dialog.get_by_label("Fin").fill(end)
    dialog.get_by_role("button", name="Déplacer", exact=True).click()
    expect(dialog).to_be_hidden()


def book(demo: Demo, permanence_id: str, n: int) -> str:
    """An usager (SMS) books a seat, as a conseiller does it for them on the phone."""
    notifications = demo.urls["notifications"]
    usager = demo.admin.post(
        f"{notifications}/usagers",
        json={"name": f"Usager {n}", "phone": f"07 80 01 00 {n:02d}", "consent": True, "territory": MORTAGNE,
              "preferred_channel": "sms"},
    )  # fmt: skip
    assert usager.status_code == 201, usager.text
    booking = demo.admin.post(
        f"{notifications}/bookings", json={"usager_id": usager.json()["id"], "permanence_id": permanence_id}
    )
    assert booking.status_code == 201, booking.text
    booking_id: str = booking.json()["id"]
    return booking_id


def test_a_coordinator_plans_pins_declares_an_absence_and_publishes(page: Page, demo: Demo) -> None:
    log_in(page, demo)
    # The demo published next week; the week after is the coordinator's to plan.
    page.get_by_role("button", name="Semaine suivante").click()
    expect(page.locator("#figures")).to_contain_text("Pas encore de plan")
    watch_status(page)
    page.get_by_role("button", name="Planifier la semaine").click()
    wait_status(page, r"^Plan prêt")
    assert any(s.startswith(("En attente d'un solveur", "Recherche en cours")) for s in statuses(page)), statuses(page)
    plan = current_plan(page, demo)
    assert plan["status"] == "draft", plan
    assert plan["permanences"], plan
    expect(page.locator("button.permanence")).to_have_count(len(plan["permanences"]))
    expect(page.locator("#figure-gap")).to_have_text(re.compile(r"^\d+([,.]\d+)? %$"))
    page.locator("#map").screenshot(path=artifact("map.png"))
    page.locator(".grid-panel").screenshot(path=artifact("grid.png"))

    # Times as the territory lives them (Paris), though this browser is in New York.
    first = plan["permanences"][0]
    starts = dt.datetime.fromisoformat(first["starts_at"]).astimezone(PARIS)
    expect(permanence_button(page, first["id"])).to_contain_text(f"{starts:%H:%M}–")

    # Moved by hand to the evening, a permanence breaks the lieu's opening hours: the page says so, and
    # shows it; moved back, nothing is broken any more.
    second = plan["permanences"][1]
    was = (dt.datetime.fromisoformat(second["starts_at"]).astimezone(PARIS),
           dt.datetime.fromisoformat(second["ends_at"]).astimezone(PARIS))  # fmt: skip
    broken_before = page.locator("#warnings li").count()
    move_to(page, second["id"], "19:00", "21:00")
    wait_status(page, r"^Permanence déplacée, mais \d+ règles? enfreintes?")
    expect(page.locator("#warnings li")).not_to_have_count(broken_before)
    assert page.locator("#warnings li").count() > broken_before
    moved = current_plan(page, demo)["permanences"]
    moved_id = next(p["id"] for p in moved if dt.datetime.fromisoformat(p["starts_at"]).astimezone(PARIS).hour == 19)
    expect(permanence_button(page, moved_id)).to_have_class(re.compile("warned"))
    move_to(page, moved_id, f"{was[0]:%H:%M}", f"{was[1]:%H:%M}")
    wait_status(page, r"^Permanence déplacée")
    expect(page.locator("#warnings li")).to_have_count(broken_before)
    plan = current_plan(page, demo)
    first = plan["permanences"][0]

    # Pin the first permanence.
    permanence_button(page, first["id"]).click()
    page.get_by_role("button", name="Épingler", exact=True).click()
    wait_status(page, "^Permanence épinglée")
    expect(permanence_button(page, first["id"])).to_have_attribute("aria-label", re.compile("épinglée"))
    plan_first = first
    # Re-optimised around the pin: a new draft that keeps it where it is, pinned.
    page.get_by_role("button", name="Ré-optimiser autour des épingles").click()
    wait_status(page, r"^Nouveau brouillon prêt")
    plan = current_plan(page, demo)
    (first,) = [p for p in plan["permanences"] if p["pinned"]]
    assert (first["conseiller_id"], first["starts_at"]) == (plan_first["conseiller_id"], plan_first["starts_at"])
    page.get_by_role("button", name="Publier", exact=True).click()
    wait_status(page, r"^Plan publié")
    published = current_plan(page, demo)
    assert published["id"] == plan["id"]
    assert published["status"] == "published"
    assert next(p for p in published["permanences"] if p["id"] == first["id"])["pinned"]

    # Each conseiller's calendar link opens their published permanences (ICS), without a login.
    page.get_by_role("button", name="Lien agenda (ICS)").first.click()
    link = page.locator("#calendar-url")
    expect(link).to_be_visible()
    feed = httpx.get(link.get_attribute("href") or "", timeout=30)
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    assert feed.text.count("BEGIN:VEVENT") >= 1

    # Usagers book a permanence on another half-day than the pinned one.
    pinned_half = (starts.date(), starts.hour < 13)
    other = next(
        p for p in published["permanences"]
        if (dt.datetime.fromisoformat(p["starts_at"]).astimezone(PARIS).date(),
            dt.datetime.fromisoformat(p["starts_at"]).astimezone(PARIS).hour < 13) != pinned_half
    )  # fmt: skip
    bookings = [book(demo, other["id"], n) for n in range(2)]

    # Its conseiller is away that half-day: the page shows the re-plan as a diff, then publishes it.
    away = dt.datetime.fromisoformat(other["starts_at"]).astimezone(PARIS)
    half = "am" if away.hour < 13 else "pm"
    page.get_by_role("button", name="Déclarer une absence").click()
    dialog = page.locator("#absence-dialog")
    dialog.get_by_label("Conseiller").select_option(other["conseiller_id"])
    dialog.locator("#absence-start").fill(away.date().isoformat())
    dialog.locator("#absence-start-half").select_option(half)
    dialog.locator("#absence-end").fill(away.date().isoformat())
    dialog.locator("#absence-end-half").select_option(half)
    dialog.get_by_role("button", name="Déclarer", exact=True).click()
    wait_status(page, r"^Re-planning prêt", timeout_s=120)
    changes = page.locator("#changes")
    expect(changes).to_be_visible()
    told = changes.locator("li", has_text=other["lieu"])
    expect(told).to_contain_text("2 usagers prévenus")
    expect(page.locator("#changes-told")).to_contain_text("2 SMS")
    expect(page.locator("#plan option:checked")).to_contain_text("Re-planning à publier")
    page.locator(".grid-panel").screenshot(path=artifact("grid-replan.png"))
    changes.screenshot(path=artifact("changes.png"))
    page.get_by_role("button", name="Publier", exact=True).click()
    wait_status(page, r"^Re-planning publié : 2 usagers prévenus")

    replan = current_plan(page, demo)
    assert replan["status"] == "published"
    assert replan["replaces"] == plan["id"]
    assert first["id"] in {p["id"] for p in replan["permanences"]}, "the pinned permanence is kept"
    assert page.errors == []  # type: ignore[attr-defined]

    # One more conseiller, based at the EPN: the page answers with what the two solves found.
    page.get_by_role("button", name="Estimer").click()
    wait_status(page, "^Estimation prête")
    expect(page.locator("#what-if-answer")).to_contain_text("Avec un conseiller de plus")

    # Notifications has a change notice for each usager of the permanence that moved or was cancelled.
    def notices() -> bool:
        kinds = []
        for booking_id in bookings:
            messages = demo.admin.get(f"{demo.urls['notifications']}/bookings/{booking_id}/messages").json()
            kinds.append({m["kind"] for m in messages})
        return all(k & {"moved", "cancelled"} for k in kinds)

    deadline = dt.datetime.now() + dt.timedelta(seconds=30)
    while not notices():
        assert dt.datetime.now() < deadline, "no change notice reached the usagers' send log"
        page.wait_for_timeout(300)


def test_a_wrong_password_is_told_and_no_data_is_shown(page: Page, demo: Demo) -> None:
    page.goto(demo.page_url)
    page.get_by_label("Adresse e-mail").fill(demo.login)
    page.get_by_label("Mot de passe").fill("not-the-password")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("alert").first).to_have_text("Adresse e-mail ou mot de passe incorrect.")
    expect(page.locator("#app-view")).to_be_hidden()


def test_the_page_is_accessible_by_keyboard_contrast_and_at_200_percent(page: Page, demo: Demo) -> None:
    log_in(page, demo)
    expect(page.locator("button.permanence").first).to_be_visible()  # the demo's published week

    # axe-core: no WCAG 2.1 A/AA violation (contrast, names, labels, landmarks…).
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}})
    assert results.violations_count == 0, results.generate_snapshot()

    # Keyboard: the skip link first (the session outlives a reload), then into the grid; arrows move between
    # permanences; focus is visible.
    page.reload()
    expect(page.locator("button.permanence").first).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    first = page.locator("button.permanence").first
    first.focus()
    outline = first.evaluate("b => getComputedStyle(b).outlineStyle + ' ' + getComputedStyle(b).outlineWidth")
    assert not outline.startswith("none"), outline
    page.keyboard.press("ArrowRight")
    focused = page.evaluate("document.activeElement.dataset.permanence")
    assert focused
    assert focused != first.get_attribute("data-permanence")
    page.keyboard.press("Enter")
    expect(page.locator("#selection h3")).to_be_visible()
    # The selected permanence's conseiller's day, as a route on the map and in words.
    expect(page.locator("#map polyline.route")).to_have_count(1)
    expect(page.locator("#map-route")).to_contain_text("Tournée de ")
    page.locator(".map-panel").screenshot(path=artifact("map-route.png"))

    # 200 %: a 1280-pixel screen zoomed twice is 640 CSS pixels wide; nothing but the grid scrolls sideways.
    page.set_viewport_size({"width": 640, "height": 900})
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px at 200 %"
    page.screenshot(path=artifact("page-200-percent.png"), full_page=True)


def test_times_are_read_and_written_in_the_territorys_time_zone(page: Page, demo: Demo) -> None:
    page.goto(demo.page_url)
    answers = page.evaluate(
        """async () => {
        const d = await import('./js/dates.js');
        return {
          reunion: d.local('2026-12-01T05:00:00Z', 'Indian/Reunion'),
          paris_summer: d.local('2026-03-29T01:30:00Z', 'Europe/Paris'),
          written: d.instant('2026-12-01', '09:00', 'Indian/Reunion'),
          written_paris_dst: d.instant('2026-03-30', '09:00', 'Europe/Paris'),
          half: d.halfOf('2026-12-01T12:00:00Z', 'Europe/Paris'),
          monday: d.mondayOf('2026-12-06'),
        };
    }"""
    )
    assert answers == {
        "reunion": {"date": "2026-12-01", "time": "09:00"},
        "paris_summer": {"date": "2026-03-29", "time": "03:30"},
        "written": "2026-12-01T05:00:00.000Z",
        "written_paris_dst": "2026-03-30T07:00:00.000Z",
        "half": "pm",
        "monday": "2026-11-30",
    }
