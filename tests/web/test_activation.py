"""Issue 9, §1: an administrator never sets or learns another person's password, and cannot defeat the
two-person rule with accounts of their own making. Mail goes through the real outbox to a real SMTP sink.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from partnerprojekte.config import Settings
from partnerprojekte.db.engine import Database
from partnerprojekte.db.schema import ActivationLinkRow, ApiTokenRow, OutboxRow, UserAuditRow, UserRow
from partnerprojekte.errors import TransitionRefused
from partnerprojekte.mailing.delivery import deliver_pending
from partnerprojekte.model import Event, Role, State
from partnerprojekte.reading.queries import show_proposal, verify
from partnerprojekte.services import Services
from partnerprojekte.states.workflow import EventInput
from partnerprojekte.web.app import create_app
from partnerprojekte.web.auth.security import create_api_token, set_password
from tests.conftest import Clock
from tests.notifications.conftest import mail_settings_for
from tests.people import MWIDE, MWIDE2, PARTNER, STAB, STAB2, add_people
from tests.smtp_server import SmtpSink
from tests.web.conftest import to_coordination
from tests.web.test_pages import PASSWORD, Browser, alert, flash, text_of

ADMIN_A = "ada.admin@it.nrw.example"
ADMIN_B = "bob.admin@it.nrw.example"
NEW_STAB = "n.stab@stk.nrw.example"
NEW_MWIDE = "n.wide@mwide.nrw.example"
OWN_PASSWORD = "mein-eigenes-Passwort-42"
LINK = re.compile(r"http://127\.0\.0\.1:8000/aktivieren/([A-Za-z0-9_-]+)")


@pytest.fixture
def settings(smtp: SmtpSink) -> Settings:
    """Mail to the sink; links point at the test client's address (plain http: cookies without Secure)."""
    return mail_settings_for(smtp, base_url="http://127.0.0.1:8000")


@pytest.fixture
def app(db: Database, settings: Settings) -> FastAPI:
    """The application over the test database, mailing to the sink."""
    return create_app(settings, db)


@pytest.fixture
def seeded(services: Services, db: Database) -> None:
    """Two administrators and the usual people, seeded (no administrator created them)."""
    add_people(services)
    for email, name in ((ADMIN_A, "Ada Admin"), (ADMIN_B, "Bob Admin")):
        services.add_user(email, name, Role.ADMIN)
    for email in (ADMIN_A, ADMIN_B, STAB, PARTNER):
        set_password(db, email, PASSWORD)


def add_via_page(admin: Browser, email: str, name: str, role: str, ressort: str = "") -> None:
    data = {"email": email, "name": name, "role": role, "ressort": ressort, "password": "Admin-kennt-es-1"}
    response = admin.post("/verwaltung/personen", data)
    assert response.status_code == 303, alert(response) or response.text[:500]


def link_from_mail(db: Database, settings: Settings, smtp: SmtpSink, email: str) -> str:
    """Send what is due; the path of the newest activation link that reached ``email``."""
    deliver_pending(db, settings)
    mails = smtp.to(email)
    assert mails, f"no mail to {email}"
    found = LINK.search(mails[-1].part("plain"))
    assert found, mails[-1].part("plain")
    return found.group(0).removeprefix("http://127.0.0.1:8000")


def choose_password(app: FastAPI, path: str, password: str = OWN_PASSWORD) -> Browser:
    """Open the link in a fresh browser and choose a password; returns the browser (not logged in)."""
    owner = Browser(app)
    form = owner.get(path)
    assert form.status_code == 200, form.text[:500]
    response = owner.post(path, {"password": password, "password_repeat": password})
    assert response.status_code == 303, alert(response) or response.text[:500]
    assert response.headers["location"] == "/anmelden"
    return owner


def user(db: Database, email: str) -> UserRow:
    with db.read() as s:
        row = s.scalar(select(UserRow).where(UserRow.email == email))
        assert row is not None
        s.expunge(row)
        return row


def test_a_new_person_activates_their_account_through_the_mailed_link(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None
) -> None:
    admin = Browser(app, ADMIN_A)
    add_via_page(admin, NEW_STAB, "Nina Stab", "arbeitsstab")
    assert user(db, NEW_STAB).password_hash is None
    # The password the old form took is not set: nobody can log in with what the admin typed.
    assert Browser(app).login(NEW_STAB, "Admin-kennt-es-1").status_code == 401

    path = link_from_mail(db, settings, smtp, NEW_STAB)
    [mail] = smtp.to(NEW_STAB)
    assert mail.subject == "Ihr Zugang zu den Partnerprojekten der Ruhr-Konferenz"
    assert "Niemand sonst – auch nicht die Administration – kennt Ihr Passwort." in mail.part("plain")
    token = path.rsplit("/", 1)[1]
    with db.read() as s:
        link = s.scalar(select(ActivationLinkRow).where(ActivationLinkRow.user_id == user(db, NEW_STAB).id))
        assert link is not None
        # Only the hash is stored, and the sent outbox row no longer holds the link.
        assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert link.issued_by == user(db, ADMIN_A).id
        contexts = [str(r.context) for r in s.scalars(select(OutboxRow))]
        assert not any(token in c for c in contexts)
        row = s.scalar(select(OutboxRow).where(OutboxRow.recipient_email == NEW_STAB))
        assert row is not None and row.status == "sent" and row.context["activation_url"] is None

    choose_password(app, path)
    newcomer = Browser(app, NEW_STAB, OWN_PASSWORD)
    assert newcomer.get("/uebersicht").status_code == 200
    assert user(db, NEW_STAB).activated_by == user(db, ADMIN_A).id
    assert user(db, NEW_STAB).created_by == user(db, ADMIN_A).id


def test_a_link_works_once_and_only_until_it_expires(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None, clock: Clock
) -> None:
    admin = Browser(app, ADMIN_A)
    add_via_page(admin, NEW_STAB, "Nina Stab", "arbeitsstab")
    path = link_from_mail(db, settings, smtp, NEW_STAB)
    choose_password(app, path)
    again = Browser(app)
    page = again.get(path)
    assert page.status_code == 404
    assert "ungültig, abgelaufen oder wurde schon benutzt" in text_of(page.text)
    again.get("/anmelden")  # the form's CSRF token (the refusal page has no form)
    response = again.post(
        path, {"password": "ein-anderes-Passwort-9", "password_repeat": "ein-anderes-Passwort-9"}
    )
    assert response.status_code == 404
    assert Browser(app).login(NEW_STAB, "ein-anderes-Passwort-9").status_code == 401

    # A new link (password reset) expires after 48 hours; a newer link replaces an older one.
    admin.post(f"/verwaltung/personen/{user(db, NEW_STAB).id}/link")
    first = link_from_mail(db, settings, smtp, NEW_STAB)
    admin.post(f"/verwaltung/personen/{user(db, NEW_STAB).id}/link")
    second = link_from_mail(db, settings, smtp, NEW_STAB)
    assert first != second
    assert Browser(app).get(first).status_code == 404
    clock.advance(hours=48, seconds=1)
    late = Browser(app)
    assert late.get(second).status_code == 404
    late.get("/anmelden")
    # The form of an expired link was open before it expired: the POST is refused all the same.
    response = late.post(
        second, {"password": "ein-anderes-Passwort-9", "password_repeat": "ein-anderes-Passwort-9"}
    )
    assert response.status_code == 404
    assert Browser(app, NEW_STAB, OWN_PASSWORD)  # the old password still works


def test_deactivation_cancels_a_link_sent_before(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None
) -> None:
    admin = Browser(app, ADMIN_A)
    add_via_page(admin, NEW_STAB, "Nina Stab", "arbeitsstab")
    path = link_from_mail(db, settings, smtp, NEW_STAB)
    admin.post(f"/verwaltung/personen/{user(db, NEW_STAB).id}/deaktivieren")
    assert Browser(app).get(path).status_code == 404
    assert not user(db, NEW_STAB).active


def test_the_activation_page_refuses_a_short_or_mismatched_password(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None
) -> None:
    add_via_page(Browser(app, ADMIN_A), NEW_STAB, "Nina Stab", "arbeitsstab")
    path = link_from_mail(db, settings, smtp, NEW_STAB)
    owner = Browser(app)
    owner.get(path)
    page = owner.post(path, {"password": "kurz", "password_repeat": "kurz"})
    assert page.status_code == 422 and "zu kurz (4 Zeichen)" in alert(page)
    page = owner.post(path, {"password": OWN_PASSWORD, "password_repeat": OWN_PASSWORD + "x"})
    assert page.status_code == 422 and "stimmen nicht überein" in alert(page)
    assert user(db, NEW_STAB).password_hash is None
    choose_password(app, path)  # the link is still good after refusals


def _accounts_of(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, stab_admin: str, mwide_admin: str
) -> None:
    """Create and activate a new Arbeitsstab member and a new MWIDE reviewer; the attacker reads the
    mails (an administrator who owns both mailboxes)."""
    add_via_page(Browser(app, stab_admin), NEW_STAB, "Nina Stab", "arbeitsstab")
    add_via_page(Browser(app, mwide_admin), NEW_MWIDE, "Nils Wide", "ressort", "MWIDE")
    choose_password(app, link_from_mail(db, settings, smtp, NEW_STAB))
    choose_password(app, link_from_mail(db, settings, smtp, NEW_MWIDE))


def test_one_administrator_cannot_recognise_alone_with_two_accounts_of_their_making(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None, services: Services
) -> None:
    _accounts_of(app, db, settings, smtp, ADMIN_A, ADMIN_A)
    pid = to_coordination(services)
    reviewer = Browser(app, NEW_MWIDE, OWN_PASSWORD)
    page = reviewer.follow(reviewer.post(f"/vorschlaege/PP-{pid:04d}/anerkennen", {"version": "4"}))
    assert "Es fehlt noch die Zustimmung: Arbeitsstab." in flash(page)
    stab = Browser(app, NEW_STAB, OWN_PASSWORD)
    refused = stab.post(f"/vorschlaege/PP-{pid:04d}/anerkennen")
    assert refused.status_code == 409
    assert "Vier-Augen-Prinzip" in alert(refused) and ADMIN_A in alert(refused)
    assert show_proposal(db, pid)["status"] == State.IN_ABSTIMMUNG.value
    # The same through the use case (CLI and API): TransitionRefused, nothing written.
    version = show_proposal(db, pid)["version"]
    with pytest.raises(TransitionRefused, match="Vier-Augen-Prinzip") as refusal:
        services.transition(pid, Event.RECOGNISE, NEW_STAB, EventInput())
    assert refusal.value.reason == "approval"
    assert show_proposal(db, pid)["version"] == version


def test_an_administrator_cannot_recognise_alone_through_a_second_administration_of_their_making(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None, services: Services
) -> None:
    """A creates the administration A2 (a mailbox of A's), A2 creates the Arbeitsstab account, A the
    reviewer: behind both stands A, so their approvals do not count together."""
    alias = "ada.zweit@it.nrw.example"
    add_via_page(Browser(app, ADMIN_A), alias, "Ada Zweit", "admin")
    choose_password(app, link_from_mail(db, settings, smtp, alias), PASSWORD)
    _accounts_of(app, db, settings, smtp, alias, ADMIN_A)
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, NEW_MWIDE, EventInput())
    with pytest.raises(TransitionRefused, match="Vier-Augen-Prinzip") as refusal:
        services.transition(pid, Event.RECOGNISE, NEW_STAB, EventInput())
    assert ADMIN_A in str(refusal.value)
    assert show_proposal(db, pid)["status"] == State.IN_ABSTIMMUNG.value


def test_accounts_of_two_administrators_recognise_together(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None, services: Services
) -> None:
    _accounts_of(app, db, settings, smtp, ADMIN_A, ADMIN_B)
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, NEW_MWIDE, EventInput())
    outcome = services.transition(pid, Event.RECOGNISE, NEW_STAB, EventInput())
    assert outcome.status is State.ANERKANNT


def test_a_reset_link_issued_by_the_other_accounts_creator_counts_as_the_same_administrator(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None, services: Services
) -> None:
    _accounts_of(app, db, settings, smtp, ADMIN_A, ADMIN_B)
    # Ada sends the reviewer Bob made a reset link and (owning the mailbox) uses it.
    Browser(app, ADMIN_A).post(f"/verwaltung/personen/{user(db, NEW_MWIDE).id}/link")
    choose_password(app, link_from_mail(db, settings, smtp, NEW_MWIDE), "noch-ein-Passwort-77")
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, NEW_MWIDE, EventInput())
    with pytest.raises(TransitionRefused, match="Vier-Augen-Prinzip"):
        services.transition(pid, Event.RECOGNISE, NEW_STAB, EventInput())


def test_an_api_token_an_administrator_issued_counts_like_an_activation(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None, services: Services
) -> None:
    from partnerprojekte.db.user_audit import UserActor

    _accounts_of(app, db, settings, smtp, ADMIN_A, ADMIN_B)
    ada = UserActor(f"cli:{ADMIN_A}", user(db, ADMIN_A).id)
    create_api_token(db, NEW_MWIDE, "Werkzeug", by=ada)
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, NEW_MWIDE, EventInput())
    with pytest.raises(TransitionRefused, match="Vier-Augen-Prinzip"):
        services.transition(pid, Event.RECOGNISE, NEW_STAB, EventInput())


def test_tokens_die_on_deactivation_and_on_a_new_password_and_stay_dead(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None
) -> None:
    api = Browser(app).client
    token = create_api_token(db, PARTNER, "Förderdatenbank")
    assert api.get("/api/v1/proposals", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    admin = Browser(app, ADMIN_A)
    partner_id = user(db, PARTNER).id
    admin.post(f"/verwaltung/personen/{partner_id}/deaktivieren")
    with db.read() as s:
        assert s.scalar(select(ApiTokenRow.revoked_at).where(ApiTokenRow.user_id == partner_id)) is not None
    # Reactivated through her own link: the old token does not come back.
    page = admin.follow(admin.post(f"/verwaltung/personen/{partner_id}/aktivieren"))
    assert "wieder aktiv, sobald sie ihn benutzt" in flash(page)
    assert not user(db, PARTNER).active
    choose_password(app, link_from_mail(db, settings, smtp, PARTNER))
    assert user(db, PARTNER).active
    assert api.get("/api/v1/proposals", headers={"Authorization": f"Bearer {token}"}).status_code == 401

    # A password change (through a reset link) revokes the tokens issued since.
    second = create_api_token(db, PARTNER, "Zweites")
    admin.post(f"/verwaltung/personen/{partner_id}/link")
    choose_password(app, link_from_mail(db, settings, smtp, PARTNER), "ganz-neues-Passwort-5")
    assert api.get("/api/v1/proposals", headers={"Authorization": f"Bearer {second}"}).status_code == 401


def test_user_management_is_in_its_own_tamper_evident_log(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None
) -> None:
    admin = Browser(app, ADMIN_A)
    add_via_page(admin, NEW_STAB, "Nina Stab", "arbeitsstab")
    choose_password(app, link_from_mail(db, settings, smtp, NEW_STAB))
    admin.post(f"/verwaltung/personen/{user(db, NEW_STAB).id}/deaktivieren")
    with db.read() as s:
        rows = list(
            s.scalars(
                select(UserAuditRow)
                .where(UserAuditRow.user_id == user(db, NEW_STAB).id)
                .order_by(UserAuditRow.seq)
            )
        )
        entries = [(r.action, r.actor, r.actor_id) for r in rows]
    ada = user(db, ADMIN_A).id
    assert entries == [
        ("create", f"web:{ADMIN_A}", ada),
        ("link_issued", f"web:{ADMIN_A}", ada),
        ("activate", f"self:{NEW_STAB}", user(db, NEW_STAB).id),
        ("deactivate", f"web:{ADMIN_A}", ada),
    ]
    assert verify(db)["ok"] is True

    # Pretend Bob, not Ada, created Nina: the chain no longer verifies.
    with db.write() as s:
        s.execute(update(UserAuditRow).where(UserAuditRow.id == rows[0].id).values(actor=f"web:{ADMIN_B}"))
    result = verify(db)
    assert result["ok"] is False
    assert result["user_broken"] == {
        "seq": rows[0].seq,
        "audit_id": rows[0].id,
        "problem": "Inhalt verändert (Hash passt nicht)",
    }


def test_deactivating_a_reviewer_on_the_page_withdraws_their_approval_and_tells_the_others(
    app: FastAPI, db: Database, settings: Settings, smtp: SmtpSink, seeded: None, services: Services
) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    admin = Browser(app, ADMIN_A, PASSWORD)
    done = admin.follow(admin.post(f"/verwaltung/personen/{user(db, MWIDE).id}/deaktivieren"))
    assert "ist deaktiviert" in flash(done)
    history = show_proposal(db, pid)
    assert history["status"] == State.IN_ABSTIMMUNG.value
    deliver_pending(db, settings)
    told = {m.rcpt_tos[0] for m in smtp.messages if "Zustimmung entfallen" in m.subject}
    assert told == {STAB, STAB2, MWIDE2}
    # The Arbeitsstab's approval alone is not enough any more.
    assert not services.transition(pid, Event.RECOGNISE, STAB, EventInput()).fired
    assert verify(db)["ok"]


def test_an_administrator_changes_a_role_on_the_page_and_the_old_approval_falls_away(
    app: FastAPI, db: Database, settings: Settings, seeded: None, services: Services
) -> None:
    pid = to_coordination(services)
    services.transition(pid, Event.RECOGNISE, MWIDE, EventInput())
    admin = Browser(app, ADMIN_A, PASSWORD)
    page = admin.get("/verwaltung/personen")
    assert f'action="/verwaltung/personen/{user(db, MWIDE).id}/rolle"' in page.text
    moved = admin.post(
        f"/verwaltung/personen/{user(db, MWIDE).id}/rolle", {"role": "ressort", "ressort": "VM"}
    )
    assert moved.status_code == 303
    assert "ist jetzt Ressort (VM)" in flash(admin.follow(moved))
    assert (user(db, MWIDE).role, user(db, MWIDE).ressort) == (Role.RESSORT, "VM")
    assert not services.transition(pid, Event.RECOGNISE, STAB, EventInput()).fired
    refused = admin.follow(
        admin.post(f"/verwaltung/personen/{user(db, STAB).id}/rolle", {"role": "ressort", "ressort": ""})
    )
    assert "Ressort: Für die Rolle" in flash(refused)
    assert user(db, STAB).role is Role.ARBEITSSTAB
    # Only an administrator may do it.
    stab = Browser(app, STAB, PASSWORD)
    assert (
        stab.post(f"/verwaltung/personen/{user(db, PARTNER).id}/rolle", {"role": "arbeitsstab"}).status_code
        == 403
    )
    with db.read() as s:
        actions = list(s.scalars(select(UserAuditRow.action).order_by(UserAuditRow.seq)))
    assert actions.count("change_role") == 1
