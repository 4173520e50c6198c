"""The command group ``web``: ``web serve`` starts the web application (pages and API)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from partnerprojekte.cli import support
from partnerprojekte.cli.support import group, handled

web_app = group("Die Web-Anwendung (Seiten und API).")

# uvicorn would otherwise take the client address from X-Forwarded-For of any local peer; the application
# decides that itself from PARTNERPROJEKTE_TRUSTED_PROXIES (default: none), so uvicorn must not rewrite it.
UVICORN_OPTIONS: dict[str, Any] = {"proxy_headers": False, "server_header": False}


@web_app.command("serve")
def web_serve(
    host: Annotated[
        str | None,
        typer.Option("--host", metavar="ADRESSE", help="Adresse (Standard 127.0.0.1: nur dieser Rechner)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", metavar="PORT", min=1, max=65535, help="Port (Standard 8000).")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            metavar="ANZAHL",
            min=1,
            max=64,
            help="So viele Prozesse beantworten Anfragen (Standard 1; etwa einer je Prozessorkern).",
        ),
    ] = 1,
) -> None:
    """Die Web-Anwendung starten (Seiten und API)."""

    with handled():
        svc = support.services()
    import uvicorn

    from partnerprojekte.web.app import create_app

    host = host or svc.settings.serve.host
    port = port or svc.settings.serve.web_port
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(
            f"Achtung: {host} ist von anderen Rechnern erreichbar. Nur hinter einem Reverse-Proxy mit TLS "
            "betreiben, PARTNERPROJEKTE_MAIL__BASE_URL auf dessen https-Adresse und "
            "PARTNERPROJEKTE_TRUSTED_PROXIES auf dessen Adresse setzen.",
            err=True,
        )
    typer.echo(
        f"Web-Anwendung: http://{host}:{port}/ – API-Beschreibung: http://{host}:{port}/api/v1/openapi.json"
    )
    if workers == 1:
        app = create_app(svc.settings, svc.db)
        uvicorn.run(app, host=host, port=port, **UVICORN_OPTIONS, log_level="info")
        return
    # One Python process answers on one core at a time (the GIL): several processes share the port. Each
    # builds its own application from the same environment; everything that must hold across them (login
    # limits, approvals, the outbox) is decided in the database, and the read cache follows the data version.
    from sqlalchemy import Engine

    if isinstance(svc.db.bind, Engine):
        svc.db.bind.dispose()  # no pooled connection may be inherited by the workers
    uvicorn.run(
        "partnerprojekte.web.app:create_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        **UVICORN_OPTIONS,
        log_level="info",
    )
