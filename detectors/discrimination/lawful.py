"""Lawful exceptions (lawful.toml): work barred to women, health-certificate work, jobs with physical standards."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from detectors.discrimination.vocabulary import AnchoredPhrases, data, vocabulary_anchor_order
from detectors.lexicon import compile_alternation


@dataclass(frozen=True, slots=True)
class ExceptionSet:
    name: str
    applies_to: str  # rule short name
    basis: str


@dataclass(frozen=True, slots=True)
class _Tables:
    sets: dict[str, ExceptionSet]
    matcher: AnchoredPhrases[str]
    lifting: re.Pattern[str]
    frequency: re.Pattern[str]
    max_kg_intermittent: float
    max_kg_frequent: float
    frequent_per_hour: int
    not_lawful_reasons: re.Pattern[str]


@cache
def _tables() -> _Tables:
    spec = data("lawful.toml")
    sets = {name: ExceptionSet(name, s["applies_to"], s["basis"]) for name, s in spec.items()}
    matcher = AnchoredPhrases([(p, name) for name, s in spec.items() for p in s["phrases"]], vocabulary_anchor_order())
    barred = spec["female_barred_work"]
    verbs = compile_alternation(barred["lifting_verbs"]).pattern
    lifting = re.compile(
        rf"(?:{verbs})[^,。;!?\n]{{0,10}}?(超过|大于|高于|多于|>)?\s*(\d+(?:\.\d+)?)\s*(公斤|kg|千克|斤)\s*(以上)?"
    )
    frequency = re.compile(r"每小时[^,。;!?\n]{0,8}?(\d+)\s*次")
    return _Tables(
        sets=sets,
        matcher=matcher,
        lifting=lifting,
        frequency=frequency,
        max_kg_intermittent=float(barred["max_kg_intermittent"]),
        max_kg_frequent=float(barred["max_kg_frequent"]),
        frequent_per_hour=int(barred["frequent_per_hour"]),
        not_lawful_reasons=compile_alternation(barred["not_lawful_reasons"]),
    )


def exception_set(name: str) -> ExceptionSet:
    """The exception set called `name` in lawful.toml."""
    return _tables().sets[name]


def _heavy_lifting(text: str) -> str | None:
    """A lifting duty over the 女职工禁忌 limits: >25 kg intermittently, or >20 kg at 6+ times an hour."""
    tb = _tables()
    freq = tb.frequency.search(text)
    frequent = freq is not None and int(freq.group(1)) >= tb.frequent_per_hour
    for m in tb.lifting.finditer(text):
        kg = float(m.group(2)) / (2 if m.group(3) == "斤" else 1)
        limit = tb.max_kg_frequent if frequent else tb.max_kg_intermittent
        # 超过25公斤 / 25公斤以上 exceed the limit at the limit itself.
        if kg > limit or (kg == limit and (m.group(1) or m.group(4))):
            return m.group(0)
    return None


class LawfulContext:
    """Which lawful-exception sets a record's texts mention; scanned once, on the first question."""

    __slots__ = ("_found", "_texts")

    def __init__(self, texts: Iterable[str]) -> None:
        self._texts = tuple(t for t in texts if t)
        self._found: dict[str, str] | None = None

    def _scan(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for text in self._texts:
            for m in _tables().matcher.find_all(text):
                found.setdefault(m.value, m.phrase)
        if "female_barred_work" not in found:
            for text in self._texts:
                lifted = _heavy_lifting(text)
                if lifted:
                    found["female_barred_work"] = lifted
                    break
        return found

    def match(self, name: str) -> str | None:
        """The phrase that shows exception set `name` applies to this record, or None."""
        if self._found is None:
            self._found = self._scan()
        return self._found.get(name)

    def claimed_reasons(self) -> list[str]:
        """Reasons a posting may give for a sex limit that the law does not accept (夜班, 出差…)."""
        found = _tables().not_lawful_reasons
        return sorted({w for t in self._texts for w in found.findall(t)})
