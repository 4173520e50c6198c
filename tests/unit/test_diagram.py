"""The state diagram is laid out from the table: every state placed, no boxes overlap, the main path
in the middle row."""

from __future__ import annotations

from partnerprojekte.model import FINAL_STATES, State
from partnerprojekte.states import diagram
from partnerprojekte.states.report_table import ReportState
from partnerprojekte.states.table import NEW


def test_every_state_has_a_place_and_no_two_boxes_overlap() -> None:
    pos = diagram.layout()
    assert set(pos) == {NEW, *(s.value for s in State)}
    boxes = {name: diagram._box(name) for name in pos}
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            (ax, ay), (bx, by) = boxes[a], boxes[b]
            apart = abs(ax - bx) >= diagram._BW or abs(ay - by) >= diagram._BH
            assert apart, (a, b, pos[a], pos[b])


def test_the_main_path_runs_left_to_right_from_the_start_to_recognition() -> None:
    pos = diagram.layout()
    middle = sorted((col, name) for name, (col, row) in pos.items() if row == 1)
    assert [name for _, name in middle] == [
        NEW,
        "eingereicht",
        "in_bearbeitung",
        "in_abstimmung",
        "anerkannt",
    ]


def test_the_mermaid_text_ends_exactly_the_final_states() -> None:
    ends = {line.split()[0] for line in diagram.mermaid().splitlines() if line.endswith("--> [*]")}
    assert ends == {s.value for s in FINAL_STATES}


def test_the_report_machine_is_drawn_from_its_own_table() -> None:
    chart = diagram.report_chart()
    pos = diagram.layout(chart)
    assert set(pos) == {NEW, *(s.value for s in ReportState)}
    middle = sorted((col, name) for name, (col, row) in pos.items() if row == 1)
    assert [name for _, name in middle] == [NEW, "offen", "entwurf", "eingereicht", "geprueft", "angenommen"]
    text = diagram.mermaid(chart)
    assert "    entwurf --> entwurf: Entwurf speichern (save_draft)" in text
    assert "    geprueft --> zurueckgegeben: Zurückgeben (return_report)" in text
    assert [line for line in text.splitlines() if line.endswith("--> [*]")] == ["    angenommen --> [*]"]
    drawing = diagram.svg(chart)
    assert "<title>Zustände einer Fortschrittsmeldung</title>" in drawing
    assert drawing.count("<rect x=") == len(ReportState)
