"""Render one notification from its Jinja2 templates: German subject, plain text and HTML.

Each kind has two templates, ``<kind>.txt`` (with a ``subject`` block) and ``<kind>.html``. A folder
configured as ``mail.template_dir`` is searched first, so the Arbeitsstab can change any text (also the
layouts ``_layout.txt``/``_layout.html`` and ``_macros.*``) without touching the package.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)

from partnerprojekte.config import Settings
from partnerprojekte.errors import FieldError, PartnerprojekteError, ValidationError
from partnerprojekte.model import (
    CRITERION_LABELS,
    REASON_LABELS,
    ROLE_LABELS,
    STATE_LABELS,
    VERDICT_LABELS,
    Criterion,
    ReasonCode,
    Role,
    State,
    Verdict,
)
from partnerprojekte.notifications.kinds import KINDS, audience_of, is_digest
from partnerprojekte.reference import load_reference
from partnerprojekte.states.steps import step_label


class TemplateError(PartnerprojekteError):
    """A template is missing or broken, or needs a value the context lacks: a fault to fix, not to retry."""


class UnknownKind(ValidationError):
    """A notification kind that has no templates."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(
            FieldError("ART", f"unbekannte Benachrichtigungsart „{kind}“ – bekannt: {', '.join(KINDS)}.")
        )


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """What a recipient reads: subject line, plain text and HTML."""

    subject: str
    text: str
    html: str


def render(
    kind: str, context: Mapping[str, Any], *, recipient_name: str | None, settings: Settings
) -> RenderedMail:
    """Render a kind with an outbox context for one recipient; raises ``UnknownKind`` or ``TemplateError``."""
    if kind not in KINDS:
        raise UnknownKind(kind)
    base_url = settings.mail.base_url.rstrip("/")
    env = environment(settings.mail.template_dir, settings.timezone, base_url)
    proposal = context.get("proposal")
    values: dict[str, Any] = {
        **context,
        "kind": kind,
        "audience": audience_of(kind).value,
        "digest": is_digest(kind),
        "recipient_name": recipient_name,
        "salutation": salutation(recipient_name),
        "base_url": base_url,
        "overview_link": f"{base_url}/vorschlaege",
        "link": proposal_url(proposal, base_url=base_url) if proposal and not is_digest(kind) else None,
    }
    text_name, html_name = f"{kind}.txt", f"{kind}.html"
    try:
        text_template = env.get_template(text_name)
        if "subject" not in text_template.blocks:
            raise TemplateError(f"Vorlage {text_name}: der Block „subject“ (Betreff) fehlt.")
        subject_parts = text_template.blocks["subject"](text_template.new_context(values))
        subject = one_line("".join(subject_parts))
        text = tidy_text(text_template.render(values))
        html = env.get_template(html_name).render({**values, "subject": subject})
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"Vorlage {exc.name} nicht gefunden (Art {kind}).") from exc
    except jinja2.TemplateSyntaxError as exc:
        where = f"{exc.filename or exc.name}, Zeile {exc.lineno}"
        raise TemplateError(f"Vorlage {where}: Syntaxfehler: {exc.message}") from exc
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"Vorlage für {kind}: {_undefined_message(exc)}") from exc
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        # A context value of an unexpected shape (e.g. a date that is not ISO) reaches a filter.
        raise TemplateError(f"Vorlage für {kind}: {type(exc).__name__}: {exc}") from exc
    if not subject:
        raise TemplateError(f"Vorlage {text_name}: der Betreff ist leer.")
    return RenderedMail(subject, text, html)


def salutation(name: str | None) -> str:
    """``Guten Tag Kai Kontakt,`` – or ``Guten Tag,`` when the name is unknown or a functional mailbox."""
    name = one_line(name or "")
    # "Guten Tag Funktionspostfach MWIDE," reads oddly; mailboxes are greeted without a name.
    if not name or name.startswith("Funktionspostfach"):
        return "Guten Tag,"
    return f"Guten Tag {name},"


_LINE_BREAKS = re.compile(r"[\s\x00-\x1f\x7f\u0085\u2028\u2029]+")


def one_line(value: str) -> str:
    """Collapse every run of whitespace and control characters (CR/LF included) into one blank."""
    return _LINE_BREAKS.sub(" ", value).strip()


_BLANK_LINES = re.compile(r"\n{3,}")


def tidy_text(text: str) -> str:
    """Trailing blanks removed (but the ``-- `` signature line kept), at most one empty line in a row."""
    lines = [line if line == "-- " else line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n") + "\n"


def _undefined_message(exc: jinja2.UndefinedError) -> str:
    match = re.match(r"'(.+)' is undefined", exc.message or "")
    if match:
        return f"der Wert „{match.group(1)}“ fehlt im Kontext."
    return exc.message or str(exc)


@functools.lru_cache(maxsize=8)
def environment(template_dir: Path | None, timezone: str, base_url: str) -> Environment:
    """The Jinja2 environment: override folder first, then the packaged templates; cached per setting.

    Macros are imported without context (so Jinja caches them); what they need from the settings (time
    zone, base URL) is bound into the filters here.
    """
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not template_dir.is_dir():
            raise TemplateError(f"Vorlagenordner „{template_dir}“ (mail.template_dir) gibt es nicht.")
        loaders.append(FileSystemLoader(template_dir))
    loaders.append(PackageLoader("partnerprojekte.notifications", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html", "xml"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Watching for edits costs a stat() per template and mail (a third of the rendering time); only
        # an override folder is edited while the product runs, the packaged templates come with a release.
        auto_reload=template_dir is not None,
    )
    tz = ZoneInfo(timezone)
    env.filters.update(
        date_de=functools.partial(date_de, tz=tz),
        datetime_de=functools.partial(datetime_de, tz=tz),
        state_label=state_label,
        event_label=event_label,
        reason_label=functools.partial(_label, REASON_LABELS, ReasonCode),
        criterion_label=functools.partial(_label, CRITERION_LABELS, Criterion),
        verdict_label=functools.partial(_label, VERDICT_LABELS, Verdict),
        role_label=functools.partial(_label, ROLE_LABELS, Role),
        owed_label=owed_label,
        roles_genitive=roles_genitive,
        ressort_name=ressort_name,
        days_since=days_since,
        days_ago=days_ago,
        proposal_url=functools.partial(proposal_url, base_url=base_url),
    )
    return env


# --- filters: what the templates use to show stored values in German --------------------------------


def _moment(value: Any) -> dt.date | dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if len(text) == 10:
        return dt.date.fromisoformat(text)
    return dt.datetime.fromisoformat(text)


def _local(moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    # Stored times are UTC; a naive one is taken as UTC, as the database stores them.
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).astimezone(tz)


def date_de(value: Any, *, tz: ZoneInfo) -> str:
    """An ISO date or time as ``02.03.2026`` (times converted to the configured zone first)."""
    moment = _moment(value)
    if moment is None:
        return "–"
    if isinstance(moment, dt.datetime):
        moment = _local(moment, tz)
    return moment.strftime("%d.%m.%Y")


def datetime_de(value: Any, *, tz: ZoneInfo) -> str:
    """An ISO time as ``02.03.2026, 09:00 Uhr`` in the configured zone (a bare date as ``02.03.2026``)."""
    moment = _moment(value)
    if moment is None:
        return "–"
    if not isinstance(moment, dt.datetime):
        return moment.strftime("%d.%m.%Y")
    return _local(moment, tz).strftime("%d.%m.%Y, %H:%M Uhr")


def _label(labels: Mapping[Any, str], enum_cls: Any, value: Any) -> str:
    try:
        return labels[enum_cls(value)]
    except ValueError:
        return str(value)


def state_label(value: Any) -> str:
    """``in_abstimmung`` → ``in Abstimmung``."""
    return _label(STATE_LABELS, State, value)


def event_label(value: Any) -> str:
    """``recognise`` → ``Anerkennen``; actions and report steps get their label too."""
    return step_label(str(value))


def owed_label(value: Any) -> str:
    """Who owes a step, in German: role values become labels, lists are joined, other text stays."""
    if isinstance(value, str):
        return _label(ROLE_LABELS, Role, value)
    if isinstance(value, Iterable):
        return _join([owed_label(v) for v in value])
    return str(value)


def roles_genitive(missing: Any, ressort: str | None = None) -> str:
    """``["ressort", "arbeitsstab"]`` → ``des Ressorts MWIDE und des Arbeitsstabs``."""
    roles = [missing] if isinstance(missing, str) else list(missing)
    words = {
        Role.RESSORT.value: f"des Ressorts {ressort}" if ressort else "des zuständigen Ressorts",
        Role.ARBEITSSTAB.value: "des Arbeitsstabs",
        Role.PARTNER.value: "des Partners",
    }
    return _join([words.get(str(r), str(r)) for r in roles])


def _join(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " und " + parts[-1]


def ressort_name(abbreviation: str | None) -> str:
    """The full name of a Ressort (its abbreviation when unknown, ``–`` when none)."""
    if not abbreviation:
        return "–"
    found = load_reference().find_ressort(abbreviation)
    return found.name if found else abbreviation


def days_since(days: int) -> str:
    """``seit 14 Tagen``, ``seit 1 Tag``, ``seit heute``."""
    return "seit heute" if days == 0 else f"seit {days} Tag" if days == 1 else f"seit {days} Tagen"


def days_ago(days: int) -> str:
    """``vor 14 Tagen``, ``vor 1 Tag``, ``heute``."""
    return "heute" if days == 0 else f"vor {days} Tag" if days == 1 else f"vor {days} Tagen"


def proposal_url(proposal: str, *, base_url: str) -> str:
    """The web address of a proposal, e.g. ``https://…/vorschlaege/PP-0007``."""
    return f"{base_url}/vorschlaege/{proposal}"
