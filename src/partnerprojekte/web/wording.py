"""German wording for the pages: dates, numbers, labels, and the core's messages as a page words them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from partnerprojekte.errors import TransitionRefused
from partnerprojekte.model import (
    CRITERION_LABELS,
    REASON_LABELS,
    Criterion,
    ReasonCode,
    Role,
    State,
    Verdict,
)
from partnerprojekte.proposal import ORGANISATION_KIND_LABELS, OrganisationKind, Scope, SourceKind
from partnerprojekte.reference import load_reference
from partnerprojekte.rules.thresholds import CriteriaThresholds
from partnerprojekte.states.steps import step_label

_GERMAN_SEPARATORS = str.maketrans(",.", ".,")

SCOPE_LABELS: dict[str, str] = {
    Scope.LOKAL.value: "lokal (eine Kommune)",
    Scope.REGIONAL.value: "regional (mehrere Kommunen)",
    Scope.RUHRGEBIET.value: "das ganze Ruhrgebiet",
    Scope.NRW.value: "ganz Nordrhein-Westfalen",
}

SOURCE_KIND_LABELS: dict[str, str] = {
    SourceKind.EIGENMITTEL.value: "Eigenmittel",
    SourceKind.FOERDERMITTEL.value: "Fördermittel",
    SourceKind.DRITTE.value: "Mittel Dritter",
}


def page_message(exc: Exception) -> str:
    """An error's message as a page shows it: a refusal names its subject without the code name."""
    return exc.worded(codes=False) if isinstance(exc, TransitionRefused) else str(exc)


def local(at: dt.datetime | str | None, tz: str) -> dt.datetime | None:
    """An aware moment (or its ISO text) in the given zone."""
    if at is None or at == "":
        return None
    moment = dt.datetime.fromisoformat(at) if isinstance(at, str) else at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(tz))


def date_text(at: dt.datetime | dt.date | str | None, tz: str) -> str:
    """``03.02.2026`` (local day), or an en dash for nothing."""
    if isinstance(at, str) and len(at) == 10:
        try:
            at = dt.date.fromisoformat(at)
        except ValueError:
            return str(at)
    if isinstance(at, dt.date) and not isinstance(at, dt.datetime):
        return at.strftime("%d.%m.%Y")
    moment = local(at, tz)
    return moment.strftime("%d.%m.%Y") if moment else "–"


def datetime_text(at: dt.datetime | str | None, tz: str) -> str:
    """``03.02.2026, 10:00 Uhr`` (local time), or an en dash for nothing."""
    moment = local(at, tz)
    return moment.strftime("%d.%m.%Y, %H:%M Uhr") if moment else "–"


def number_text(value: float | int | Decimal, places: int = 0) -> str:
    """German separators: ``1.234,5``."""
    text = f"{value:,.{places}f}"
    return text.translate(_GERMAN_SEPARATORS)


def euro_text(value: object) -> str:
    """An amount as ``1.200.000 €`` (cents only when there are some)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    places = 0 if amount == amount.to_integral_value() else 2
    return f"{number_text(amount, places)} €"


def days_text(days: float | None) -> str:
    """``1 Tag``, ``12,5 Tage``, or an en dash."""
    if days is None:
        return "–"
    rounded = round(days, 1)
    shown = number_text(rounded, 0 if rounded == int(rounded) else 1)
    return f"{shown} Tag" if rounded == 1 else f"{shown} Tage"


def state_label(value: str | State | None) -> str:
    """The German label of a state value."""
    if value is None or value == "":
        return "–"
    try:
        return State(value).label
    except ValueError:
        return str(value)


def verdict_label(value: str | Verdict) -> str:
    """``erfüllt``, ``zu prüfen``, ``nicht erfüllt``."""
    try:
        return Verdict(value).label
    except ValueError:
        return str(value)


def criterion_label(value: str | Criterion) -> str:
    """The German name of a criterion."""
    try:
        return CRITERION_LABELS[Criterion(value)]
    except ValueError:
        return str(value)


def event_name(value: str) -> str:
    """The German name of an event or audited step (``Aufgreifen``, ``Ressort zugeordnet``)."""
    return step_label(value)


def reason_label(value: str) -> str:
    """The German text of a decline reason code."""
    try:
        return REASON_LABELS[ReasonCode(value)]
    except ValueError:
        return value


def role_label(value: str | Role) -> str:
    """``Partner``, ``Ressort``, ``Arbeitsstab``, ``Administration``."""
    try:
        return Role(value).label
    except ValueError:
        return str(value)


def kind_label(value: str) -> str:
    """The German label of an organisation kind."""
    try:
        return ORGANISATION_KIND_LABELS[OrganisationKind(value)]
    except ValueError:
        return value


def handlungsfeld_title(key: str) -> str:
    """``Erfolgreiche Wirtschaft – gute Arbeit`` for ``wirtschaft``."""
    found = load_reference().handlungsfelder.get(key)
    return found.title if found else key


def ressort_label(abbreviation: str | None) -> str:
    """A Ressort abbreviation, or what its absence means."""
    if abbreviation in (None, "", "unassigned"):
        return "noch kein Ressort"
    return str(abbreviation)


def criterion_requirements(thresholds: CriteriaThresholds) -> dict[str, str]:
    """What each criterion asks for, in the words of the Fortschrittsbericht and the configured thresholds."""
    return {
        Criterion.HANDLUNGSFELD_FIT.value: (
            "Der Vorschlag trägt zu mindestens einem der fünf Handlungsfelder bei – mit einer Begründung "
            f"von mindestens {thresholds.rationale_min_chars} Zeichen."
        ),
        Criterion.REGIONAL_EFFECT.value: (
            "Er bringt die Region voran und wirkt nicht nur lokal: mindestens "
            f"{thresholds.regional_min_municipalities} Kommunen des Ruhrgebiets, oder Wirkungsbereich "
            "Ruhrgebiet oder NRW."
        ),
        Criterion.COOPERATION.value: (
            f"Mehrwert durch Zusammenarbeit: mindestens {thresholds.cooperation_min_organisations} "
            "Organisationen und ein beschriebener Mehrwert (mindestens "
            f"{thresholds.cooperation_value_min_chars} Zeichen)."
        ),
        Criterion.FINANCING.value: (
            "Vorschläge für die Finanzierung: die Quellen decken die Gesamtkosten; erfüllt, wenn sie "
            "gesichert sind."
        ),
    }
