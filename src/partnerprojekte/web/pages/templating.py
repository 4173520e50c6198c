"""The Jinja2 environment of the pages, flash messages, and the one function that renders a page."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from partnerprojekte.ids import format_id
from partnerprojekte.model import Role
from partnerprojekte.states.workflow import Actor
from partnerprojekte.web import wording
from partnerprojekte.web.auth.security import cookie_name, cookie_secure
from partnerprojekte.web.deps import csrf_token, current_actor, settings
from partnerprojekte.web.pages.proposal_form import field_id

FLASH_COOKIE = "pp_meldung"
FLASH_KINDS = ("erfolg", "hinweis")


@dataclass(frozen=True)
class NavItem:
    """One link of the main navigation."""

    href: str
    label: str


NAVIGATION: dict[Role, tuple[NavItem, ...]] = {
    Role.PARTNER: (
        NavItem("/vorschlaege", "Meine Vorschläge"),
        NavItem("/vorschlaege/neu", "Neuer Vorschlag"),
        NavItem("/berichtsrunden", "Fortschrittsmeldungen"),
    ),
    Role.RESSORT: (
        NavItem("/aufgaben", "Meine Aufgaben"),
        NavItem("/vorschlaege", "Vorschläge"),
        NavItem("/berichtsrunden", "Fortschrittsmeldungen"),
    ),
    Role.ARBEITSSTAB: (
        NavItem("/uebersicht", "Übersicht"),
        NavItem("/aufgaben", "Aufgaben"),
        NavItem("/vorschlaege", "Vorschläge"),
        NavItem("/vorschlaege/neu", "Neuer Vorschlag"),
        NavItem("/bericht", "Bericht"),
        NavItem("/berichtsrunden", "Berichtsrunden"),
        NavItem("/zustandsdiagramm", "Zustandsdiagramm"),
    ),
    Role.ADMIN: (
        NavItem("/verwaltung/personen", "Personen"),
        NavItem("/uebersicht", "Übersicht"),
        NavItem("/vorschlaege", "Vorschläge"),
        NavItem("/bericht", "Bericht"),
    ),
}


def _tz(context: Context) -> str:
    return str(context.get("tz", "Europe/Berlin"))


@pass_context
def _date(context: Context, value: Any) -> str:
    return wording.date_text(value, _tz(context))


@pass_context
def _datetime(context: Context, value: Any) -> str:
    return wording.datetime_text(value, _tz(context))


@functools.cache
def environment() -> Environment:
    """The page templates: autoescaped, and an undefined name is an error rather than an empty string."""
    env = Environment(
        loader=PackageLoader("partnerprojekte.web", "templates"),
        autoescape=select_autoescape(["html", "svg"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        datum=_date,
        datum_zeit=_datetime,
        zahl=wording.number_text,
        euro=wording.euro_text,
        tage=wording.days_text,
        status=wording.state_label,
        ergebnis=wording.verdict_label,
        kriterium=wording.criterion_label,
        ereignis=wording.event_name,
        grund=wording.reason_label,
        rolle=wording.role_label,
        art=wording.kind_label,
        handlungsfeld=wording.handlungsfeld_title,
        ressort=wording.ressort_label,
        pp=format_id,
    )
    env.globals.update(
        field_id=field_id,
        scope_labels=wording.SCOPE_LABELS,
        source_kind_labels=wording.SOURCE_KIND_LABELS,
    )
    return env


def set_flash(response: Response, text: str, *, kind: str = "erfolg", secure: bool = False) -> None:
    """Leave a German message for the next page (the one the redirect leads to)."""
    value = quote(f"{kind}|{text}", safe="")
    response.set_cookie(
        cookie_name(FLASH_COOKIE, secure=secure),
        value,
        max_age=120,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def _pop_flash(request: Request) -> tuple[str, str] | None:
    raw = request.cookies.get(cookie_name(FLASH_COOKIE, secure=cookie_secure(settings(request))))
    if not raw:
        return None
    kind, _, text = unquote(raw).partition("|")
    # A message is shown as text (autoescaped) and only ever ours; a forged cookie could at most show text.
    return (kind if kind in FLASH_KINDS else "hinweis", text[:500]) if text else None


def redirect(
    request: Request, url: str, message: str | None = None, *, kind: str = "erfolg"
) -> RedirectResponse:
    """303 to a page, with a flash message for it (Post/Redirect/Get)."""
    response = RedirectResponse(url, status_code=303)
    if message:
        set_flash(response, message, kind=kind, secure=cookie_secure(settings(request)))
    return response


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    actor: Actor | None = None,
) -> HTMLResponse:
    """Render a page with the common context: who is logged in, navigation, CSRF token, flash message."""
    if actor is None:
        actor = _optional_actor(request)
    flash = _pop_flash(request)
    navigation = NAVIGATION.get(actor.role, ()) if actor else ()
    path = request.url.path
    # The most specific link that leads here is the current one ("/vorschlaege/neu" over "/vorschlaege").
    matching = [item.href for item in navigation if path == item.href or path.startswith(item.href + "/")]
    data: dict[str, Any] = {
        "request": request,
        "actor": actor,
        "navigation": navigation,
        "current_nav": max(matching, key=len) if matching else None,
        "csrf_token": csrf_token(request),
        "flash": flash,
        "tz": settings(request).timezone,
        "errors": [],
    }
    data.update(context or {})
    html = environment().get_template(template).render(data)
    response = HTMLResponse(html, status_code=status)
    if flash is not None:
        secure = cookie_secure(settings(request))
        response.delete_cookie(cookie_name(FLASH_COOKIE, secure=secure), path="/", secure=secure)
    # Pages show personal data: no shared cache may keep them.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _optional_actor(request: Request) -> Actor | None:
    try:
        return current_actor(request)
    except Exception:  # an error page must render even when the session lookup fails
        return None
