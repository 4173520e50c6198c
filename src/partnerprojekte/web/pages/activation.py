"""The activation page ``/aktivieren/<token>``: the owner of an account chooses their own password."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from partnerprojekte.errors import DomainError, NotFound
from partnerprojekte.web.auth import accounts
from partnerprojekte.web.auth.security import PASSWORD_MIN_LENGTH
from partnerprojekte.web.deps import database, require_csrf
from partnerprojekte.web.pages.templating import redirect, render
from partnerprojekte.web.wording import page_message

router = APIRouter()


def _no_leak(response: Response) -> Response:
    # The token is in the address: no cache keeps the page, no Referer carries it anywhere.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _page(request: Request, token: str, errors: list[str], status: int = 200) -> Response:
    link = accounts.link_for_token(database(request), token)
    if link is None:
        return _no_leak(
            render(request, "aktivieren.html", {"link": None, "invalid": accounts.INVALID_LINK}, status=404)
        )
    context = {
        "link": link,
        "token": token,
        "purpose": accounts.PURPOSE_LABELS.get(link.purpose, link.purpose),
        "errors": errors,
        "password_min": PASSWORD_MIN_LENGTH,
    }
    return _no_leak(render(request, "aktivieren.html", context, status=status))


@router.get(accounts.ACTIVATION_PATH + "/{token}", include_in_schema=False)
def activation_form(token: str, request: Request) -> Response:
    """The form to choose one's password, or why the link no longer works."""
    return _page(request, token, [])


@router.post(
    accounts.ACTIVATION_PATH + "/{token}", include_in_schema=False, dependencies=[Depends(require_csrf)]
)
async def activate(token: str, request: Request) -> Response:
    """Set the password and (re)activate the account; then on to the login page."""
    form = await request.form()
    password, repeat = form.get("password"), form.get("password_repeat")
    if not isinstance(password, str) or not password:
        return await run_in_threadpool(_page, request, token, ["Passwort: Bitte ein Passwort eingeben."], 422)
    if password != repeat:
        message = "Passwort wiederholen: Die beiden Eingaben stimmen nicht überein."
        return await run_in_threadpool(_page, request, token, [message], 422)
    try:
        # argon2 and the database: on the thread pool, not on the event loop.
        email = await run_in_threadpool(accounts.activate, database(request), token, password)
    except NotFound as exc:
        return _no_leak(render(request, "aktivieren.html", {"link": None, "invalid": str(exc)}, status=404))
    except DomainError as exc:
        return await run_in_threadpool(_page, request, token, [page_message(exc)], 422)
    return _no_leak(
        redirect(request, "/anmelden", f"Ihr Passwort ist gesetzt. Bitte melden Sie sich an ({email}).")
    )
