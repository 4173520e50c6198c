"""Commands for the scheduled work: ``flows serve``, ``flows deploy``, ``flows run NAME`` and ``run``.

Prefect is imported inside these commands only (``import prefect`` takes about three seconds), so that
registering them keeps ``partnerprojekte --help`` instant. ``python -m partnerprojekte.cli.flows serve`` is
how ``partnerprojekte run`` starts its serving child.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Annotated, Any

import typer

from partnerprojekte.cli.support import EXIT_FAILED, EXIT_INVALID, echo_json, fail, group, handle, handled
from partnerprojekte.errors import PartnerprojekteError, ValidationError

flows_app = group("Die geplanten Abläufe (Prefect): bereitstellen oder einmal sofort ausführen.")

NO_SERVER = (
    "Kein Prefect-Server eingestellt (PREFECT_API_URL fehlt). Zeitpläne brauchen einen laufenden "
    "Prefect-Server.\n"
    "  Am einfachsten: „partnerprojekte run“ startet Datenbank, Prefect-Server und Zeitpläne zusammen.\n"
    "  Mit eigenem Server: PREFECT_API_URL=http://HOST:4200/api partnerprojekte flows serve"
)


def _api_url() -> str | None:
    """The Prefect API this process talks to (environment or Prefect profile), if one is set."""
    from prefect.settings import PREFECT_API_URL

    value = PREFECT_API_URL.value()
    return str(value) if value else None


@flows_app.command("serve")
def serve(
    wait: Annotated[
        float,
        typer.Option("--wait", metavar="SEKUNDEN", help="So lange auf den Prefect-Server warten.", min=0),
    ] = 60.0,
) -> None:
    """Die drei Abläufe mit ihren Zeitplänen an einem Prefect-Server bereitstellen, bis Strg+C."""
    from partnerprojekte.flows.catalog import JOBS
    from partnerprojekte.flows.env import telemetry_off
    from partnerprojekte.runner import prefect_answers

    telemetry_off()
    api_url = _api_url()
    if not api_url:
        fail(NO_SERVER, EXIT_INVALID)
    # Started together with its server (partnerprojekte run, systemd): give the server time to come up.
    deadline = time.monotonic() + wait
    while not prefect_answers(api_url):
        if time.monotonic() >= deadline:
            fail(
                f"Der Prefect-Server unter {api_url} antwortet nicht. Läuft er? "
                "(„partnerprojekte run“ startet einen auf 127.0.0.1.)",
                EXIT_FAILED,
            )
        time.sleep(0.5)
    from partnerprojekte.config import get_settings
    from partnerprojekte.flows.deployments import serve_deployments

    typer.echo(f"Abläufe bereitgestellt an {api_url} (Zeitzone {get_settings().timezone}):")
    for job in JOBS:
        typer.echo(f"  {job.name}: {job.label} – {job.when}")
    typer.echo("Beenden mit Strg+C; die Zeitpläne bleiben am Server aktiv.")
    serve_deployments()
    typer.echo("Bereitstellung beendet.")


@flows_app.command("deploy")
def deploy(
    pool: Annotated[
        str,
        typer.Option(
            "--pool", metavar="NAME", help="Der Work-Pool (prefect work-pool create NAME --type process)."
        ),
    ],
) -> None:
    """Die drei Abläufe mit Zeitplänen an einem Work-Pool registrieren (Betrieb mit Prefect-Workern)."""
    from partnerprojekte.flows.catalog import JOBS
    from partnerprojekte.flows.env import telemetry_off

    telemetry_off()
    api_url = _api_url()
    if not api_url:
        fail(NO_SERVER.split("\n", 1)[0], EXIT_INVALID)
    from partnerprojekte.flows.deployments import deploy_to_pool

    try:
        deploy_to_pool(pool)
    except Exception as exc:  # e.g. the pool does not exist: Prefect's own (English) reason follows
        fail(f"Registrieren am Work-Pool „{pool}“ fehlgeschlagen: {exc}", EXIT_FAILED)
    for job in JOBS:
        typer.echo(f"Registriert: {job.name}/{job.name} am Work-Pool „{pool}“ – {job.when}.")
    typer.echo(
        f"Jetzt auf jeder Maschine mit installiertem partnerprojekte: prefect worker start --pool {pool}"
    )


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"--as-of: „{text}“ ist kein Datum der Form JJJJ-MM-TT.") from None


@flows_app.command("run")
def run_flow(
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help="deliver-notifications, send-reminders oder weekly-digest."),
    ],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="DATUM",
            help="Stichtag JJJJ-MM-TT (Erinnerungen: 07:30 Uhr an diesem Tag; Wochenüberblick: diese Woche).",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Nur zeigen, was vorgemerkt würde (Erinnerungen, Wochenüberblick)."),
    ] = False,
    only_to: Annotated[
        str | None, typer.Option("--to", metavar="EMAIL", help="Nur den Wochenüberblick dieser Person.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Ausgabe als JSON (englische Schlüssel).")] = False,
) -> None:
    """Einen Ablauf jetzt einmal ausführen (für den Betrieb)."""
    from partnerprojekte.config import get_settings
    from partnerprojekte.flows.catalog import DELIVER_NOTIFICATIONS, SEND_REMINDERS, WEEKLY_DIGEST, job
    from partnerprojekte.flows.env import telemetry_off
    from partnerprojekte.flows.summary import summarise
    from partnerprojekte.mailing.reminders import reminder_moment

    with handled(as_json):
        chosen = job(name)
        params: dict[str, Any] = {}
        if chosen.name == DELIVER_NOTIFICATIONS:
            if as_of or dry_run or only_to:
                raise ValidationError(f"{chosen.name} kennt weder --as-of noch --dry-run noch --to.")
        else:
            if as_of:
                day = _day(as_of)
                # As in ``reminders run`` and ``digest run``: that day at 07:30, or that week.
                params["as_of"] = (
                    reminder_moment(day, get_settings().timezone) if chosen.name == SEND_REMINDERS else day
                )
            params["dry_run"] = dry_run
            if only_to:
                if chosen.name != WEEKLY_DIGEST:
                    raise ValidationError(f"--to gibt es nur für {WEEKLY_DIGEST}.")
                params["only_to"] = only_to.strip()

    telemetry_off()
    if not _api_url():
        typer.echo(
            "Hinweis: kein Prefect-Server eingestellt (PREFECT_API_URL); Prefect startet für diesen "
            "Lauf einen vorübergehenden – das dauert einige Sekunden.",
            err=True,
        )
    from partnerprojekte.flows.deployments import FLOWS

    try:
        result: dict[str, Any] = FLOWS[chosen.name](**params)
    except PartnerprojekteError as exc:
        handle(exc, as_json)
    except Exception as exc:  # the flow run and its traceback are in Prefect's log; here a German line
        fail(f"Der Ablauf {chosen.name} ist fehlgeschlagen: {exc}", EXIT_FAILED, as_json=as_json)
    if as_json:
        echo_json(result)
    else:
        typer.echo(summarise(chosen.name, result, dry_run=dry_run))


def run(
    no_demo: Annotated[
        bool, typer.Option("--no-demo", help="Keine Beispieldaten laden, nur die Datenbank einrichten.")
    ] = False,
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Alles starten, deliver-notifications einmal über den Server ausführen, "
            "dann beenden (Prüfung der Installation).",
        ),
    ] = False,
) -> None:
    """Das Produkt starten: Datenbank mit Beispieldaten, Prefect-Server und Zeitpläne; Ende mit Strg+C."""
    from partnerprojekte.cli import admin

    # The same functions as ``partnerprojekte init`` and ``partnerprojekte demo``.
    if no_demo:
        admin.init()
    else:
        admin.demo()
    typer.echo("")

    from partnerprojekte.config import get_settings
    from partnerprojekte.runner import run_product

    with handled():
        code = run_product(get_settings(), typer.echo, once=once)
    raise typer.Exit(code)


if __name__ == "__main__":
    flows_app(prog_name="partnerprojekte flows")
