"""Phrase lookup structures for the discrimination lexicons: many phrases through anchors, words at a position."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from detectors.normalize import normalize_pattern

T = TypeVar("T")


class Found(NamedTuple, Generic[T]):
    """One phrase occurrence in normalised text (a light `detectors.lexicon.Match`)."""

    start: int
    end: int
    phrase: str
    value: T


class AnchoredPhrases(Generic[T]):
    """Finds every occurrence of many phrases through each phrase's rarest character.

    Same results as `detectors.lexicon.PhraseMatcher` (normalised phrases, normalised offsets), for
    a fraction of the cost on long texts: pyahocorasick walks a linear list of the root's children
    for every character, which with hundreds of distinct first characters costs ~0.1 µs a
    character; here one regex character class finds the few anchor positions and each is verified
    with `startswith`.

    Even a rare character turns up some twenty times in a posting (后 in 以后, 教 in 教育), mostly
    not inside any phrase: the characters right before and after an anchor are checked against
    those its phrases have there before the phrases themselves are looked up.
    """

    def __init__(self, phrases: Iterable[tuple[str, T]], common: str) -> None:
        rank = {c: i for i, c in enumerate(common)}
        entries: dict[str, list[T]] = {}
        for phrase, value in phrases:
            key = normalize_pattern(phrase)
            if key:
                entries.setdefault(key, []).append(value)
        index: dict[str, dict[tuple[int, int], dict[str, tuple[T, ...]]]] = {}
        for key, values in entries.items():

            def rarity(i: int, key: str = key) -> int:
                ch = key[i]
                if ch.isascii() and not ch.isalnum():
                    return -1
                return rank.get(ch, len(common) + 1)

            at = max(range(len(key)), key=rarity)
            index.setdefault(key[at], {}).setdefault((at, len(key)), {})[key] = tuple(values)
        # anchor -> ((offset of the anchor in the phrase, phrase length, {phrase: values}), ...)
        self._index = {a: tuple((o, n, d) for (o, n), d in sorted(v.items())) for a, v in index.items()}
        # anchor -> (characters its phrases have before it, and after it); None where some phrase
        # starts (ends) with the anchor, so that any neighbour will do.
        self._neighbours = {a: _neighbours(a, entries) for a, entries in self._index.items()}
        self._size = len(entries)
        chars = "".join(re.escape(c) for c in sorted(index))
        self._anchors = re.compile(f"[{chars}]") if chars else re.compile(r"(?!)")

    def __len__(self) -> int:
        return self._size

    def find_all(self, text: str) -> list[Found[T]]:
        """Every occurrence of every phrase (overlapping ones included), in anchor order."""
        index, neighbours = self._index, self._neighbours
        out: list[Found[T]] = []
        for m in self._anchors.finditer(text):
            pos = m.start()
            anchor = text[pos]
            before, after = neighbours[anchor]
            if before is not None and (pos == 0 or text[pos - 1] not in before):
                continue
            if after is not None and text[pos + 1 : pos + 2] not in after:
                continue
            for offset, length, phrases in index[anchor]:
                start = pos - offset
                if start < 0:
                    continue
                values = phrases.get(text[start : start + length])
                if values is not None:
                    for v in values:
                        out.append(Found(start, start + length, text[start : start + length], v))
        return out


def _neighbours(
    anchor: str, entries: tuple[tuple[int, int, dict[str, tuple[T, ...]]], ...]
) -> tuple[frozenset[str] | None, frozenset[str] | None]:
    before: set[str] | None = set()
    after: set[str] | None = set()
    for offset, length, phrases in entries:
        for key in phrases:
            if before is not None:
                before = None if offset == 0 else before | {key[offset - 1]}
            if after is not None:
                after = None if offset == length - 1 else after | {key[offset + 1]}
    return (
        None if before is None else frozenset(before),
        None if after is None else frozenset(after),
    )


@dataclass(frozen=True, slots=True)
class WordTable:
    """Normalised words with a kind each, for longest-match lookups at a position."""

    kinds: Mapping[str, str]
    by_first: Mapping[str, tuple[int, ...]]  # first character -> word lengths, longest first
    by_last: Mapping[str, tuple[int, ...]]  # last character -> word lengths, longest first

    @classmethod
    def build(cls, pairs: Iterable[tuple[str, str]]) -> WordTable:
        kinds: dict[str, str] = {}
        for word, kind in pairs:
            key = normalize_pattern(word)
            if key:
                kinds[key] = kind
        by_first: dict[str, set[int]] = {}
        by_last: dict[str, set[int]] = {}
        for k in kinds:
            by_first.setdefault(k[0], set()).add(len(k))
            by_last.setdefault(k[-1], set()).add(len(k))
        return cls(
            kinds,
            {c: tuple(sorted(n, reverse=True)) for c, n in by_first.items()},
            {c: tuple(sorted(n, reverse=True)) for c, n in by_last.items()},
        )

    def ending_at(self, text: str, end: int) -> tuple[str, str] | None:
        """The longest word that ends exactly at `end`, with its kind."""
        if end <= 0:
            return None
        lengths = self.by_last.get(text[end - 1])
        if lengths is None:
            return None
        kinds = self.kinds
        for k in lengths:
            if k <= end:
                word = text[end - k : end]
                kind = kinds.get(word)
                if kind is not None:
                    return word, kind
        return None

    def starting_at(self, text: str, start: int) -> tuple[str, str] | None:
        """The longest word that starts exactly at `start`, with its kind."""
        if start >= len(text):
            return None
        lengths = self.by_first.get(text[start])
        if lengths is None:
            return None
        kinds = self.kinds
        for k in lengths:
            word = text[start : start + k]
            if len(word) == k:
                kind = kinds.get(word)
                if kind is not None:
                    return word, kind
        return None
