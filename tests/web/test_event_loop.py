"""No route blocks the event loop: a request that waits for the database leaves the others answering."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.ids import format_id
from partnerprojekte.model import Role
from partnerprojekte.services import Services
from partnerprojekte.web.app import create_app
from partnerprojekte.web.auth.security import create_api_token
from tests.conftest import own_database
from tests.helpers import proposal_doc
from tests.people import ORG, PARTNER, STAB


@contextmanager
def write_lock(backend: str, url: str, engine: Engine) -> Iterator[None]:
    """Hold what a comment needs to write: SQLite's write lock, or PostgreSQL's lock on ``proposals``.

    A thread of its own holds it, and lets go after 20 s at the latest: on the old code the blocked
    event loop could not even get here to release it.
    """
    acquired, release = threading.Event(), threading.Event()

    def hold() -> None:
        if backend == "sqlite":
            path = make_url(url).database
            assert path
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            acquired.set()
            release.wait(timeout=20)
            conn.execute("ROLLBACK")
            conn.close()
        else:
            with engine.connect() as pg:
                pg.execute(text("LOCK TABLE proposals IN EXCLUSIVE MODE"))
                acquired.set()
                release.wait(timeout=20)
                pg.rollback()

    holder = threading.Thread(target=hold)
    holder.start()
    assert acquired.wait(timeout=10)
    try:
        yield
    finally:
        release.set()
        holder.join()


@pytest.mark.parametrize(
    "path",
    [
        "/vorschlaege/{pid}/kommentare",  # an action (was ``async def``)
        "/vorschlaege/{pid}/aufgreifen",  # a workflow event
    ],
)
def test_a_request_waiting_for_the_write_lock_does_not_stall_the_others(
    backend: str, tmp_path: Path, path: str
) -> None:
    with own_database(backend, tmp_path) as (url, engine):
        db = Database(engine)
        services = Services(db, Settings())
        services.add_user(STAB, "Anna Stab", Role.ARBEITSSTAB)
        services.add_user(PARTNER, "Kai Kontakt", Role.PARTNER, organisation=ORG)
        pid = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
        token = create_api_token(db, STAB, "Tests")
        app = create_app(Settings(), db)
        order: list[str] = []

        async def scenario() -> None:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
                headers = {"Authorization": f"Bearer {token}"}
                # Authenticate once before the lock (the token lookup may write too).
                assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
                with write_lock(backend, url, engine):

                    async def blocked() -> httpx.Response:
                        response = await client.post(
                            path.format(pid=format_id(pid)),
                            data={"text": "Bitte Finanzierung ergänzen.", "visibility": "internal"},
                            headers=headers,
                        )
                        order.append("blocked")
                        return response

                    first = asyncio.create_task(blocked())
                    await asyncio.sleep(0.3)  # the first request is now waiting for the lock
                    try:
                        other = await asyncio.wait_for(client.get("/api/v1/openapi.json"), timeout=15)
                        order.append("other")
                        assert other.status_code == 200
                    except TimeoutError:
                        order.append("timeout")
                    assert not first.done() or order[0] == "blocked"
                response = await first
                assert response.status_code < 500, response.text

        asyncio.run(scenario())
        # The other request answered while the first still waited; on the old code (``async def``
        # routes) the waiting request held the event loop and the other came only after it.
        assert order == ["other", "blocked"]
