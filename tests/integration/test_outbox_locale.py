"""The outbox rows of an event come in Python's order of addresses even where the database's locale
sorts otherwise (PostgreSQL with a German ICU locale)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.db.migrate import upgrade
from partnerprojekte.db.schema import OutboxRow, UserRow
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Role
from partnerprojekte.services import Services
from tests.conftest import postgres_admin_url
from tests.helpers import proposal_doc

PARTNER = "kontakt@bio-security.example.de"
ORG = "Kompetenzzentrum Bio-Security GmbH"


@pytest.mark.postgres
def test_recipients_are_in_pythons_order_under_a_german_locale() -> None:
    # A German ICU locale sorts "a_b@…", "a.b@…", "a@…", "a1@…"; resolve() (Python) sorts "a.b@…", "a1@…",
    # "a@…", "a_b@…". The fan-out must write them in resolve()'s order whatever the server's locale.
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip("PARTNERPROJEKTE_TEST_POSTGRES_URL not set: PostgreSQL tests skipped locally")
    name = f"pp_test_de_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(
            text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'de-DE'")
        )
    engine = make_engine(make_url(admin_url).set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        services = Services(Database(engine), Settings())
        services.load_reference_data()
        people = ["a_b@stk.nrw.example", "a.b@stk.nrw.example", "a@stk.nrw.example", "a1@stk.nrw.example"]
        for email in people:
            services.add_user(email, email.split("@")[0], Role.ARBEITSSTAB)
        services.add_user(PARTNER, "Kai Kontakt", Role.PARTNER, organisation=ORG)
        pid = services.submit(proposal_from_document(proposal_doc()), PARTNER).proposal_id
        with engine.connect() as c:
            written = list(
                c.scalars(
                    select(OutboxRow.recipient_email)
                    .where(OutboxRow.proposal_id == pid, OutboxRow.recipient_role == "arbeitsstab")
                    .order_by(OutboxRow.id)
                )
            )
            server_order = list(
                c.scalars(select(UserRow.email).where(UserRow.email.in_(people)).order_by(UserRow.email))
            )
        assert written == sorted(people)
        assert server_order != sorted(people)  # the locale really sorts otherwise
    finally:
        engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
