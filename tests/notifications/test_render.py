"""Every kind renders in German, text and HTML, from the packaged templates or an override folder."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import pytest

from partnerprojekte.audience import NOTIFIED, kind
from partnerprojekte.config import MailSettings, Settings
from partnerprojekte.errors import ValidationError
from partnerprojekte.notifications.kinds import KINDS
from partnerprojekte.notifications.render import TemplateError, UnknownKind, render, salutation
from partnerprojekte.notifications.samples import sample_context, sample_recipient

SETTINGS = Settings(mail=MailSettings(base_url="https://partnerprojekte.nrw.example/"))


def test_every_event_and_audience_of_the_spec_has_a_kind() -> None:
    for event, audiences in NOTIFIED.items():
        for audience in audiences:
            assert kind(event, audience) in KINDS
    assert "approval_owed.ressort" in KINDS and "approval_owed.arbeitsstab" in KINDS


def test_every_kind_has_both_templates_and_no_template_is_orphaned() -> None:
    folder = resources.files("partnerprojekte.notifications").joinpath("templates")
    names = {p.name for p in folder.iterdir() if p.name.endswith((".txt", ".html"))}
    own = {n for n in names if not n.startswith("_")}
    assert own == {f"{k}.{ext}" for k in KINDS for ext in ("txt", "html")}


@pytest.mark.parametrize("kind_", KINDS)
def test_every_kind_renders_text_and_html_with_a_realistic_context(kind_: str) -> None:
    name = sample_recipient(kind_)
    mail = render(kind_, sample_context(kind_), recipient_name=name, settings=SETTINGS)
    assert mail.subject and "\n" not in mail.subject
    if kind_.startswith("digest."):
        assert mail.subject.startswith("Wochenübersicht Partnerprojekte – KW 10/2026")
        assert "https://partnerprojekte.nrw.example/vorschlaege" in mail.text
    elif kind_.startswith("activation."):
        # About one's own account: the activation link, no proposal.
        url = sample_context(kind_)["activation_url"]
        assert url in mail.text and f'href="{url}"' in mail.html
        assert "vorschlaege" not in mail.text
    elif kind_.startswith("reminder.report_"):
        # One mail for all of a person's open progress reports: each listed with its link.
        for item in sample_context(kind_)["reports"]:
            url = f"https://partnerprojekte.nrw.example/vorschlaege/{item['proposal']}"
            assert url in mail.text and f'href="{url}"' in mail.html
            assert item["title"] in mail.text
        assert "Fortschrittsbericht 2022" in mail.text and "15.09.2022" in mail.text
    else:
        assert mail.subject.startswith("[PP-0007] ")
        # The link to the proposal, once in the text and as the button in the HTML.
        assert "https://partnerprojekte.nrw.example/vorschlaege/PP-0007" in mail.text
        assert 'href="https://partnerprojekte.nrw.example/vorschlaege/PP-0007"' in mail.html
    for body in (mail.text, mail.html):
        assert f"Guten Tag {name}," in body
        assert "Arbeitsstab Ruhr-Konferenz" in body
        assert "Staatskanzlei des Landes Nordrhein-Westfalen" in body
        assert "Sie erhalten diese" in body
    assert mail.html.startswith("<!DOCTYPE html>") and '<html lang="de">' in mail.html
    # No English and no raw code values leak into what a person reads.
    for raw in ("None", "needs_review", "not_met", "in_abstimmung", "arbeitsstab)", "Undefined"):
        assert raw not in mail.text, raw


def test_subjects_say_what_happened_to_which_proposal() -> None:
    subjects = {
        k: render(k, sample_context(k), recipient_name=None, settings=SETTINGS).subject for k in KINDS
    }
    title = "KLIC.Ruhr – Kompetenzverbund Life-Sciences.Ruhr"
    assert subjects["recognise.partner"] == "[PP-0007] Anerkennung als Partnerprojekt der Ruhr-Konferenz"
    assert subjects["submit.partner"] == f"[PP-0007] Eingangsbestätigung: {title}"
    assert subjects["start_coordination.ressort"] == f"[PP-0007] Bitte abstimmen: {title}"
    assert subjects["digest.ressort"] == "Wochenübersicht Partnerprojekte – KW 10/2026 (MWIDE)"
    assert subjects["integrate_into_pillar_1.partner"].startswith(
        "[PP-0007] Integration in das Projekt 13-06"
    )
    assert subjects["approval_owed.arbeitsstab"].startswith(
        "[PP-0007] Ihre Zustimmung wird benötigt: Anerkennen"
    )


def test_receipt_lists_every_criterion_with_label_result_and_explanation() -> None:
    mail = render(
        "submit.partner", sample_context("submit.partner"), recipient_name="Kai Kontakt", settings=SETTINGS
    )
    assert "Gesamtergebnis: zu prüfen" in mail.text
    for line in (
        "- Zuordnung zu einem Handlungsfeld: erfüllt",
        "- Regionale Wirkung: erfüllt",
        "- Mehrwert durch Zusammenarbeit: erfüllt",
        "- Vorschläge zur Finanzierung: zu prüfen",
    ):
        assert line in mail.text
    assert "Wirkt in 3 Kommunen der Metropole Ruhr: Bönen, Dortmund, Witten." in mail.text
    # Times are shown in Berlin time: 08:00 UTC is 09:00 in March.
    assert "02.03.2026, 09:00 Uhr" in mail.text
    assert "Regionale Wirkung" in mail.html and "zu prüfen" in mail.html


def test_decisions_name_reasons_in_german_and_the_saeule_1_project() -> None:
    decline = render(
        "decline.partner", sample_context("decline.partner"), recipient_name="Kai Kontakt", settings=SETTINGS
    )
    assert "keine ausreichende regionale Wirkung" in decline.text
    assert "Finanzierung nicht dargelegt" in decline.text
    assert "Das Vorhaben wirkt derzeit nur in Bönen" in decline.text
    assert "<li>keine ausreichende regionale Wirkung</li>" in decline.html
    integrate = render(
        "integrate_into_pillar_1.arbeitsstab",
        sample_context("integrate_into_pillar_1.arbeitsstab"),
        recipient_name="Anna Stab",
        settings=SETTINGS,
    )
    assert "Säule 1:       Projekt 13-06" in integrate.text


def test_internal_comments_are_marked_and_a_blanked_comment_is_not_shown() -> None:
    internal = sample_context("recognise.ressort")
    mail = render("recognise.ressort", internal, recipient_name="Carla Ostermann", settings=SETTINGS)
    assert "Kommentar (intern, für den Partner nicht sichtbar):" in mail.text
    # Writer.notify blanks an internal comment for the partner; the partner's mail has no trace of it.
    partner = dict(internal, comment=None)
    mail = render("recognise.partner", partner, recipient_name="Kai Kontakt", settings=SETTINGS)
    assert "Finanzierungszusage" not in mail.text and "Finanzierungszusage" not in mail.html
    assert "Kommentar" not in mail.text and "Anmerkung" not in mail.text


def test_request_changes_tells_the_partner_the_comment() -> None:
    mail = render(
        "request_changes.partner",
        sample_context("request_changes.partner"),
        recipient_name="Kai Kontakt",
        settings=SETTINGS,
    )
    assert "Was zu überarbeiten ist:" in mail.text
    assert "Zusage der Regio.NRW-Förderung" in mail.text


def test_html_escapes_user_input_and_text_keeps_it_verbatim() -> None:
    context = sample_context("recognise.partner")
    context["title"] = "<script>alert(1)</script> & Söhne"
    mail = render("recognise.partner", context, recipient_name="Kai <b>Kontakt</b>", settings=SETTINGS)
    assert "<script>" not in mail.html and "<b>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Söhne" in mail.html
    assert "Kai &lt;b&gt;Kontakt&lt;/b&gt;" in mail.html
    assert "„<script>alert(1)</script> & Söhne“" in mail.text


def test_salutation_uses_the_name_if_known() -> None:
    assert salutation("Kai Kontakt") == "Guten Tag Kai Kontakt,"
    assert salutation(None) == "Guten Tag,"
    assert salutation("  ") == "Guten Tag,"
    assert salutation("Funktionspostfach MWIDE") == "Guten Tag,"
    assert salutation("Kai\r\nKontakt") == "Guten Tag Kai Kontakt,"


def test_unknown_kind_is_a_clear_validation_error() -> None:
    with pytest.raises(UnknownKind) as caught:
        render("promote.partner", {}, recipient_name=None, settings=SETTINGS)
    assert isinstance(caught.value, ValidationError)
    assert "unbekannte Benachrichtigungsart „promote.partner“" in str(caught.value)
    assert "recognise.partner" in str(caught.value)


def test_a_missing_value_fails_loudly_instead_of_rendering_a_gap() -> None:
    context = sample_context("submit.partner")
    del context["check"]
    with pytest.raises(TemplateError, match="„check“ fehlt"):
        render("submit.partner", context, recipient_name=None, settings=SETTINGS)


def _override(folder: Path, name: str, text: str) -> Settings:
    (folder / name).write_text(text, encoding="utf-8")
    return Settings(mail=MailSettings(template_dir=folder))


def test_an_override_folder_wins_and_the_rest_stays_packaged(tmp_path: Path) -> None:
    settings = _override(
        tmp_path,
        "recognise.partner.txt",
        '{% extends "_layout.txt" %}{% block subject %}[{{ proposal }}] Herzlichen Glückwunsch!'
        "{% endblock %}{% block body %}Eigener Text des Arbeitsstabs.{% endblock %}",
    )
    mail = render(
        "recognise.partner", sample_context("recognise.partner"), recipient_name="K", settings=settings
    )
    assert mail.subject == "[PP-0007] Herzlichen Glückwunsch!"
    assert "Eigener Text des Arbeitsstabs." in mail.text
    assert "Staatskanzlei des Landes Nordrhein-Westfalen" in mail.text  # packaged layout
    assert "als Partnerprojekt der Ruhr-Konferenz anerkannt" in mail.html  # packaged HTML
    other = render(
        "decline.partner", sample_context("decline.partner"), recipient_name="K", settings=settings
    )
    assert "nicht weiterverfolgt" in other.subject


def test_an_overridden_layout_changes_every_mail(tmp_path: Path) -> None:
    settings = _override(
        tmp_path, "_layout.txt", "{{ salutation }}\n\n{% block body %}{% endblock %}\n\nIhr Team Ruhr\n"
    )
    for kind_ in ("submit.partner", "withdraw.arbeitsstab"):
        mail = render(kind_, sample_context(kind_), recipient_name="K", settings=settings)
        assert mail.text.endswith("Ihr Team Ruhr\n")


def test_an_override_edited_while_the_process_runs_is_used_from_the_next_mail(tmp_path: Path) -> None:
    # Only an override folder is watched for changes; the packaged templates change with a new release.
    page = '{% extends "_layout.txt" %}{% block subject %}[{{ proposal }}] FASSUNG{% endblock %}'
    settings = _override(tmp_path, "take_up.partner.txt", page.replace("FASSUNG", "Erste Fassung"))
    context = sample_context("take_up.partner")
    assert render("take_up.partner", context, recipient_name="K", settings=settings).subject.endswith(
        "Erste Fassung"
    )
    path = tmp_path / "take_up.partner.txt"
    path.write_text(page.replace("FASSUNG", "Zweite Fassung"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 5))  # a later edit, even on a coarse file clock
    assert render("take_up.partner", context, recipient_name="K", settings=settings).subject.endswith(
        "Zweite Fassung"
    )


def test_a_broken_override_is_reported_with_file_and_line(tmp_path: Path) -> None:
    settings = _override(
        tmp_path, "take_up.partner.html", '{% extends "_layout.html" %}\n{% block body %}{% if %}'
    )
    with pytest.raises(TemplateError, match=r"take_up\.partner\.html, Zeile 2"):
        render("take_up.partner", sample_context("take_up.partner"), recipient_name=None, settings=settings)


def test_a_missing_override_folder_is_an_error_not_silently_ignored(tmp_path: Path) -> None:
    settings = Settings(mail=MailSettings(template_dir=tmp_path / "fehlt"))
    with pytest.raises(TemplateError, match="Vorlagenordner"):
        render("take_up.partner", sample_context("take_up.partner"), recipient_name=None, settings=settings)
