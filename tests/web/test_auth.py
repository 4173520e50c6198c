"""Login, sessions, CSRF, API tokens and security headers: what a browser and an integration see."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from partnerprojekte.config import MailSettings, Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import LoginAttemptRow, UserRow, WebSessionRow
from partnerprojekte.ids import format_id
from partnerprojekte.services import Services
from partnerprojekte.web.app import create_app
from partnerprojekte.web.auth import security
from partnerprojekte.web.auth.security import (
    MAX_FAILURES,
    cookie_secure,
    create_api_token,
    hash_password,
    issue_api_token,
    revoke_api_token,
    set_password,
    verify_password,
)
from partnerprojekte.web.deps import csrf_token, require_actor, require_csrf
from tests.conftest import Clock
from tests.people import MWIDE, PARTNER, STAB
from tests.web.conftest import bearer, error, submit

PASSWORD = "korrekt-Pferd-Batterie-1"
DEFAULT_HASHER = security._hasher  # taken before the autouse fixture swaps in a cheap one


@pytest.fixture
def login_ready(tokens: dict[str, str], db: Database) -> None:
    set_password(db, STAB, PASSWORD)
    set_password(db, PARTNER, PASSWORD)


def login(client: TestClient, email: str = STAB, password: str = PASSWORD, **kwargs: str) -> dict[str, str]:
    response = client.post("/api/v1/session", json={"email": email, "password": password}, headers=kwargs)
    assert response.status_code == 200, response.text
    return dict(response.json())


def set_cookie_attributes(headers: list[str], name: str = "pp_session") -> dict[str, str]:
    for header in headers:
        cookie = SimpleCookie()
        cookie.load(header)
        if name in cookie:
            return {k: str(v) for k, v in cookie[name].items() if v}
    raise AssertionError(f"no Set-Cookie for {name} in {headers}")


# --- passwords -----------------------------------------------------------------------------------


def test_password_is_stored_as_argon2id_hash(login_ready: None, db: Database) -> None:
    with db.read() as s:
        stored = s.scalar(select(UserRow.password_hash).where(UserRow.email == STAB))
    assert stored is not None and stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + "x")
    assert not verify_password("kein-hash", PASSWORD)
    assert hash_password(PASSWORD) != stored  # salted


def test_default_hasher_is_argon2id_with_strong_parameters() -> None:
    from argon2 import Type

    # The module's own hasher (the tests swap in a cheaper one for speed).
    hasher = DEFAULT_HASHER()
    assert hasher.type is Type.ID and hasher.memory_cost >= 19 * 1024 and hasher.time_cost >= 2


def test_password_policy_in_german(tokens: dict[str, str], db: Database) -> None:
    from partnerprojekte.errors import NotFound, ValidationError

    with pytest.raises(ValidationError, match="mindestens 12 Zeichen"):
        set_password(db, STAB, "zu-kurz")
    with pytest.raises(NotFound, match="Keine Person"):
        set_password(db, "niemand@example.org", PASSWORD)


# --- login ---------------------------------------------------------------------------------------


def test_login_sets_session_cookie_and_returns_me(client: TestClient, login_ready: None) -> None:
    response = client.post(
        "/api/v1/session", json={"email": " A.Stab@stk.nrw.example ", "password": PASSWORD}
    )
    assert response.status_code == 200
    me = response.json()
    assert me["email"] == STAB and me["role"] == "arbeitsstab" and me["auth"] == "session"
    assert me["csrf_token"]
    attrs = set_cookie_attributes(response.headers.get_list("set-cookie"))
    assert attrs["httponly"] and attrs["path"] == "/" and attrs["samesite"].lower() == "lax"
    assert "secure" not in attrs  # plain http on 127.0.0.1 in development
    assert int(attrs["max-age"]) == 24 * 3600
    # The cookie alone now authenticates, and the token in the table is only a hash.
    again = client.get("/api/v1/me")
    assert again.status_code == 200 and again.json()["csrf_token"] == me["csrf_token"]


def test_session_table_keeps_only_a_hash(client: TestClient, login_ready: None, db: Database) -> None:
    login(client)
    token = client.cookies["pp_session"]
    with db.read() as s:
        ids = list(s.scalars(select(WebSessionRow.id)))
    assert ids and token not in ids and all(len(i) == 64 for i in ids)


def test_cookie_is_secure_outside_local_development(db: Database, login_ready: None) -> None:
    settings = Settings(mail=MailSettings(base_url="https://partnerprojekte.nrw.example"))
    assert cookie_secure(settings)
    assert not cookie_secure(Settings())
    with TestClient(create_app(settings, db), base_url="https://partnerprojekte.nrw.example") as client:
        response = client.post("/api/v1/session", json={"email": STAB, "password": PASSWORD})
        # Over HTTPS the cookie carries the __Host- prefix (Secure, Path=/, no Domain).
        attrs = set_cookie_attributes(response.headers.get_list("set-cookie"), "__Host-pp_session")
        assert "secure" in attrs and attrs["path"] == "/" and "domain" not in attrs
        assert response.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize("email", [STAB, "unbekannt@example.org"])
def test_wrong_password_or_unknown_user_same_german_401(
    client: TestClient, login_ready: None, email: str
) -> None:
    response = client.post("/api/v1/session", json={"email": email, "password": "falsch-falsch-falsch"})
    assert response.status_code == 401
    assert error(response) == {"message": "E-Mail-Adresse oder Passwort ist falsch.", "kind": "login_failed"}
    assert "pp_session" not in response.headers.get("set-cookie", "")


def test_login_without_password_set_fails(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post("/api/v1/session", json={"email": MWIDE, "password": PASSWORD})
    assert response.status_code == 401


def test_login_body_errors_are_german_with_paths(client: TestClient, tokens: dict[str, str]) -> None:
    response = client.post("/api/v1/session", json={"email": STAB})
    assert response.status_code == 422
    assert error(response)["fields"] == [{"path": "password", "message": "Pflichtfeld fehlt"}]
    response = client.post("/api/v1/session", json={"email": STAB, "password": "x", "role": "admin"})
    assert error(response)["fields"] == [{"path": "role", "message": "unbekanntes Feld 'role'"}]
    response = client.post(
        "/api/v1/session", content=b"{kaputt", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422 and error(response)["fields"][0]["message"] == "kein gültiges JSON"


def test_throttled_after_too_many_failures_per_email(
    client: TestClient, login_ready: None, clock: Clock, db: Database
) -> None:
    for _ in range(MAX_FAILURES):
        assert client.post("/api/v1/session", json={"email": STAB, "password": "falsch"}).status_code == 401
    # Now even the right password is refused until the window has passed.
    response = client.post("/api/v1/session", json={"email": STAB, "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) == 15 * 60
    detail = error(response)
    assert detail["kind"] == "throttled" and "Zu viele fehlgeschlagene Anmeldeversuche" in detail["message"]
    assert "15 Minuten" in detail["message"]
    with db.read() as s:
        assert s.scalar(select(LoginAttemptRow.id).where(LoginAttemptRow.key == f"email:{STAB}")) is not None
    clock.advance(minutes=15)
    assert client.post("/api/v1/session", json={"email": STAB, "password": PASSWORD}).status_code == 200


def test_throttled_per_client_address_across_emails(
    client: TestClient, login_ready: None, clock: Clock
) -> None:
    for i in range(MAX_FAILURES):
        client.post("/api/v1/session", json={"email": f"rate{i}@example.org", "password": "falsch"})
    response = client.post("/api/v1/session", json={"email": PARTNER, "password": PASSWORD})
    assert response.status_code == 429
    # A success by the e-mail address does not reset the counter of the client address.
    clock.advance(minutes=16)
    login(client, PARTNER)
    for i in range(MAX_FAILURES):
        client.post("/api/v1/session", json={"email": f"rate{i}@example.org", "password": "falsch"})
    assert client.post("/api/v1/session", json={"email": STAB, "password": PASSWORD}).status_code == 429


def test_success_forgives_earlier_failures_of_the_email(
    app: FastAPI, login_ready: None, clock: Clock
) -> None:
    # Two clients (addresses) so that only the e-mail counter matters.
    for i in range(MAX_FAILURES - 1):
        with TestClient(app, base_url="http://127.0.0.1:8000", client=(f"10.0.0.{i}", 1234)) as c:
            c.post("/api/v1/session", json={"email": STAB, "password": "falsch"})
    with TestClient(app, base_url="http://127.0.0.1:8000", client=("10.0.1.1", 1234)) as c:
        login(c)
        for _ in range(MAX_FAILURES - 1):
            assert c.post("/api/v1/session", json={"email": STAB, "password": "falsch"}).status_code == 401
        assert c.post("/api/v1/session", json={"email": STAB, "password": PASSWORD}).status_code == 200


# --- sessions ------------------------------------------------------------------------------------


def test_logout_invalidates_the_session(client: TestClient, login_ready: None) -> None:
    me = login(client)
    old = client.cookies["pp_session"]
    response = client.delete("/api/v1/session", headers={"X-CSRF-Token": me["csrf_token"]})
    assert response.status_code == 204
    assert 'pp_session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    client.cookies.set("pp_session", old)  # a copy of the cookie kept by an attacker
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert error(response)["message"] == "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an."


def test_logout_needs_csrf_token(client: TestClient, login_ready: None) -> None:
    login(client)
    assert client.delete("/api/v1/session").status_code == 403
    assert client.get("/api/v1/me").status_code == 200


def test_relogin_replaces_the_session(client: TestClient, login_ready: None) -> None:
    login(client)
    first = client.cookies["pp_session"]
    login(client)
    assert client.cookies["pp_session"] != first
    client.cookies.set("pp_session", first)
    assert client.get("/api/v1/me").status_code == 401


def test_session_expires_after_idle_time(client: TestClient, login_ready: None, clock: Clock) -> None:
    login(client)
    clock.advance(hours=7, minutes=59)
    assert client.get("/api/v1/me").status_code == 200
    clock.advance(hours=7, minutes=59)  # active: the idle timer started again
    assert client.get("/api/v1/me").status_code == 200
    clock.advance(hours=8)
    assert client.get("/api/v1/me").status_code == 401


def test_session_expires_absolutely_after_a_day(client: TestClient, login_ready: None, clock: Clock) -> None:
    login(client)
    for _ in range(4):
        clock.advance(hours=6)
        status = client.get("/api/v1/me").status_code
    assert status == 401


def test_new_password_ends_sessions(client: TestClient, login_ready: None, db: Database) -> None:
    login(client)
    set_password(db, STAB, "ein-ganz-neues-Passwort")
    assert client.get("/api/v1/me").status_code == 401


def test_deactivated_user_loses_session_and_tokens(
    client: TestClient, login_ready: None, db: Database, tokens: dict[str, str]
) -> None:
    login(client)
    with db.write() as s:
        user = s.scalar(select(UserRow).where(UserRow.email == STAB))
        assert user is not None
        user.active = False
    assert client.get("/api/v1/me").status_code == 401
    client.cookies.clear()
    assert client.get("/api/v1/me", headers=bearer(tokens, STAB)).status_code == 401


# --- CSRF ----------------------------------------------------------------------------------------


def test_cookie_requests_need_the_csrf_header(
    client: TestClient, login_ready: None, services: Services
) -> None:
    pid = format_id(submit(services))
    me = login(client)
    url = f"/api/v1/proposals/{pid}/comments"
    missing = client.post(url, json={"text": "Hallo"})
    assert missing.status_code == 403
    assert error(missing)["kind"] == "csrf" and "CSRF" in error(missing)["message"]
    wrong = client.post(url, json={"text": "Hallo"}, headers={"X-CSRF-Token": "falsch"})
    assert wrong.status_code == 403
    ok = client.post(url, json={"text": "Hallo"}, headers={"X-CSRF-Token": me["csrf_token"]})
    assert ok.status_code == 201
    # Safe requests need none.
    assert client.get(f"/api/v1/proposals/{pid}").status_code == 200


def test_bearer_requests_need_no_csrf_token(
    client: TestClient, tokens: dict[str, str], services: Services
) -> None:
    pid = format_id(submit(services))
    response = client.post(
        f"/api/v1/proposals/{pid}/comments", json={"text": "Hallo"}, headers=bearer(tokens, STAB)
    )
    assert response.status_code == 201


def _form_app(app: FastAPI) -> FastAPI:
    """Routes like the pages engineer's forms, to check the form side of the CSRF protection."""

    @app.get("/formular")
    def form(request: Request) -> dict[str, str]:
        return {"csrf_token": csrf_token(request)}

    @app.post("/formular", dependencies=[Depends(require_csrf)])
    def post_form() -> dict[str, str]:
        return {"ok": "ja"}

    @app.get("/geheim")
    def secret(actor: object = Depends(require_actor)) -> dict[str, str]:
        return {"ok": "ja"}

    return app


def test_anonymous_forms_use_a_double_submit_cookie(app: FastAPI) -> None:
    with TestClient(_form_app(app), base_url="http://127.0.0.1:8000") as client:
        page = client.get("/formular")
        token = page.json()["csrf_token"]
        assert "pp_csrf=" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
        assert client.post("/formular", data={"csrf_token": token}).status_code == 200
        assert client.post("/formular", data={"csrf_token": "falsch"}).status_code == 403
        assert client.post("/formular", data={}).status_code == 403
        client.cookies.clear()  # another site's form: no cookie comes along
        assert client.post("/formular", data={"csrf_token": token}).status_code == 403


def test_session_forms_use_the_session_token(app: FastAPI, login_ready: None) -> None:
    with TestClient(_form_app(app), base_url="http://127.0.0.1:8000") as client:
        me = login(client)
        assert client.get("/formular").json()["csrf_token"] == me["csrf_token"]
        assert client.post("/formular", data={"csrf_token": me["csrf_token"]}).status_code == 200
        assert client.post("/formular", headers={"X-CSRF-Token": me["csrf_token"]}).status_code == 200
        assert client.post("/formular", data={"csrf_token": "falsch"}).status_code == 403


def test_pages_redirect_to_login_with_return_path(app: FastAPI) -> None:
    with TestClient(_form_app(app), base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        response = client.get("/geheim?seite=2")
        assert response.status_code == 303
        assert response.headers["location"] == "/anmelden?weiter=%2Fgeheim%3Fseite%3D2"


# --- API tokens ----------------------------------------------------------------------------------


def test_bearer_token_authenticates_and_revoked_token_does_not(
    client: TestClient, tokens: dict[str, str], db: Database
) -> None:
    issued = issue_api_token(db, MWIDE, "Förderdatenbank")
    headers = {"Authorization": f"Bearer {issued.token}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json()["email"] == MWIDE and me.json()["auth"] == "token"
    assert revoke_api_token(db, issued.id) is True
    assert revoke_api_token(db, issued.id) is False
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert error(response)["message"] == "Das API-Token ist ungültig oder wurde widerrufen."
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer pp_erfunden", "Bearer ohne-prefix"]
)
def test_malformed_or_unknown_authorization_is_401(
    client: TestClient, tokens: dict[str, str], header: str
) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert response.status_code == 401
    assert error(response)["kind"] == "unauthenticated"


def test_token_is_stored_only_as_hash(tokens: dict[str, str], db: Database) -> None:
    from partnerprojekte.db.schema import ApiTokenRow

    token = create_api_token(db, STAB, "Statistik")
    assert token.startswith("pp_") and len(token) > 40
    with db.read() as s:
        hashes = list(s.scalars(select(ApiTokenRow.token_hash)))
    assert token not in hashes and all(len(h) == 64 for h in hashes)


# --- headers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/me", "/api/v1/openapi.json", "/api/v1/gibt-es-nicht", "/vorschlaege"]
)
def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "https:" not in csp
    assert response.headers["cache-control"] == "no-store"


def test_unknown_api_path_is_german_json(client: TestClient) -> None:
    response = client.get("/api/v1/gibt-es-nicht")
    assert response.status_code == 404
    assert error(response) == {"message": "Diese Seite gibt es nicht.", "kind": "not_found"}
    response = client.patch("/api/v1/me")
    assert response.status_code == 405
    assert error(response)["message"] == "Diese Methode ist hier nicht erlaubt."


def test_unexpected_error_is_a_german_500_without_trace(app: FastAPI) -> None:
    @app.get("/api/v1/kaputt")
    def broken() -> None:
        raise RuntimeError("geheimes Detail")

    with TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as client:
        response = client.get("/api/v1/kaputt")
    assert response.status_code == 500
    assert error(response) == {
        "message": "Ein interner Fehler ist aufgetreten. Bitte später erneut versuchen.",
        "kind": "error",
    }
    assert "geheim" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
