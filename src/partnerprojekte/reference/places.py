"""Resolve a place as a partner writes it to a Kommune or Kreis of the Ruhr region."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from partnerprojekte.reference import Reference, load_reference

PlaceKind = Literal["municipality", "kreis", "region", "outside"]

# Partners write "Muelheim" as often as "Mülheim"; both fold to the same key.
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
# Hyphens, slashes, dots and brackets are spelling noise: "Castrop Rauxel", "Mülheim a.d. Ruhr".
_NOISE = re.compile(r"[\W_]+")
_CITY_PREFIX = "stadt "


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    """A place resolved against the reference data: a Kommune, a Kreis, the whole region ("Metropole Ruhr"),
    or outside it; ``municipalities`` are the Kommunen it counts as (none outside)."""

    text: str
    kind: PlaceKind
    name: str
    municipalities: tuple[str, ...]

    @property
    def in_region(self) -> bool:
        """True for a Kommune or Kreis of the Ruhr region, or the region itself."""
        return self.kind != "outside"


def normalise_place(text: str) -> str:
    """The lookup key of a place name: case, umlauts, punctuation, blanks and a leading "Stadt " ignored."""
    key = unicodedata.normalize("NFC", text).casefold().translate(_FOLD)
    key = _NOISE.sub(" ", key).strip()
    return key.removeprefix(_CITY_PREFIX)


def resolve_place(text: str, ref: Reference | None = None) -> PlaceMatch:
    """Resolve one place name; anything not in the Ruhr region comes back as kind "outside"."""
    return _resolve(text, ref if ref is not None else load_reference())


# Proposals repeat the same few dozen names; memoising makes a lookup a single dict hit.
@functools.lru_cache(maxsize=4096)
def _resolve(text: str, ref: Reference) -> PlaceMatch:
    hit = _index(ref).get(normalise_place(text))
    if hit is None:
        return PlaceMatch(text, "outside", text.strip(), ())
    kind, name, municipalities = hit
    return PlaceMatch(text, kind, name, municipalities)


_Entry = tuple[PlaceKind, str, tuple[str, ...]]


@functools.lru_cache(maxsize=8)
def _index(ref: Reference) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for name in ref.municipalities:
        entries[name] = ("municipality", name, (name,))
    for name, kreis in ref.kreise.items():
        entries[name] = ("kreis", name, kreis.municipalities)
    entries[ref.region_name] = ("region", ref.region_name, tuple(ref.municipalities))
    spellings = [
        *((name, name) for name in entries),
        *ref.place_variants.items(),
        *((spelling, ref.region_name) for spelling in ref.region_spellings),
    ]
    index: dict[str, _Entry] = {}
    for spelling, target in spellings:
        key = normalise_place(spelling)
        entry = entries[target]
        # Two places folding to one key would make a lookup silently pick one of them.
        if index.get(key, entry) != entry:
            raise ValueError(f"Ortsname {spelling!r} ist mehrdeutig (Schlüssel {key!r})")
        index[key] = entry
    return index
