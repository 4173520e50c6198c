"""Pages of the reporting rounds: the rounds (the Arbeitsstab opens one), a round's reports, and one
progress report with its form (partner), its review (Ressort) and its acceptance (Arbeitsstab)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from partnerprojekte.access import can_see_proposal
from partnerprojekte.errors import DomainError, FieldError, NotFound, ValidationError
from partnerprojekte.ids import format_id
from partnerprojekte.model import Role
from partnerprojekte.portrait import (
    MARK_LABELS,
    OPTIONAL_SECTIONS,
    TARGET_GROUP_LABELS,
    TEXT_SECTIONS,
    Section,
)
from partnerprojekte.reading import reports as reading
from partnerprojekte.states.report_table import ReportEvent, ReportState
from partnerprojekte.states.report_workflow import ReportFacts, allowed_report_events
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web.deps import services
from partnerprojekte.web.pages.report_form import entries_from_form, form_values
from partnerprojekte.web.pages.support import (
    SIGNED_IN_FORM,
    PageActor,
    PostedForm,
    ascii_int,
    proposal_number,
    refusal_messages,
    refusal_status,
    require_role,
    text,
    texts,
)
from partnerprojekte.web.pages.templating import redirect, render

router = APIRouter()

SEEING = (Role.PARTNER, Role.RESSORT, Role.ARBEITSSTAB)
# German path of an action → its event.
ACTIONS = {
    "entwurf": ReportEvent.SAVE_DRAFT,
    "einreichen": ReportEvent.SUBMIT_REPORT,
    "zurueckgeben": ReportEvent.RETURN_REPORT,
    "freigeben": ReportEvent.APPROVE_REPORT,
    "annehmen": ReportEvent.ACCEPT_REPORT,
}
MESSAGES = {
    ReportEvent.SAVE_DRAFT: "Der Entwurf ist gespeichert.",
    ReportEvent.SUBMIT_REPORT: "Die Fortschrittsmeldung ist eingereicht; das Ressort prüft sie.",
    ReportEvent.RETURN_REPORT: "Die Fortschrittsmeldung ist an den Partner zurückgegeben.",
    ReportEvent.APPROVE_REPORT: "Die Fortschrittsmeldung ist freigegeben.",
    ReportEvent.ACCEPT_REPORT: "Die Fortschrittsmeldung ist für den Bericht angenommen und gesperrt.",
}


def _year(value: str) -> int:
    year = ascii_int(value, low=2000, high=2100)
    if year is None:
        raise NotFound("Diese Berichtsrunde gibt es nicht.")
    return year


def _rounds_context(request: Request, actor: Actor) -> dict[str, Any]:
    return {"rounds": reading.list_rounds(services(request).db), "state_label": _state_label, "values": {}}


def _state_label(value: str) -> str:
    return ReportState(value).label


@router.get("/berichtsrunden", include_in_schema=False)
def rounds_page(request: Request, actor: PageActor) -> Response:
    """The reporting rounds; the Arbeitsstab opens a new one here."""
    require_role(actor, *SEEING)
    return render(request, "berichtsrunden.html", _rounds_context(request, actor), actor=actor)


def _date(form: FormData, name: str, label: str) -> dt.date:
    value = text(form, name)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(FieldError(label, f"„{value}“ ist kein Datum (JJJJ-MM-TT)")) from None


@router.post("/berichtsrunden", include_in_schema=False, dependencies=SIGNED_IN_FORM)
def open_round(request: Request, actor: PageActor, form: PostedForm) -> Response:
    """Open a reporting round (Arbeitsstab)."""
    require_role(actor, Role.ARBEITSSTAB)
    svc = services(request)
    try:
        year = ascii_int(text(form, "jahr"), low=1, high=9999)
        if year is None:
            raise ValidationError(FieldError("Jahr", "bitte eine Jahreszahl angeben"))
        name = text(form, "name") or f"Fortschrittsbericht {year}"
        opened = svc.open_round(
            year,
            name,
            _date(form, "stichtag", "Stichtag"),
            _date(form, "abgabe_bis", "Abgabe bis"),
            actor.email,
        )
    except DomainError as exc:
        context = _rounds_context(request, actor)
        values = {key: form.get(key) for key in form if key != "csrf_token"}
        context.update(errors=refusal_messages(exc), values=values)
        return render(request, "berichtsrunden.html", context, status=refusal_status(exc), actor=actor)
    message = (
        f"Die Berichtsrunde {year} ist eröffnet: {len(opened.owed)} Fortschrittsmeldung(en) angefordert."
    )
    return redirect(request, f"/berichtsrunden/{year}", message)


@router.get("/berichtsrunden/{jahr}", include_in_schema=False)
def round_page(jahr: str, request: Request, actor: PageActor) -> Response:
    """The progress reports of one round the person may see."""
    require_role(actor, *SEEING)
    year = _year(jahr)
    db = services(request).db
    invited = {format_id(p) for p in reading.contributed_projects(db, actor.user_id)}
    reports = [
        r
        for r in reading.list_reports(db, year)
        if can_see_proposal(actor, r["organisation"], r["ressort"]) or r["id"] in invited
    ]
    found = next((r for r in reading.list_rounds(services(request).db) if r["jahr"] == year), None)
    return render(request, "berichtsrunde.html", {"round": found, "reports": reports}, actor=actor)


def _report_context(request: Request, actor: Actor, year: int, number: int) -> dict[str, Any]:
    db = services(request).db
    ref = reading.report_visible(db, actor, number)
    report = reading.show_report(db, number, year)
    portrait = reading.show_portrait(db, number)
    base = reading.portrait_version(db, number, report["basis_version"])
    facts = ReportFacts(
        ReportState(report["status"]),
        ref.organisation,
        ref.responsible_ressort,
        contributors=reading.contributors_of(db, number),
    )
    allowed = {e.value for e in allowed_report_events(facts, actor)}
    changes = []
    if report["porträt_version"]:
        changes = reading.portrait_diff(db, number, report["basis_version"], report["porträt_version"])
    return {
        "p": ref,
        "pid": format_id(number),
        "year": year,
        "report": report,
        "portrait": portrait,
        "base": base,
        "allowed": allowed,
        "changes": changes,
        "sections": list(Section),
        "text_sections": TEXT_SECTIONS,
        "optional_sections": OPTIONAL_SECTIONS,
        "marks": MARK_LABELS,
        "target_groups": TARGET_GROUP_LABELS,
        "values": form_values(base, report["abschnitte"]),
    }


@router.get("/berichtsrunden/{jahr}/{pid}", include_in_schema=False)
def report_page(jahr: str, pid: str, request: Request, actor: PageActor) -> Response:
    """One progress report: the form while it is the partner's turn, the review after."""
    require_role(actor, *SEEING)
    context = _report_context(request, actor, _year(jahr), proposal_number(pid))
    return render(request, "meldung.html", context, actor=actor)


@router.post("/berichtsrunden/{jahr}/{pid}/{aktion}", include_in_schema=False, dependencies=SIGNED_IN_FORM)
def report_action(
    jahr: str, pid: str, aktion: str, request: Request, actor: PageActor, form: PostedForm
) -> Response:
    """Save, submit, return, approve or accept a progress report; back to its page."""
    require_role(actor, *SEEING)
    year, number = _year(jahr), proposal_number(pid)
    event = ACTIONS.get(aktion)
    if event is None:
        raise NotFound("Diese Aktion gibt es nicht.")
    svc = services(request)
    reading.report_visible(svc.db, actor, number)
    try:
        options: dict[str, Any] = {}
        if event in (ReportEvent.SAVE_DRAFT, ReportEvent.SUBMIT_REPORT):
            entries = entries_from_form(form)
            if entries or event is ReportEvent.SAVE_DRAFT:
                options["entries"] = entries
            options["umsetzungsstand"] = text(form, "umsetzungsstand") or None
        if event is ReportEvent.SUBMIT_REPORT and options.get("entries"):
            # The form sends the whole draft: save it, then submit what was saved.
            svc.report_event(number, year, ReportEvent.SAVE_DRAFT, actor.email, **options)
            options = {}
        if event is ReportEvent.RETURN_REPORT:
            options = {"comment": text(form, "kommentar") or None, "sections": texts(form, "abschnitte")}
        svc.report_event(number, year, event, actor.email, **options)
    except DomainError as exc:
        context = _report_context(request, actor, year, number)
        if event in (ReportEvent.SAVE_DRAFT, ReportEvent.SUBMIT_REPORT):
            typed: dict[str, Any] = {key: form.get(key) for key in form if key != "csrf_token"}
            typed["zielgruppen"] = texts(form, "zielgruppen")
            context["values"] = {**context["values"], **typed}
        context.update(errors=refusal_messages(exc), failed_action=aktion, kommentar=text(form, "kommentar"))
        return render(request, "meldung.html", context, status=refusal_status(exc), actor=actor)
    return redirect(request, f"/berichtsrunden/{year}/{format_id(number)}", MESSAGES[event])
