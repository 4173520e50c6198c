"""Browser tests: the application under uvicorn on 127.0.0.1, driven by Debian's Chromium through Playwright.

No browser is ever downloaded: Playwright launches ``/usr/bin/chromium``. Without it the tests skip
locally and fail under ``CI=true`` (CI installs it). Screenshots of every step go to
``test-artifacts/screenshots/`` (gitignored), for people to look at.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Event, Role
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.auth.security import set_password
from tests.helpers import proposal_doc

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "Ruhr-Konferenz-2026!"
ORG = "Kompetenzzentrum Bio-Security GmbH"

STAB = "a.stab@stk.nrw.example"
STAB2 = "b.berater@stk.nrw.example"
MWIDE = "c.ostermann@mwide.nrw.example"
PARTNER = "kontakt@bio-security.example.de"
ADMIN = "admin@it.nrw.example"

PEOPLE: dict[str, tuple[str, Role, str | None, str | None]] = {
    STAB: ("Anna Stab", Role.ARBEITSSTAB, None, None),
    STAB2: ("Bernd Berater", Role.ARBEITSSTAB, None, None),
    MWIDE: ("Carla Ostermann", Role.RESSORT, "MWIDE", None),
    PARTNER: ("Kai Kontakt", Role.PARTNER, None, ORG),
    ADMIN: ("Ada Admin", Role.ADMIN, None, None),
}


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} fehlt, aber CI=true verlangt die Browsertests (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} fehlt: Browsertests lokal übersprungen")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveApp:
    """The running application: its address and the use cases over its database (for seeding)."""

    base_url: str
    services: Services

    def url(self, path: str) -> str:
        """An absolute URL of a path."""
        return self.base_url + path


@pytest.fixture(scope="package")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """uvicorn in a background thread over a fresh SQLite database with four people who have passwords."""
    _chromium_or_skip()
    import uvicorn

    from partnerprojekte.web.app import create_app

    data_dir = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=data_dir, mail={"base_url": base_url})
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    db = Database(engine)
    services = Services(db, settings)
    services.load_reference_data()
    for email, (name, role, ressort, organisation) in PEOPLE.items():
        services.add_user(email, name, role, ressort=ressort, organisation=organisation)
        set_password(db, email, PASSWORD)
    app = create_app(settings, db)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none")
    )
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn ist nicht gestartet")
        time.sleep(0.05)
    try:
        yield LiveApp(base_url, services)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


@pytest.fixture(scope="package")
def browser(live_app: LiveApp) -> Iterator[Any]:
    """Debian's Chromium, headless."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """A factory of pages, each in its own browser context (own cookies); closed after the test."""
    contexts: list[Any] = []

    def make(*, width: int = 1280, height: int = 900, javascript: bool = True) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="de-DE", java_script_enabled=javascript
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


class Shots:
    """Numbered screenshots of one journey."""

    def __init__(self, journey: str) -> None:
        self.journey = journey
        self.count = 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOTS.glob(f"{journey}-*.png"):
            old.unlink()

    def __call__(self, page: Any, step: str, *, full_page: bool = True) -> Path:
        """Save a screenshot of the page as ``<journey>-<nn>-<step>.png``."""
        self.count += 1
        path = SCREENSHOTS / f"{self.journey}-{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    """Screenshots named after the test."""
    name = re.sub(r"^test_", "", request.node.name)
    return Shots(re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-"))


def login(page: Any, app: LiveApp, email: str, *, path: str = "/") -> None:
    """Log in through the form (from the login page the application leads on to ``path``)."""
    page.goto(app.url(path))
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()


def seed_in_coordination(services: Services, title: str, *, ressort_approves: bool = False) -> int:
    """A proposal of the partner's organisation in ``in_abstimmung`` with MWIDE responsible."""
    doc = proposal_doc(title=title)
    pid = services.submit(proposal_from_document(doc), PARTNER).proposal_id
    services.transition(pid, Event.TAKE_UP, STAB2, EventInput())
    services.assign_ressort(pid, "MWIDE", STAB2)
    services.transition(pid, Event.START_COORDINATION, STAB2, EventInput())
    if ressort_approves:
        services.transition(pid, Event.RECOGNISE, MWIDE, EventInput(comment="Fachlich überzeugend."))
    return pid


def no_horizontal_scroll(page: Any) -> bool:
    """Whether the page fits its viewport's width."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))
