"""The Ruhr reference data (Handlungsfelder, Ressorts, Themenforen, Kommunen, Kreise) and its loader."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from partnerprojekte.errors import NotFound

_DATA_FILE = "ruhr.json"


@dataclass(frozen=True, slots=True)
class Handlungsfeld:
    """One of the five Handlungsfelder of the Ruhr-Konferenz."""

    key: str
    order: int
    title: str
    short_label: str


@dataclass(frozen=True, slots=True)
class Ressort:
    """A ministry (or a part of the Staatskanzlei) by its abbreviation as the seeds write it."""

    abbreviation: str
    name: str


@dataclass(frozen=True, slots=True)
class Themenforum:
    """One of the 20 Themenforen with its lead Ressort and the other Ressorts taking part."""

    number: int
    title: str
    topic: str
    ressort: str
    other_ressorts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Municipality:
    """A Kommune of the Ruhr region; ``kreis`` is None for a kreisfreie Stadt."""

    name: str
    kreis: str | None
    regierungsbezirk: str


@dataclass(frozen=True, slots=True)
class Kreis:
    """A Kreis of the Ruhr region with its kreisangehörige Kommunen."""

    name: str
    municipalities: tuple[str, ...]
    regierungsbezirk: str


# eq=False: a Reference is compared and hashed by identity, so caches may key on it.
@dataclass(frozen=True, eq=False)
class Reference:
    """All reference data, read-only."""

    handlungsfelder: Mapping[str, Handlungsfeld]
    ressorts: Mapping[str, Ressort]
    themenforen: Mapping[int, Themenforum]
    municipalities: Mapping[str, Municipality]
    kreise: Mapping[str, Kreis]
    place_variants: Mapping[str, str]
    # The whole region under its own name ("Ruhrgebiet", "Metropole Ruhr" …): counts as every Kommune.
    region_name: str = "Ruhrgebiet"
    region_spellings: tuple[str, ...] = ()

    def ressort(self, abk: str) -> Ressort:
        """The Ressort with this abbreviation (case and surrounding blanks ignored)."""
        found = self.find_ressort(abk)
        if found is None:
            known = ", ".join(self.ressorts)
            raise NotFound(f"Unbekanntes Ressort „{abk.strip()}“ – gültige Kürzel: {known}.")
        return found

    def find_ressort(self, abk: str) -> Ressort | None:
        """The Ressort with this abbreviation, or None (case and surrounding blanks ignored)."""
        return _ressort_index(self).get(abk.strip().casefold())


# DIN 5007-1 ("Wörterbuch"): umlauts sort with their base letter, so Bönen comes before Bottrop.
_SORT_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})


def german_sort_key(name: str) -> tuple[str, str]:
    """Sort key for German names: umlauts as their base letter, case ignored (DIN 5007-1)."""
    return name.casefold().translate(_SORT_FOLD), name


@functools.cache
def load_reference() -> Reference:
    """The reference data from the package, read once."""
    text = resources.files(__name__).joinpath("data", _DATA_FILE).read_text(encoding="utf-8")
    return _build(json.loads(text))


@functools.lru_cache(maxsize=8)
def _ressort_index(ref: Reference) -> dict[str, Ressort]:
    return {abk.casefold(): ressort for abk, ressort in ref.ressorts.items()}


def _build(data: dict[str, Any]) -> Reference:
    handlungsfelder = {
        item["key"]: Handlungsfeld(item["key"], item["order"], item["title"], item["bereich"])
        for item in sorted(data["handlungsfelder"]["items"], key=lambda item: item["order"])
    }
    ressorts = {item["abk"]: Ressort(item["abk"], item["name"]) for item in data["ressorts"]["items"]}
    themenforen = {
        item["nr"]: Themenforum(
            item["nr"], item["titel"], item["thema"], item["ressort"], tuple(item["weitere_ressorts"])
        )
        for item in data["themenforen"]["items"]
    }
    region = data["region"]
    municipalities = {
        item["name"]: Municipality(item["name"], None, item["regierungsbezirk"])
        for item in region["kreisfreie_staedte"]
    }
    kreise: dict[str, Kreis] = {}
    for item in region["kreise"]:
        kreise[item["name"]] = Kreis(item["name"], tuple(item["kommunen"]), item["regierungsbezirk"])
        for name in item["kommunen"]:
            municipalities[name] = Municipality(name, item["name"], item["regierungsbezirk"])
    variants = dict(region["varianten"])
    _check_consistency(ressorts, themenforen, municipalities, kreise, variants)
    return Reference(
        handlungsfelder=MappingProxyType(handlungsfelder),
        ressorts=MappingProxyType(ressorts),
        themenforen=MappingProxyType(themenforen),
        municipalities=MappingProxyType(
            {name: municipalities[name] for name in sorted(municipalities, key=german_sort_key)}
        ),
        kreise=MappingProxyType(kreise),
        place_variants=MappingProxyType(variants),
        region_name=region["ganze_region"]["name"],
        region_spellings=tuple(region["ganze_region"]["schreibweisen"]),
    )


def _check_consistency(
    ressorts: Mapping[str, Ressort],
    themenforen: Mapping[int, Themenforum],
    municipalities: Mapping[str, Municipality],
    kreise: Mapping[str, Kreis],
    variants: Mapping[str, str],
) -> None:
    # A broken package file must fail loudly at load, not as a wrong verdict later.
    problems = [
        f"Themenforum {forum.number}: unbekanntes Ressort {abk}"
        for forum in themenforen.values()
        for abk in (forum.ressort, *forum.other_ressorts)
        if abk not in ressorts
    ]
    problems += [
        f"Variante {variant!r} verweist auf unbekannten Ort {target!r}"
        for variant, target in variants.items()
        if target not in municipalities and target not in kreise
    ]
    if problems:
        raise ValueError("Referenzdaten inkonsistent: " + "; ".join(problems))
