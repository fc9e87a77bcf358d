"""Lexicon loading and multi-pattern matching (Aho-Corasick) over normalised text."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Generic, TypeVar

import ahocorasick

from detectors.normalize import normalize_pattern

T = TypeVar("T")


@cache
def load_toml(package: str, name: str) -> dict[str, Any]:
    """Parse a TOML data file shipped inside a detectors package (e.g. `detectors.discrimination`, `lexicon.toml`)."""
    return tomllib.loads(resources.files(package).joinpath(name).read_text("utf-8"))


@dataclass(frozen=True, slots=True)
class Match(Generic[T]):
    start: int  # in normalised text
    end: int
    phrase: str  # the normalised pattern that matched
    value: T


class PhraseMatcher(Generic[T]):
    """Finds every occurrence of many phrases in one pass; phrases are normalised like the text."""

    def __init__(self, phrases: Mapping[str, T] | Iterable[tuple[str, T]]) -> None:
        items = phrases.items() if isinstance(phrases, Mapping) else phrases
        self._automaton = ahocorasick.Automaton()
        self._size = 0
        for phrase, value in items:
            key = normalize_pattern(phrase)
            if not key:
                continue
            existing = self._automaton.get(key, None)
            values = (existing[1] if existing else ()) + (value,)
            self._automaton.add_word(key, (key, values))
            self._size += 1
        if self._size:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return self._size

    def finditer(self, text: str) -> Iterator[Match[T]]:
        """Every match, including overlapping ones, ordered by end position."""
        if not self._size:
            return
        for end_index, (key, values) in self._automaton.iter(text):
            start = end_index - len(key) + 1
            for v in values:
                yield Match(start, end_index + 1, key, v)

    def contains_any(self, text: str) -> bool:
        if not self._size:
            return False
        for _ in self._automaton.iter(text):
            return True
        return False


def compile_alternation(words: Iterable[str]) -> re.Pattern[str]:
    """A regex matching any of the (normalised) words, longest first."""
    keys = sorted({normalize_pattern(w) for w in words if w}, key=len, reverse=True)
    return re.compile(_by_first_character(keys)) if keys else re.compile(r"(?!)")


def _by_first_character(keys: list[str]) -> str:
    """`a|b|…` for keys longest first, written as one branch per first character (`简(?:历库|历)|数据`).

    The regex engine tries the branches of an alternation one after the other wherever a first
    character occurs; with the words grouped, it tries one per distinct first character. The match
    is the same: only words starting with the character there can match, in the same order.
    """
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(k[0], []).append(re.escape(k[1:]))
    return "|".join(
        re.escape(first) + (f"(?:{'|'.join(rests)})" if rests != [""] else "") for first, rests in groups.items()
    )
