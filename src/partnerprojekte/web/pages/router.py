"""The German pages: one router over the page modules, and the error page the application renders.

Every page works without JavaScript; ``static/app.js`` only adds comfort (rows added in place, the live
criteria check). Order matters below: fixed paths (``/vorschlaege/neu``, ``/vorschlaege/export.csv``)
come before ``/vorschlaege/{pid}``.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from partnerprojekte.web.pages import actions as pages_actions
from partnerprojekte.web.pages import activation as pages_activation
from partnerprojekte.web.pages import admin as pages_admin
from partnerprojekte.web.pages import login as pages_auth
from partnerprojekte.web.pages import overview as pages_overview
from partnerprojekte.web.pages import proposals as pages_proposals
from partnerprojekte.web.pages import reports as pages_reports
from partnerprojekte.web.pages import submit as pages_submit
from partnerprojekte.web.pages.templating import render

log = logging.getLogger(__name__)

router = APIRouter()
router.include_router(pages_auth.router)
router.include_router(pages_overview.router)
router.include_router(pages_submit.router)
router.include_router(pages_proposals.router)
router.include_router(pages_actions.router)
router.include_router(pages_admin.router)
router.include_router(pages_activation.router)
router.include_router(pages_reports.router)

ERROR_TITLES = {
    400: "Anfrage fehlerhaft",
    401: "Bitte anmelden",
    403: "Kein Zugriff",
    404: "Nicht gefunden",
    405: "Nicht möglich",
    409: "Nicht möglich",
    413: "Zu groß",
    415: "Format nicht unterstützt",
    422: "Eingabe fehlerhaft",
    429: "Zu viele Versuche",
    500: "Interner Fehler",
}


def render_error(request: Request, status: int, payload: Mapping[str, Any]) -> Response:
    """The German error page for the application's error handlers (never a stack trace)."""
    error = payload.get("error", {})
    message = str(error.get("message", "")) if isinstance(error, Mapping) else ""
    context: dict[str, Any] = {
        "status_code": status,
        "heading": ERROR_TITLES.get(status, "Fehler"),
        "message": message,
        "kind": error.get("kind", "") if isinstance(error, Mapping) else "",
    }
    try:
        return render(request, "fehler.html", context, status=status)
    except Exception:
        # The error page itself failed (e.g. the database is gone): a plain page still says what happened.
        log.exception("Fehlerseite konnte nicht gerendert werden")
        body = (
            '<!doctype html><html lang="de"><head><meta charset="utf-8"><title>Fehler</title></head><body>'
            f"<main><h1>{html.escape(str(context['heading']))}</h1><p>{html.escape(message)}</p>"
            '<p><a href="/">Zur Startseite</a></p></main></body></html>'
        )
        return HTMLResponse(body, status_code=status)
