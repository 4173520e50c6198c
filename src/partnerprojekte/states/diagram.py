"""The state diagram, generated from the transition table (Mermaid text or a standalone SVG)."""

from __future__ import annotations

from html import escape

from partnerprojekte.model import EVENT_LABELS, Event, State
from partnerprojekte.states.table import NEW, TRANSITIONS


def edges() -> list[tuple[str, str, str]]:
    """(source, target, event) for every transition; the pseudo-state ``neu`` is the start."""
    result = []
    for spec in TRANSITIONS:
        for source in spec.sources or (None,):
            src = source.value if source else NEW
            dest = spec.dest.value if spec.dest else src
            result.append((src, dest, spec.event.value))
    return result


def mermaid() -> str:
    """``stateDiagram-v2`` text with German labels."""
    lines = ["stateDiagram-v2"]
    for state in State:
        lines.append(f'    state "{state.label}" as {state.value}')
    for src, dest, event in edges():
        source = "[*]" if src == NEW else src
        lines.append(f"    {source} --> {dest}: {EVENT_LABELS[_event(event)]} ({event})")
    for state in (State.ANERKANNT, State.IN_SAEULE_1_INTEGRIERT, State.ZURUECKGEZOGEN):
        lines.append(f"    {state.value} --> [*]")
    return "\n".join(lines)


def _event(name: str) -> Event:
    return Event(name)


# Fixed positions (column, row) of the states: the path runs left to right, endings below.
_POS: dict[str, tuple[int, int]] = {
    NEW: (0, 0),
    State.EINGEREICHT.value: (1, 0),
    State.IN_BEARBEITUNG.value: (2, 0),
    State.IN_ABSTIMMUNG.value: (3, 0),
    State.ANERKANNT.value: (4, 0),
    State.NICHT_WEITERVERFOLGT.value: (2, 2),
    State.IN_SAEULE_1_INTEGRIERT.value: (3, 2),
    State.ZURUECKGEZOGEN.value: (1, 2),
}
_W, _H, _BW, _BH = 240, 120, 170, 44


def _centre(state: str) -> tuple[float, float]:
    col, row = _POS[state]
    return 30 + col * _W + _BW / 2, 40 + row * _H + _BH / 2


def svg() -> str:
    """A standalone SVG drawing of the machine with German labels."""
    width, height = 30 + 5 * _W, 40 + 3 * _H + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        "<title>Zustände eines Partnerprojekt-Vorschlags</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>',
    ]
    seen: dict[tuple[str, str], int] = {}
    for src, dest, event in edges():
        label = escape(EVENT_LABELS[_event(event)])
        n = seen.get((src, dest), 0)
        seen[(src, dest)] = n + 1
        x1, y1 = _centre(src)
        x2, y2 = _centre(dest)
        if src == dest:
            out.append(
                f'<path d="M{x1 - 20},{y1 - _BH / 2} C{x1 - 30},{y1 - 90} {x1 + 30},{y1 - 90} '
                f'{x1 + 20},{y1 - _BH / 2}" fill="none" stroke="#333" marker-end="url(#arrow)"/>'
            )
            out.append(f'<text x="{x1}" y="{y1 - 72}" text-anchor="middle">{label}</text>')
            continue
        # Opposite edges and several events between the same pair bend apart.
        bend = (30 + 22 * n) * (1 if (src < dest) else -1)
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        dx, dy = x2 - x1, y2 - y1
        length = max((dx * dx + dy * dy) ** 0.5, 1)
        cx, cy = mx - dy / length * bend, my + dx / length * bend
        sx, sy = _shorten(x1, y1, cx, cy)
        ex, ey = _shorten(x2, y2, cx, cy)
        out.append(
            f'<path d="M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}" fill="none" '
            'stroke="#333" marker-end="url(#arrow)"/>'
        )
        out.append(f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" fill="#024">{label}</text>')
    for state, (col, row) in _POS.items():
        x, y = 30 + col * _W, 40 + row * _H
        if state == NEW:
            out.append(f'<circle cx="{x + _BW / 2}" cy="{y + _BH / 2}" r="10" fill="#333"/>')
            continue
        final = state in (
            State.ANERKANNT.value,
            State.IN_SAEULE_1_INTEGRIERT.value,
            State.ZURUECKGEZOGEN.value,
        )
        out.append(
            f'<rect x="{x}" y="{y}" width="{_BW}" height="{_BH}" rx="10" fill="#eef4fb" '
            f'stroke="#1f4e79" stroke-width="{3 if final else 1.5}"/>'
        )
        out.append(
            f'<text x="{x + _BW / 2}" y="{y + _BH / 2 + 4}" text-anchor="middle">'
            f"{escape(State(state).label)}</text>"
        )
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
