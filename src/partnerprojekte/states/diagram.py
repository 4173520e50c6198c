"""State diagrams, generated from the transition tables (Mermaid text or a standalone SVG): the
qualification of a proposal and the progress report, each drawn from its own table."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from html import escape

from partnerprojekte.model import EVENT_LABELS, FINAL_STATES, State
from partnerprojekte.states.report_table import (
    FINAL_REPORT_STATES,
    REPORT_TRANSITIONS,
    ReportAction,
    ReportState,
)
from partnerprojekte.states.table import NEW, TRANSITIONS


@dataclass(frozen=True)
class Chart:
    """What a diagram draws: states with labels, which are final, and the edges with their labels."""

    title: str
    states: tuple[tuple[str, str], ...]  # (code, label) in the table's order
    finals: frozenset[str]
    edges: tuple[tuple[str, str, str, str], ...]  # (source, target, event code, label); NEW is the start

    def label_of(self, state: str) -> str:
        """The German label of a state."""
        return dict(self.states)[state]


@cache
def qualification_chart() -> Chart:
    """The machine of a proposal (states/table.py)."""
    found = []
    for spec in TRANSITIONS:
        for source in spec.sources or (None,):
            src = source.value if source else NEW
            dest = spec.dest.value if spec.dest else src
            found.append((src, dest, spec.event.value, EVENT_LABELS[spec.event]))
    return Chart(
        "Zustände eines Partnerprojekt-Vorschlags",
        tuple((s.value, s.label) for s in State),
        frozenset(s.value for s in FINAL_STATES),
        tuple(found),
    )


@cache
def report_chart() -> Chart:
    """The machine of a progress report (states/report_table.py); a reporting round starts it."""
    opened = ReportAction.OPEN_REPORT
    found = [(NEW, ReportState.OFFEN.value, opened.value, "Berichtsrunde eröffnet")]
    for spec in REPORT_TRANSITIONS:
        for source in spec.sources:
            dest = spec.dest.value if spec.dest else source.value
            found.append((source.value, dest, spec.event.value, spec.event.label))
    return Chart(
        "Zustände einer Fortschrittsmeldung",
        tuple((s.value, s.label) for s in ReportState),
        frozenset(s.value for s in FINAL_REPORT_STATES),
        tuple(found),
    )


CHARTS = {"vorschlag": qualification_chart, "meldung": report_chart}


def edges(chart: Chart | None = None) -> list[tuple[str, str, str]]:
    """(source, target, event) for every transition; the pseudo-state ``neu`` is the start."""
    return [(src, dest, event) for src, dest, event, _ in (chart or qualification_chart()).edges]


def mermaid(chart: Chart | None = None) -> str:
    """``stateDiagram-v2`` text with German labels."""
    chart = chart or qualification_chart()
    lines = ["stateDiagram-v2"]
    for code, label in chart.states:
        lines.append(f'    state "{label}" as {code}')
    for src, dest, event, label in chart.edges:
        source = "[*]" if src == NEW else src
        lines.append(f"    {source} --> {dest}: {label} ({event})")
    for code, _ in chart.states:
        if code in chart.finals:
            lines.append(f"    {code} --> [*]")
    return "\n".join(lines)


def layout(chart: Chart | None = None) -> dict[str, tuple[float, float]]:
    """Positions (column, row) computed from the table: the longest of the shortest paths runs left to right
    in the middle row; every other state sits below (or, if that is taken nearby, above) the mean column
    of the states it is reached from, so that its edges fan in without crossing the main path; a box
    that would overlap another moves right of it."""
    chart = chart or qualification_chart()
    step = [(src, dest) for src, dest, _ in edges(chart) if src != dest]
    rank = {NEW: 0}  # the fewest events from the start (breadth first)
    frontier = [NEW]
    while frontier:
        reached = {dest: rank[src] + 1 for src, dest in step if src in frontier and dest not in rank}
        rank.update(reached)
        frontier = list(reached)
    # The main path: back from the farthest state, always to a predecessor one rank nearer the start.
    path = [max(rank, key=lambda name: (rank[name], name not in chart.finals))]
    while path[-1] != NEW:
        path.append(min(src for src, dest in step if dest == path[-1] and rank[src] == rank[path[-1]] - 1))
    pos: dict[str, tuple[float, float]] = {name: (rank[name], 1) for name in path}
    apart = (_BW + 40) / _W  # columns between two boxes of one row
    off_path = [code for code, _ in chart.states if code not in pos]
    sources_of = {name: [src for src, dest in step if dest == name and src in pos] for name in off_path}
    # The most connected first: they get the column their edges ask for.
    for name in sorted(off_path, key=lambda n: -len(sources_of[n])):
        column = sum(pos[src][0] for src in sources_of[name]) / len(sources_of[name])
        taken = {row: [c for c, r in pos.values() if r == row and abs(c - column) < apart] for row in (2, 0)}
        row = min(taken, key=lambda r: len(taken[r]))  # below, unless above is freer
        if taken[row]:
            column = max(taken[row]) + apart
        pos[name] = (round(column, 2), row)
    return pos


_W, _H, _BW, _BH, _LEFT, _TOP = 320, 170, 250, 46, 20, 30


def _box(state: str, chart: Chart | None = None) -> tuple[float, float]:
    col, row = _positions(chart or qualification_chart())[state]
    return _LEFT + col * _W, _TOP + row * _H


@cache
def _positions(chart: Chart) -> dict[str, tuple[float, float]]:
    return layout(chart)


def _centre(state: str, chart: Chart) -> tuple[float, float]:
    x, y = _box(state, chart)
    return x + _BW / 2, y + _BH / 2


def _label(x: float, y: float, text: str) -> str:
    # A white halo keeps labels readable where edges cross.
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="#023" stroke="#fff" '
        f'stroke-width="4" paint-order="stroke">{escape(text)}</text>'
    )


def svg(chart: Chart | None = None) -> str:
    """A standalone SVG drawing of the machine with German labels."""
    chart = chart or qualification_chart()
    columns = max(col for col, _ in _positions(chart).values())
    low_loop = any(src == dest and _positions(chart)[src][1] == 2 for src, dest, _ in edges(chart))
    width = int(_LEFT * 2 + columns * _W + _BW)
    height = int(_TOP * 2 + 2 * _H + _BH + (50 if low_loop else 0))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(chart.title)}</title>",
        '<rect width="100%" height="100%" fill="#fff"/>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>',
    ]
    labels: list[str] = []
    for src, dest, _, label in chart.edges:
        x1, y1 = _centre(src, chart)
        if src == dest:
            # A reflexive event (revise, saving a draft again): a loop on the box's upper left corner, or
            # on its lower one in the bottom row, where the edges from above arrive at the top.
            bx, by = _box(src, chart)
            if _positions(chart)[src][1] == 2:
                low = by + _BH
                out.append(
                    f'<path d="M{bx + 40},{low} C{bx + 20},{low + 45} {bx - 40},{low + 20} '
                    f'{bx},{low - 12}" fill="none" stroke="#333" marker-end="url(#arrow)"/>'
                )
                labels.append(_label(bx + 5, low + 48, label))
                continue
            out.append(
                f'<path d="M{bx + 40},{by} C{bx + 20},{by - 45} {bx - 40},{by - 20} '
                f'{bx},{by + 12}" fill="none" stroke="#333" marker-end="url(#arrow)"/>'
            )
            labels.append(_label(bx + 5, by - 38, label))
            continue
        x2, y2 = _centre(dest, chart)
        # Opposite edges between the same pair bend to different sides.
        bend = 28 if (src, dest) < (dest, src) else -28
        if y1 == y2:
            # Neighbours on the main path: forwards above, backwards below.
            bend = -18
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        dx, dy = x2 - x1, y2 - y1
        length = max((dx * dx + dy * dy) ** 0.5, 1)
        cx, cy = mx - dy / length * bend, my + dx / length * bend
        sx, sy = (x1 + 10, y1) if src == NEW else _shorten(x1, y1, cx, cy)
        ex, ey = _shorten(x2, y2, cx, cy)
        out.append(
            f'<path d="M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}" fill="none" '
            'stroke="#333" marker-end="url(#arrow)"/>'
        )
        # The point of the curve at t=0.5, a little towards the target so labels of fanning edges part.
        t = 0.5 if src == NEW or y1 == y2 else 0.6
        lx = (1 - t) ** 2 * sx + 2 * (1 - t) * t * cx + t * t * ex
        ly = (1 - t) ** 2 * sy + 2 * (1 - t) * t * cy + t * t * ey
        # Labels sit on the outer side of the bend, so that the two directions of a pair part.
        offset = (12.0 if cy > my else -12.0) if y1 == y2 else 0.0
        labels.append(_label(lx, ly + 4 + offset, label))
    for state in _positions(chart):
        x, y = _box(state, chart)
        if state == NEW:
            out.append(f'<circle cx="{x + _BW / 2}" cy="{y + _BH / 2}" r="10" fill="#333"/>')
            continue
        final = state in chart.finals
        out.append(
            f'<rect x="{x}" y="{y}" width="{_BW}" height="{_BH}" rx="10" fill="#eef4fb" '
            f'stroke="#1f4e79" stroke-width="{3 if final else 1.5}"/>'
        )
        out.append(
            f'<text x="{x + _BW / 2}" y="{y + _BH / 2 + 4}" text-anchor="middle">'
            f"{escape(chart.label_of(state))}</text>"
        )
    out += labels
    out.append("</svg>")
    return "\n".join(out)


def _shorten(x: float, y: float, cx: float, cy: float) -> tuple[float, float]:
    """Move an end point from a box centre towards the control point, onto the box border."""
    dx, dy = cx - x, cy - y
    scale = min(
        (_BW / 2) / abs(dx) if dx else float("inf"),
        (_BH / 2) / abs(dy) if dy else float("inf"),
    )
    return x + dx * scale, y + dy * scale
