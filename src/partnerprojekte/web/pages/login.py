"""Logging in and out (``/anmelden``, ``/abmelden``) and the start page that leads each role home."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from partnerprojekte.errors import DomainError
from partnerprojekte.web.auth.security import (
    MAX_FAILURES,
    PASSWORD_MAX_LENGTH,
    THROTTLE_WINDOW,
    end_session,
)
from partnerprojekte.web.deps import (
    CSRF_FIELD,
    check_csrf,
    current_actor,
    database,
    finish_login,
    password_login,
    require_csrf,
)
from partnerprojekte.web.errors import LoginThrottled
from partnerprojekte.web.pages.support import HOME, safe_next, text
from partnerprojekte.web.pages.templating import redirect, render

router = APIRouter()


def _login_page(request: Request, email: str, target: str, errors: list[str], status: int = 200) -> Response:
    context = {
        "email": email,
        "weiter": target,
        "errors": errors,
        "max_failures": MAX_FAILURES,
        "throttle_minutes": int(THROTTLE_WINDOW.total_seconds() // 60),
    }
    return render(request, "anmelden.html", context, status=status)


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    """Each role has its own starting page; without a login the login form."""
    actor = current_actor(request)
    if actor is None:
        return RedirectResponse("/anmelden", status_code=303)
    return RedirectResponse(HOME[actor.role], status_code=303)


@router.get("/anmelden", include_in_schema=False)
def login_form(request: Request, weiter: str | None = None) -> Response:
    """The login form (already logged in: on to where the person wanted to go)."""
    actor = current_actor(request)
    if actor is not None:
        return RedirectResponse(safe_next(weiter) or HOME[actor.role], status_code=303)
    return _login_page(request, "", safe_next(weiter) or "", [])


@router.post("/anmelden", include_in_schema=False)
async def login(request: Request) -> Response:
    """Check e-mail and password, open a session and go on; a failure re-renders the form with why.

    Only reading the form happens on the event loop; the CSRF check, the database and argon2 run in the
    thread pool, so that logins in progress never hold up other requests.
    """
    form = await request.form()
    return await run_in_threadpool(_login, request, form)


def _login(request: Request, form: FormData) -> Response:
    given = form.get(CSRF_FIELD)
    check_csrf(request, given if isinstance(given, str) else None)
    email, password = text(form, "email"), form.get("password")
    target = safe_next(text(form, "weiter"))
    errors: list[str] = []
    if not email:
        errors.append("Bitte geben Sie Ihre E-Mail-Adresse ein.")
    if not isinstance(password, str) or not password:
        errors.append("Bitte geben Sie Ihr Passwort ein.")
    elif len(password) > PASSWORD_MAX_LENGTH:
        errors.append(f"Passwort: zu lang – höchstens {PASSWORD_MAX_LENGTH} Zeichen.")
    if errors:
        return _login_page(request, email, target or "", errors, status=422)
    assert isinstance(password, str)
    try:
        actor = password_login(request, email, password)
    except DomainError as exc:
        status = 429 if isinstance(exc, LoginThrottled) else 401
        page = _login_page(request, email, target or "", [str(exc)], status=status)
        if isinstance(exc, LoginThrottled):
            page.headers["Retry-After"] = str(exc.retry_after)
        return page
    response = redirect(request, target or HOME[actor.role], f"Willkommen, {actor.name}.")
    finish_login(request, actor, response)
    return response


@router.get("/abmelden", include_in_schema=False)
def logout_form(request: Request) -> Response:
    """A page with the logout button (logging out is a POST, so that no link can do it unasked)."""
    if current_actor(request) is None:
        return RedirectResponse("/anmelden", status_code=303)
    return render(request, "abmelden.html")


@router.post("/abmelden", include_in_schema=False, dependencies=[Depends(require_csrf)])
def logout(request: Request) -> Response:
    """End the session and go to the login page."""
    response = redirect(request, "/anmelden", "Sie sind abgemeldet.")
    end_session(database(request), request, response)
    return response
