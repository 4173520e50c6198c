"""The web application: the JSON API under ``/api/v1``, the German pages at ``/``, security headers."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from partnerprojekte.config import Settings, get_settings
from partnerprojekte.db.engine import Database, make_engine
from partnerprojekte.services import Services
from partnerprojekte.web import errors
from partnerprojekte.web.auth.security import cookie_secure, prepare_login
from partnerprojekte.web.deps import STATE_NEW_CSRF, set_csrf_cookie
from partnerprojekte.web.inputs import BodyLimit, refuse_bad_text

STATIC_DIR = Path(__file__).parent / "static"
API_PREFIX = "/api/v1"
DOCS_PATH = f"{API_PREFIX}/docs"
DOCS_ASSETS = f"{API_PREFIX}/docs-assets"

# Nothing but our own origin: no inline script, no framing, forms post only to us.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
# The Swagger UI (off unless its assets are configured) starts with an inline script; only that page
# gets this looser policy (it shows the API description, no personal data of its own). No CDN.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Pure ASGI middleware: security headers on every response, and the anonymous CSRF cookie."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers when the response starts."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Shared with request.state of the route, which may ask for a new CSRF cookie.
        state: dict[str, Any] = scope.setdefault("state", {})
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}

                def add(name: str, value: str) -> None:
                    if name.lower().encode("latin-1") not in present:
                        headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))

                add("Content-Security-Policy", DOCS_CSP if path == DOCS_PATH else CSP)
                add("X-Frame-Options", "DENY")
                add("X-Content-Type-Options", "nosniff")
                add("Referrer-Policy", "same-origin")
                add("Cross-Origin-Opener-Policy", "same-origin")
                add("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
                if not path.startswith("/static/"):
                    # Pages and API answers carry personal data: no shared or browser cache keeps them.
                    add("Cache-Control", "no-store")
                if self.hsts:
                    add("Strict-Transport-Security", "max-age=31536000")
                token = state.get(STATE_NEW_CSRF)
                if isinstance(token, str):
                    cookie = Response()
                    set_csrf_cookie(Request(scope), cookie, token)
                    headers += [(k, v) for k, v in cookie.raw_headers if k == b"set-cookie"]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings | None = None, db: Database | None = None) -> FastAPI:
    """Build the application over one database; without arguments from the environment's settings."""
    from partnerprojekte.web.api import routes as api

    settings = settings or get_settings()
    if db is None:
        db = Database(make_engine(settings.resolved_database_url()))
    app = FastAPI(
        title="Partnerprojekte der Ruhr-Konferenz",
        description=api.DESCRIPTION,
        version="1",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        # Query parameters and form fields with control characters are refused before any route.
        dependencies=[Depends(refuse_bad_text)],
    )
    app.state.settings = settings
    app.state.db = db
    app.state.services = Services(db, settings)
    prepare_login()
    app.include_router(api.router, prefix=API_PREFIX)
    page_renderer = None
    if importlib.util.find_spec("partnerprojekte.web.pages.router") is not None:
        # Imported normally once it exists, so that an error in it is not mistaken for its absence.
        pages = importlib.import_module("partnerprojekte.web.pages.router")
        app.include_router(pages.router)
        page_renderer = getattr(pages, "render_error", None)
    if STATIC_DIR.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.api_docs_assets is not None:
        _install_docs(app, settings.api_docs_assets)
    errors.install(app, page_renderer=page_renderer)
    api.install_openapi(app)
    app.add_middleware(BodyLimit, max_bytes=settings.request_body_limit())
    app.add_middleware(SecurityHeaders, hsts=cookie_secure(settings))
    return app


def _install_docs(app: FastAPI, assets: Path) -> None:
    """The Swagger UI with its script and style served from ``assets`` (never from a CDN)."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{API_PREFIX}/openapi.json",
            title="Partnerprojekte – API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url="data:,",
        )
