"""Text normalisation for detection, with a map from every normalised character back to the original text.

Steps, in order: NFKC (full-width -> half-width), traditional -> simplified, lower-case, a few
symbol equivalences (♂ -> 男); removal of separators evaders insert between characters
(`限 男 性`, `138 1234 5678`); Chinese-numeral digit runs (`幺三八…` -> `138…`); evasion phrases
(`薇信`, `VX` -> 微信). Detectors match on `NormalizedText.text` and report spans through
`to_original`, so evidence offsets always index the ORIGINAL text in code points.
"""

from __future__ import annotations

import re
import sys
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Characters that are pure noise anywhere: zero-width and variation selectors.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f"


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A normalised view of `original`; `starts[i]`/`ends[i]` give the original span of text[i]."""

    original: str
    text: str
    starts: tuple[int, ...] | None = None  # None: identity mapping (same length, char i <- char i)
    ends: tuple[int, ...] | None = None

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span [start, end) of the normalised text to the span of original text it came from."""
        if self.starts is None or self.ends is None:
            return start, end
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]

    def original_slice(self, start: int, end: int) -> str:
        """The original text behind normalised span [start, end)."""
        s, e = self.to_original(start, end)
        return self.original[s:e]


@dataclass(frozen=True, slots=True)
class _Tables:
    char_table: dict[int, str]
    expanding: re.Pattern[str] | None
    expansions: dict[str, str]
    filler: re.Pattern[str]
    numeral_run: re.Pattern[str]
    numeral_table: dict[int, str]
    phrases: re.Pattern[str] | None
    phrase_map: dict[str, str]


@cache
def _tables() -> _Tables:
    data = tomllib.loads(resources.files("detectors").joinpath("data/normalization.toml").read_text("utf-8"))
    t2s: dict[str, str] = {}
    for line in resources.files("detectors").joinpath("data/t2s_chars.tsv").read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            trad, simp = line.split("\t")
            t2s[trad] = simp

    def one(ch: str) -> str:
        # NFKC, then traditional -> simplified, then lower-case, then symbol equivalences.
        out = unicodedata.normalize("NFKC", ch)
        out = "".join(t2s.get(c, c) for c in out).lower()
        return "".join(data["chars"].get(c, c) for c in out)

    char_table: dict[int, str] = {}
    expansions: dict[str, str] = {}
    candidates = set(t2s) | set(data["chars"])
    for cp in range(0x20, 0x10000):
        candidates.add(chr(cp))
    for ch in candidates:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            continue
        out = one(ch)
        if out == ch:
            continue
        if len(out) == 1:
            char_table[ord(ch)] = out
        elif len(ch) == 1 and out:
            expansions[ch] = out
    for ch in _INVISIBLE:
        char_table.pop(ord(ch), None)
    expanding = (
        re.compile("[" + "".join(re.escape(c) for c in sorted(expansions)) + "]") if expansions else None
    )

    numerals = data["numeral_digits"]
    numeral_chars = "".join(re.escape(c) for c in numerals["map"])
    numeral_run = re.compile(f"[{numeral_chars}]{{{int(numerals['min_run'])},}}")
    numeral_table = {ord(k): v for k, v in numerals["map"].items()}

    # Separators inserted to split words: whitespace and decorative symbols between two CJK
    # characters, whitespace between two digits, and invisible characters anywhere.
    deco = r"\s\u3000·•∙⋅*_~|/\\♡♥❤★☆✦✧◆◇○●◎□■▲△▼▽→←"
    filler = re.compile(
        f"(?<=[{_CJK}])[{deco}]+(?=[{_CJK}])"
        r"|(?<=[0-9])[ \t\u3000]+(?=[0-9])"
        f"|[{_INVISIBLE}]+"
    )

    phrase_map = {one_text(k, char_table): v for k, v in data["phrases"].items()}
    alts = []
    for key in sorted(phrase_map, key=len, reverse=True):
        pat = re.escape(key)
        if key[0].isascii() and key[0].isalpha():
            pat = "(?<![a-z])" + pat
        if key[-1].isascii() and key[-1].isalpha():
            pat = pat + "(?![a-z])"
        alts.append(pat)
    phrases = re.compile("|".join(alts)) if alts else None
    return _Tables(char_table, expanding, expansions, filler, numeral_run, numeral_table, phrases, phrase_map)


def one_text(text: str, char_table: dict[int, str]) -> str:
    return text.translate(char_table)


def normalize(original: str) -> NormalizedText:
    """Normalise `original` for matching, keeping the offset map back to it."""
    tb = _tables()
    text = original.translate(tb.char_table)
    starts: list[int] | None = None
    ends: list[int] | None = None

    if tb.expanding is not None and tb.expanding.search(original):
        text, starts, ends = _apply(text, starts, ends, tb.expanding, lambda m: tb.expansions[m.group()], original)
        # The expanded characters were computed from the raw char; re-run the 1:1 table on them.
        text = text.translate(tb.char_table)

    if tb.filler.search(text):
        text, starts, ends = _apply(text, starts, ends, tb.filler, lambda m: "", original)

    if tb.numeral_run.search(text):
        # Same length replacement: offsets are unchanged.
        text = tb.numeral_run.sub(lambda m: m.group().translate(tb.numeral_table), text)

    if tb.phrases is not None and tb.phrases.search(text):
        text, starts, ends = _apply(text, starts, ends, tb.phrases, lambda m: tb.phrase_map[m.group()], original)

    if starts is None or ends is None:
        return NormalizedText(original, text)
    return NormalizedText(original, text, tuple(starts), tuple(ends))


def _apply(text, starts, ends, pattern, replace, original):  # type: ignore[no-untyped-def]
    """Apply `pattern` -> `replace(match)` to text, carrying the original-offset arrays along."""
    if starts is None:
        starts = list(range(len(text)))
        ends = list(range(1, len(text) + 1))
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    pos = 0
    for m in pattern.finditer(text):
        a, b = m.span()
        out.append(text[pos:a])
        new_starts.extend(starts[pos:a])
        new_ends.extend(ends[pos:a])
        rep = replace(m)
        if rep:
            # Every replacement character maps to the whole original span it replaced.
            span_start = starts[a] if a < len(starts) else len(original)
            span_end = ends[b - 1] if b > a else span_start
            out.append(rep)
            new_starts.extend([span_start] * len(rep))
            new_ends.extend([span_end] * len(rep))
        pos = b
    out.append(text[pos:])
    new_starts.extend(starts[pos:])
    new_ends.extend(ends[pos:])
    return "".join(out), new_starts, new_ends


@cache
def normalize_pattern(pattern: str) -> str:
    """Normalise a lexicon pattern exactly as posting text is normalised."""
    return normalize(pattern).text


def warm_up() -> None:
    """Build the tables now (about 0.1 s) rather than on the first record."""
    _tables()


if __name__ == "__main__":  # pragma: no cover - manual inspection aid
    for arg in sys.argv[1:]:
        print(normalize(arg).text)
