"""A database that cannot be reached gives 503 with a German message and Retry-After, never 500."""

from __future__ import annotations

from fastapi.testclient import TestClient

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.web.app import create_app
from tests.smtp_server import free_port


def test_an_unreachable_database_is_answered_with_503_on_pages_and_api() -> None:
    # A PostgreSQL address on 127.0.0.1 where nobody listens: every connection attempt is refused.
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nirgends")
    app = create_app(Settings(), Database(engine))
    with TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as client:
        api = client.get("/api/v1/proposals", headers={"Authorization": "Bearer pp_x"})
        client.cookies.set("pp_session", "x")
        page = client.get("/vorschlaege")
    engine.dispose()
    assert api.status_code == 503, api.text
    assert api.headers["Retry-After"] == "30"
    assert api.json()["error"]["kind"] == "unavailable"
    assert "Datenbank ist gerade nicht erreichbar" in api.json()["error"]["message"]
    assert page.status_code == 503, page.text
    assert "Datenbank ist gerade nicht erreichbar" in page.text and "Traceback" not in page.text
