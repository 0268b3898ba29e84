"""The coordinator page in Debian's Chromium, driven by Playwright, against ``tournees demo`` run as a process.

The demo sets up every territory of the field reports, plans and publishes next week of the Pays
de Mortagne, books usagers and makes a coordinator account: the page is used as that coordinator.
Chromium comes from Debian (``tests/install_debian_packages.sh``, run by ``make test``), never
from Playwright's own download (no internet here).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from pydantic import SecretStr

from shared.auth import Role, issue_token
from tests.e2e.stack import Tournees, free_port_base, urls_for

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS", ROOT / "test-artifacts")) / "coordinator-page"
LOGIN = re.compile(r"coordinator login \(the page, or POST registry /auth/token\): (\S+) / (\S+)$", re.MULTILINE)
# As the machine's probe starts it: without these, Chromium keeps trying to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


@dataclass(frozen=True)
class Demo:
    urls: dict[str, str]
    login: str
    password: str
    admin: httpx.Client
    """An admin's client of the APIs, for what usagers and the test itself do."""

    @property
    def page_url(self) -> str:
        return f"{self.urls['scheduling']}/coordinator/"


@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("Chromium is missing: `make test` installs it (tests/install_debian_packages.sh)")
    pytest.skip("Chromium is missing: `sudo apt-get install -y chromium` (or `make test` as root)")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    workdir = tmp_path_factory.mktemp("demo")
    port_base, secret = free_port_base(3), f"browser-{secrets.token_hex(24)}"
    urls = urls_for(port_base)
    tournees = Tournees(
        ("demo", "--data-dir", str(workdir / "data"), "--port-base", str(port_base)), workdir, {"AUTH_SECRET": secret}
    ).start()
    try:
        deadline = time.monotonic() + 240
        while not (found := LOGIN.search(tournees.stdout())):
            assert tournees.process is not None
            assert tournees.process.poll() is None, tournees.output_tail()
            assert time.monotonic() < deadline, f"the demo did not finish\n{tournees.output_tail()}"
            time.sleep(0.5)
        token = issue_token(SecretStr(secret), subject="browser-tests", role=Role.ADMIN)
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {token}"}) as admin:
            yield Demo(urls, found[1], found[2], admin)
    finally:
        tournees.cleanup()


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    # The browser in New York: the page must still show the territory's own times.
    opened = browser.new_context(
        locale="fr-FR", timezone_id="America/New_York", viewport={"width": 1400, "height": 1000}
    )
    opened.set_default_timeout(30_000)
    yield opened
    opened.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.errors = errors  # type: ignore[attr-defined]
    return opened


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
