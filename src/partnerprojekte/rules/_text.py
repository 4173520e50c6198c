"""Small German text helpers shared by the criteria: counting, numbers, euros, lists."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")
_HUNDRED = Decimal(100)
_GERMAN_SEPARATORS = str.maketrans({",": ".", ".": ","})


def non_blank_chars(text: str) -> int:
    """How many characters of ``text`` are not whitespace."""
    return len("".join(text.split()))


def plural(count: int, singular: str, plural_form: str) -> str:
    """``1 Kommune`` / ``3 Kommunen``."""
    return f"{count} {singular if count == 1 else plural_form}"


def german_number(value: Decimal, places: int) -> str:
    """``1234567.5`` with 2 places -> ``1.234.567,50`` (German separators)."""
    text = f"{value:,.{places}f}"
    return text.translate(_GERMAN_SEPARATORS)


def euro(amount: Decimal) -> str:
    """``1200000`` -> ``1.200.000 €``; cents only when they are not zero (``1.200,50 €``)."""
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    places = 0 if cents == cents.to_integral_value() else 2
    return f"{german_number(cents, places)} €"


def percent(part: Decimal, whole: Decimal) -> str:
    """``part`` as a share of ``whole``: ``75 %``, ``66,7 %``; never shows 0 or 100 for a true part."""
    share = (part * _HUNDRED / whole).quantize(_TENTH, rounding=ROUND_HALF_UP)
    # 99.96 % secured is not "100 %": the rounded figure must not contradict the verdict.
    if part < whole and share >= _HUNDRED:
        share = Decimal("99.9")
    elif part > 0 and share <= 0:
        share = _TENTH
    places = 0 if share == share.to_integral_value() else 1
    return f"{german_number(share, places)} %"


def quoted(text: str) -> str:
    """German quotation marks: „text“."""
    return f"„{text}“"


def and_list(items: Iterable[str]) -> str:
    """``A``, ``A und B``, ``A, B und C``."""
    names = list(items)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} und {names[-1]}"
