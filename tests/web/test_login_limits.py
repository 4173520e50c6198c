"""Login hardening: limits that hold under parallel requests, no lock-out of the owner, trusted proxies,
equal work whatever the address, logins off the event loop, ``__Host-`` cookies, a bound login CSRF token.

The parallel tests run a real uvicorn server over a database of their own (real commits on separate
connections, SQLite and PostgreSQL). argon2 calls are counted by a ``PasswordHasher`` that counts its own
``verify``/``hash`` calls; the application itself is not replaced.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from partnerprojekte.cli import support, web
from partnerprojekte.config import MailSettings, Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import LoginCounterRow, UserRow
from partnerprojekte.model import Role
from partnerprojekte.services import Services
from partnerprojekte.web.app import create_app
from partnerprojekte.web.auth import security
from partnerprojekte.web.auth.security import MAX_FAILURES, THROTTLE_WINDOW, set_password
from partnerprojekte.web.deps import client_address
from tests.conftest import Clock, own_database
from tests.people import MWIDE, PARTNER, STAB
from tests.smtp_server import free_port

PASSWORD = "korrekt-Pferd-Batterie-1"
WRONG = "falsch-falsch-falsch"
HTTP = "http://127.0.0.1:8000"
HTTPS = "https://partnerprojekte.nrw.example"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class CountingHasher(PasswordHasher):
    """argon2id that counts how often it verifies and hashes (thread-safe)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**{"time_cost": 1, "memory_cost": 1024, "parallelism": 1, **kwargs})
        self.lock = threading.Lock()
        self.verifies = 0
        self.hashes = 0
        self.verify_started = threading.Event()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self.lock:
            self.verifies += 1
        self.verify_started.set()
        return super().verify(hash, password)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        with self.lock:
            self.hashes += 1
        return super().hash(password, salt=salt)

    def reset(self) -> None:
        with self.lock:
            self.verifies = self.hashes = 0
        self.verify_started.clear()


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    counting = CountingHasher()
    monkeypatch.setattr(security, "_hasher", lambda: counting)
    return counting


def people(services: Services, db: Database) -> None:
    services.add_user(STAB, "Anna Stab", Role.ARBEITSSTAB)
    services.add_user(PARTNER, "Kai Kontakt", Role.PARTNER, organisation="Verein e. V.")
    services.add_user(MWIDE, "Carla Ostermann", Role.RESSORT, ressort="MWIDE")  # no password set
    set_password(db, STAB, PASSWORD)
    set_password(db, PARTNER, PASSWORD)


@contextmanager
def live_server(app: FastAPI, **options: Any) -> Iterator[str]:
    """The application on a real uvicorn server on 127.0.0.1 (a thread of this process)."""
    port = free_port()
    settings = {"proxy_headers": False, **options, "host": "127.0.0.1", "port": port}
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", **settings))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started:
            break
        time.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


@pytest.fixture
def live_db(backend: str, tmp_path: Path, hasher: CountingHasher) -> Iterator[Database]:
    """A committed database of its own with STAB and PARTNER (passwords set), counters reset."""
    with own_database(backend, tmp_path) as (_url, engine):
        db = Database(engine)
        people(Services(db, Settings()), db)
        hasher.reset()
        yield db


def page_login(
    client: httpx.Client | TestClient, email: str, password: str, **headers: str
) -> httpx.Response:
    """The login form as a browser sends it: first the page (CSRF cookie and token), then the post."""
    page = client.get("/anmelden")
    match = _TOKEN.search(page.text)
    assert match, page.text
    data = {"email": email, "password": password, "csrf_token": match.group(1), "weiter": ""}
    return client.post("/anmelden", data=data, headers=headers)


# --- 1. the limit holds under parallel requests --------------------------------------------------


@pytest.mark.parametrize("route", ["api", "page"])
def test_a_burst_of_wrong_passwords_checks_at_most_the_limit(
    live_db: Database, hasher: CountingHasher, route: str
) -> None:
    n = 40
    app = create_app(Settings(), live_db)
    with live_server(app) as base:
        clients = [httpx.Client(base_url=base, follow_redirects=False, timeout=60) for _ in range(n)]
        tokens = []
        for c in clients:
            if route == "page":
                page = c.get("/anmelden")
                match = _TOKEN.search(page.text)
                assert match
                tokens.append(match.group(1))
        hasher.reset()
        barrier = threading.Barrier(n)
        statuses: list[int] = []

        def attempt(i: int) -> None:
            barrier.wait(30)
            if route == "api":
                r = clients[i].post("/api/v1/session", json={"email": STAB, "password": WRONG})
            else:
                data = {"email": STAB, "password": WRONG, "csrf_token": tokens[i]}
                r = clients[i].post("/anmelden", data=data)
            statuses.append(r.status_code)

        threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for c in clients:
            c.close()
    assert len(statuses) == n and set(statuses) <= {401, 429}, statuses
    # Exactly as many passwords were checked as the limit allows, and each of them was answered 401.
    assert hasher.verifies == MAX_FAILURES
    assert statuses.count(401) == MAX_FAILURES and statuses.count(429) == n - MAX_FAILURES


def test_a_burst_of_correct_logins_of_one_person_all_succeed_within_the_limit(
    live_db: Database, hasher: CountingHasher
) -> None:
    # Counting before the check must not turn a few parallel correct logins (several tabs) into refusals.
    app = create_app(Settings(), live_db)
    with live_server(app) as base:
        barrier = threading.Barrier(MAX_FAILURES)
        statuses: list[int] = []

        def attempt() -> None:
            with httpx.Client(base_url=base, timeout=60) as c:
                barrier.wait(30)
                statuses.append(
                    c.post("/api/v1/session", json={"email": STAB, "password": PASSWORD}).status_code
                )

        threads = [threading.Thread(target=attempt) for _ in range(MAX_FAILURES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert statuses == [200] * MAX_FAILURES
    with live_db.read() as s:
        rows = {r.key: r.failures for r in s.scalars(select(LoginCounterRow))}
    # Every success gave back what it had reserved.
    assert rows.get("client:127.0.0.1", 0) == 0 and f"email:{STAB}" not in rows


# --- 2. guessing at someone's address slows their account, never locks them out ------------------


def _from(app: FastAPI, address: str, **kwargs: Any) -> TestClient:
    return TestClient(app, base_url=HTTP, client=(address, 40000), **kwargs)


def test_the_account_limit_slows_with_a_growing_delay_and_never_blocks_longer_than_the_window(
    app: FastAPI, services: Services, db: Database, clock: Clock
) -> None:
    people(services, db)
    attacker = iter(range(1, 250))

    def guess() -> httpx.Response:
        # A new address for every guess: only the account's counter applies.
        with _from(app, f"198.51.100.{next(attacker)}") as c:
            return c.post("/api/v1/session", json={"email": STAB, "password": WRONG})

    for _ in range(MAX_FAILURES):
        assert guess().status_code == 401
    waits = []
    for _ in range(7):
        refused = guess()
        assert refused.status_code == 429
        waits.append(int(refused.headers["retry-after"]))
        clock.advance(seconds=waits[-1])
        assert guess().status_code == 401
    # 1, 2, 4, 8 minutes, then never more than the window (15 minutes).
    assert waits == [60, 120, 240, 480, 900, 900, 900]
    owner = guess()
    assert owner.status_code == 429 and int(owner.headers["retry-after"]) <= THROTTLE_WINDOW.total_seconds()
    clock.advance(seconds=int(owner.headers["retry-after"]))
    with _from(app, "192.0.2.10") as c:
        assert c.post("/api/v1/session", json={"email": STAB, "password": PASSWORD}).status_code == 200
        # The success forgives the account's failures: the next mistake costs no wait.
        assert c.post("/api/v1/session", json={"email": STAB, "password": WRONG}).status_code == 401
        assert c.post("/api/v1/session", json={"email": STAB, "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize("route", ["api", "page"])
def test_a_known_device_logs_in_while_strangers_guess_at_the_address(
    app: FastAPI, services: Services, db: Database, route: str
) -> None:
    people(services, db)

    def log_in(c: TestClient, password: str = PASSWORD) -> int:
        if route == "api":
            return c.post("/api/v1/session", json={"email": STAB, "password": password}).status_code
        return page_login(c, STAB, password).status_code

    ok = 200 if route == "api" else 303
    with _from(app, "192.0.2.10", follow_redirects=False) as owner:
        assert log_in(owner) == ok
        assert "pp_device" in owner.cookies
        device = owner.cookies["pp_device"]
        owner.cookies.delete("pp_session")
        for i in range(MAX_FAILURES + 3):
            with _from(app, f"198.51.100.{i}") as stranger:
                stranger.post("/api/v1/session", json={"email": STAB, "password": WRONG})
        with _from(app, "192.0.2.11", follow_redirects=False) as new_browser:
            assert log_in(new_browser) == 429  # the account is slowed for browsers it does not know
        # The owner's browser is known: it logs in at once, and a success clears the account's counter.
        assert log_in(owner) == ok
    with _from(app, "192.0.2.11") as new_browser:
        assert (
            new_browser.post("/api/v1/session", json={"email": STAB, "password": PASSWORD}).status_code == 200
        )
        new_browser.post("/api/v1/session", json={"email": PARTNER, "password": PASSWORD})
        partner_device = new_browser.cookies["pp_device"]
    for i in range(MAX_FAILURES):
        with _from(app, f"203.0.113.{i}") as stranger:
            stranger.post("/api/v1/session", json={"email": STAB, "password": WRONG})
    forged = device.rsplit(".", 1)[0] + ".AAAA" + device.rsplit(".", 1)[1][4:]
    for cookie in (partner_device, forged, "1.1.1"):
        # Another person's device cookie or a forged one opens nothing.
        with _from(app, "192.0.2.12", cookies={"pp_device": cookie}) as c:
            assert c.post("/api/v1/session", json={"email": STAB, "password": PASSWORD}).status_code == 429


def test_a_stolen_device_cookie_buys_only_the_slow_budget_of_its_own(
    app: FastAPI, services: Services, db: Database
) -> None:
    people(services, db)
    with _from(app, "192.0.2.10") as owner:
        assert owner.post("/api/v1/session", json={"email": STAB, "password": PASSWORD}).status_code == 200
        device = owner.cookies["pp_device"]
    results = []
    for i in range(MAX_FAILURES + 1):
        with _from(app, f"198.51.100.{i}", cookies={"pp_device": device}) as thief:
            results.append(thief.post("/api/v1/session", json={"email": STAB, "password": WRONG}).status_code)
    assert results == [401] * MAX_FAILURES + [429]
    # The thief's failures were counted on the device, not on the account: other browsers are not slowed.
    with _from(app, "192.0.2.20") as other:
        assert other.post("/api/v1/session", json={"email": STAB, "password": PASSWORD}).status_code == 200


def test_the_client_limit_holds_apart_from_the_account_and_a_known_device(
    app: FastAPI, services: Services, db: Database
) -> None:
    people(services, db)
    with _from(app, "192.0.2.10") as owner:
        assert owner.post("/api/v1/session", json={"email": STAB, "password": PASSWORD}).status_code == 200
        for i in range(MAX_FAILURES):
            owner.post("/api/v1/session", json={"email": f"rate{i}@example.org", "password": WRONG})
        # One address guessing across accounts is stopped for the window, known device or not.
        refused = owner.post("/api/v1/session", json={"email": STAB, "password": PASSWORD})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 15 * 60


# --- 3. X-Forwarded-For only from configured proxies ----------------------------------------------


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("192.0.2.7", ["203.0.113.9"], (), "192.0.2.7"),
        ("10.0.0.2", ["203.0.113.9"], (), "10.0.0.2"),
        ("10.0.0.2", ["203.0.113.9"], ("10.0.0.2",), "203.0.113.9"),
        # The client wrote the left part itself; the rightmost address the proxy added is the client.
        ("10.0.0.2", ["1.2.3.4, 203.0.113.9"], ("10.0.0.0/24",), "203.0.113.9"),
        ("10.0.0.2", ["1.2.3.4", "203.0.113.9, 10.0.0.3"], ("10.0.0.0/24",), "203.0.113.9"),
        ("10.0.0.2", ["kaputt, 10.0.0.3"], ("10.0.0.0/24",), "10.0.0.3"),
        ("10.0.0.2", [], ("10.0.0.0/24",), "10.0.0.2"),
        ("::ffff:192.0.2.7", [], (), "192.0.2.7"),
        ("2001:db8:1:2::17", [], (), "2001:db8:1:2::/64"),
        (None, ["203.0.113.9"], (), "unbekannt"),
    ],
)
def test_client_address(
    peer: str | None, forwarded: list[str], trusted: tuple[str, ...], expected: str
) -> None:
    assert client_address(peer, forwarded, Settings(trusted_proxies=trusted).trusted_proxies) == expected


def test_trusted_proxies_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERPROJEKTE_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.7/24")
    assert Settings().trusted_proxies == ("10.0.0.5/32", "10.1.0.0/24")
    monkeypatch.setenv("PARTNERPROJEKTE_TRUSTED_PROXIES", "proxy.intern")
    with pytest.raises(ValueError, match="keine IP-Adresse und kein Netz"):
        Settings()
    assert Settings.model_fields["trusted_proxies"].default == ()


def _counter_keys(db: Database) -> set[str]:
    with db.read() as s:
        return {k for k in s.scalars(select(LoginCounterRow.key)) if k.startswith("client:")}


@pytest.mark.parametrize("trusted", [(), ("10.0.0.0/24",)])
def test_forwarded_for_changes_the_limit_key_only_from_a_configured_proxy(
    db: Database, services: Services, trusted: tuple[str, ...]
) -> None:
    people(services, db)
    app = create_app(Settings(trusted_proxies=trusted), db)
    spoofed = {"X-Forwarded-For": "1.2.3.4, 203.0.113.9"}
    with _from(app, "10.0.0.2") as c:
        c.post("/api/v1/session", json={"email": STAB, "password": WRONG}, headers=spoofed)
    assert _counter_keys(db) == ({"client:203.0.113.9"} if trusted else {"client:10.0.0.2"})
    # Spoofing another address per request does not escape the limit of an untrusted peer.
    if not trusted:
        for i in range(MAX_FAILURES):
            with _from(app, "10.0.0.2") as c:
                last = c.post(
                    "/api/v1/session",
                    json={"email": f"x{i}@example.org", "password": WRONG},
                    headers={"X-Forwarded-For": f"203.0.113.{i}"},
                )
        assert last.status_code == 429


def test_the_served_application_ignores_forwarded_for_of_a_local_peer(
    live_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Started exactly as `partnerprojekte web serve` starts uvicorn (its keyword arguments).
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    monkeypatch.setattr(support, "services", lambda: Services(live_db, Settings()))
    web.web_serve(host=None, port=None)
    options = {k: v for k, v in calls[0].items() if k not in ("host", "port", "log_level")}
    with live_server(create_app(Settings(), live_db), **options) as base, httpx.Client(base_url=base) as c:
        c.post(
            "/api/v1/session",
            json={"email": STAB, "password": WRONG},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
    assert _counter_keys(live_db) == {"client:127.0.0.1"}


# --- 4. the same argon2 work whether the address exists or not -----------------------------------


def test_every_login_path_verifies_exactly_one_hash_and_hashes_none(
    db: Database, services: Services, hasher: CountingHasher
) -> None:
    people(services, db)
    services.add_user("alt@example.org", "Ehemalig", Role.PARTNER, organisation="Verein e. V.")
    set_password(db, "alt@example.org", PASSWORD)
    with db.write() as s:
        user = s.scalar(select(UserRow).where(UserRow.email == "alt@example.org"))
        assert user is not None
        user.active = False
    # As in a fresh process: nothing prepared before the application starts.
    security._dummy_hash.cache_clear()
    app = create_app(Settings(), db)
    paths = {
        "unknown address": ("niemand@example.org", PASSWORD, 401),
        "wrong password": (STAB, WRONG, 401),
        "deactivated": ("alt@example.org", PASSWORD, 401),
        "no password set": (MWIDE, PASSWORD, 401),
        "correct": (PARTNER, PASSWORD, 200),
    }
    work = {}
    for i, (name, (email, password, status)) in enumerate(paths.items()):
        hasher.reset()
        with _from(app, f"192.0.2.{i}") as c:
            assert (
                c.post("/api/v1/session", json={"email": email, "password": password}).status_code == status
            )
        work[name] = (hasher.verifies, hasher.hashes)
    assert work == dict.fromkeys(paths, (1, 0))
    # A throttled attempt checks nothing, for an existing address as for an unknown one.
    throttled = {}
    for email in (STAB, "niemand@example.org"):
        for i in range(MAX_FAILURES):
            with _from(app, f"198.51.100.{i}") as c:
                c.post("/api/v1/session", json={"email": email, "password": WRONG})
        hasher.reset()
        with _from(app, "198.51.100.99") as c:
            assert c.post("/api/v1/session", json={"email": email, "password": PASSWORD}).status_code == 429
        throttled[email] = (hasher.verifies, hasher.hashes)
    assert throttled == {STAB: (0, 0), "niemand@example.org": (0, 0)}


# --- 5. the login works in the thread pool --------------------------------------------------------


def test_logins_in_flight_do_not_hold_up_other_requests(
    live_db: Database, hasher: CountingHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A hasher slow enough that 20 logins take a while (each one verifies against the dummy hash).
    slow = CountingHasher(time_cost=4, memory_cost=32 * 1024)
    monkeypatch.setattr(security, "_hasher", lambda: slow)
    security._dummy_hash.cache_clear()
    n = 20
    try:
        # Twenty different people from twenty addresses (uvicorn takes them from the header here, so that
        # the test runs alike on the code before trusted_proxies): no login limit applies.
        app = create_app(Settings(), live_db)
        with live_server(app, proxy_headers=True, forwarded_allow_ips="127.0.0.1") as base:
            order: list[str] = []
            clients = [httpx.Client(base_url=base, timeout=120) for _ in range(n + 1)]
            other = clients.pop()
            assert other.get("/static/site.css").status_code == 200  # connection open and warm
            tokens = [_TOKEN.findall(c.get("/anmelden").text)[0] for c in clients]
            barrier = threading.Barrier(n)

            def log_in(i: int) -> None:
                barrier.wait(30)
                # The login form (the API's login was a synchronous route in the thread pool already).
                response = clients[i].post(
                    "/anmelden",
                    data={"email": f"person{i}@example.org", "password": WRONG, "csrf_token": tokens[i]},
                    headers={"X-Forwarded-For": f"203.0.113.{i}"},
                )
                assert response.status_code == 401
                order.append("login")

            threads = [threading.Thread(target=log_in, args=(i,)) for i in range(n)]
            for t in threads:
                t.start()
            assert slow.verify_started.wait(60)
            assert other.get("/static/site.css").status_code == 200
            order.append("static")
            for t in threads:
                t.join(120)
            for c in [*clients, other]:
                c.close()
    finally:
        security._dummy_hash.cache_clear()
    assert slow.verifies == n and order.count("login") == n
    # The other request came back while the logins were still in flight (before the old code had
    # even let the first of them finish, it answered after all twenty; here it is normally first — half
    # leaves room for a machine busy with other work).
    assert order.index("static") < n // 2, order


# --- 5. cookies: __Host- over HTTPS, plain name in development -----------------------------------


def _set_cookies(response: httpx.Response) -> dict[str, dict[str, str]]:
    result = {}
    for header in response.headers.get_list("set-cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            result[name] = {k: str(v) for k, v in morsel.items() if v}
    return result


def test_cookies_carry_the_host_prefix_over_https(db: Database, services: Services) -> None:
    people(services, db)
    settings = Settings(mail=MailSettings(base_url=HTTPS))
    with TestClient(create_app(settings, db), base_url=HTTPS, follow_redirects=False) as browser:
        page = browser.get("/anmelden")
        response = page_login(browser, STAB, PASSWORD)
        assert response.status_code == 303
        cookies = _set_cookies(page) | _set_cookies(response)
        assert {"__Host-pp_csrf", "__Host-pp_session", "__Host-pp_device", "__Host-pp_meldung"} <= set(
            cookies
        )
        assert not {"pp_csrf", "pp_session", "pp_device", "pp_meldung"} & set(cookies)
        for attrs in cookies.values():
            assert "secure" in attrs and attrs["path"] == "/" and "domain" not in attrs
        assert browser.get("/api/v1/me").status_code == 200
        # A cookie without the prefix (which any subdomain could have planted) opens no session.
        session = browser.cookies["__Host-pp_session"]
        browser.cookies.clear()
        browser.cookies.set("pp_session", session)
        assert browser.get("/api/v1/me").status_code == 401


def test_cookies_keep_plain_names_on_http_loopback(db: Database, services: Services) -> None:
    people(services, db)
    with TestClient(create_app(Settings(), db), base_url=HTTP, follow_redirects=False) as browser:
        page = browser.get("/anmelden")
        response = page_login(browser, STAB, PASSWORD)
        cookies = _set_cookies(page) | _set_cookies(response)
        assert {"pp_csrf", "pp_session", "pp_device"} <= set(cookies)
        assert all("secure" not in attrs for attrs in cookies.values())


# --- 5. the login CSRF token is bound to its cookie ------------------------------------------------


def test_a_login_csrf_token_fits_only_its_own_cookie(app: FastAPI, services: Services, db: Database) -> None:
    people(services, db)
    with (
        _from(app, "192.0.2.1", follow_redirects=False) as a,
        _from(app, "192.0.2.2", follow_redirects=False) as b,
    ):
        token_a = _TOKEN.search(a.get("/anmelden").text)
        token_b = _TOKEN.search(b.get("/anmelden").text)
        assert token_a and token_b
        # The page's token is not the cookie's value (a page copy does not reveal the cookie).
        assert token_a.group(1) != a.cookies["pp_csrf"]
        form = {"email": STAB, "password": PASSWORD}
        assert b.post("/anmelden", data={**form, "csrf_token": token_a.group(1)}).status_code == 403
        assert a.post("/anmelden", data={**form, "csrf_token": token_b.group(1)}).status_code == 403
        assert b.post("/anmelden", data={**form, "csrf_token": token_b.group(1)}).status_code == 303


def test_a_planted_csrf_cookie_with_its_own_value_as_token_is_refused(
    app: FastAPI, services: Services, db: Database
) -> None:
    people(services, db)
    planted = "A" * 43
    with _from(app, "192.0.2.1", follow_redirects=False, cookies={"pp_csrf": planted}) as victim:
        response = victim.post("/anmelden", data={"email": STAB, "password": PASSWORD, "csrf_token": planted})
        assert response.status_code == 403
        assert "pp_session" not in victim.cookies


def test_an_oversized_password_in_the_login_form_is_refused_before_any_work(
    app: FastAPI, services: Services, db: Database, hasher: CountingHasher
) -> None:
    people(services, db)
    hasher.reset()
    with _from(app, "192.0.2.1") as browser:
        response = page_login(browser, STAB, "x" * 1025)
    assert response.status_code == 422 and "Passwort: zu lang – höchstens 1024 Zeichen." in response.text
    assert hasher.verifies == 0
