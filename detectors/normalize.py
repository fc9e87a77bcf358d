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
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

# Characters that are pure noise anywhere: zero-width, variation selectors, and the combining keycap
# of emoji digits (4️⃣5️⃣ is "4", U+FE0F, U+20E3, "5", …: the digits stay, 45).
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\ufe0e\ufe0f\u20e3"


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A normalised view of `original`; `starts[i]`/`ends[i]` give the original span of text[i]."""

    original: str
    text: str
    # None: identity mapping (same length, char i <- char i). Arrays of machine integers, not
    # tuples: built by slicing (memcpy) instead of one int object per character.
    starts: Sequence[int] | None = None
    ends: Sequence[int] | None = None

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
    char_map: dict[str, str]
    char_keys: frozenset[str]
    expanding: re.Pattern[str] | None
    expansions: dict[str, str]
    expansion_keys: frozenset[str]
    special: re.Pattern[str]
    filler: re.Pattern[str]
    joined_filler: re.Pattern[str]
    numeral_run: re.Pattern[str]
    numeral_table: dict[int, str]
    phrases: re.Pattern[str] | None
    phrase_map: dict[str, str]


# CJK ideographs (as `_is_cjk`) and ASCII digits: the only neighbours a separator can be removed between.
_JOINABLE = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0003134f0-9"


def _char_class(chars: set[str]) -> str:
    """A regex character class for `chars`, with every astral character folded into one range.

    The regex compiler turns BMP characters into a lookup table but tests astral ones one by one,
    so a class naming 1,400 astral characters costs ~0.15 µs a character of text scanned; the one
    range costs nothing, and callers look the few astral characters found up in their table.
    """
    bmp = "".join(re.escape(c) for c in sorted(chars) if ord(c) <= 0xFFFF)
    return f"[{bmp}\U00010000-\U0010ffff]"


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
    # Mathematical alphanumerics (𝟏𝟑𝟖, 𝐀) and enclosed forms evaders paste from symbol pickers.
    for cp in (*range(0x1D400, 0x1D800), *range(0x1F100, 0x1F1FF)):
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
    expanding = re.compile("[" + "".join(re.escape(c) for c in sorted(expansions)) + "]") if expansions else None

    numerals = data["numeral_digits"]
    numeral_chars = "".join(re.escape(c) for c in numerals["map"])
    # One numeral, then the rest of the run: a pattern that opens with a character class lets the
    # regex engine skip to the next candidate instead of trying every position.
    numeral_run = re.compile(f"[{numeral_chars}][{numeral_chars}]{{{int(numerals['min_run']) - 1},}}")
    numeral_table = {ord(k): v for k, v in numerals["map"].items()}

    # Separators inserted to split words: whitespace and decorative symbols between two CJK
    # characters, whitespace between two digits, and invisible characters anywhere. The pattern
    # finds candidate runs; `_filler_edits` checks their neighbours (a lookbehind-led regex is
    # several times slower on long texts).
    # Pictographic emoji (🔥💰📞) are decoration too; the prohibition signs among them were already
    # folded to ✗ by the character table, so they are not in this range any more.
    # Whitespace is spelled out (every character `\s` matches) rather than written `\s`: the regex
    # compiler folds listed characters into one lookup table, a category is a second test per character.
    spaces = re.escape("".join(c for c in map(chr, range(0x10000)) if c.isspace()))
    # Game-piece pictographs (🀄🃏, U+1F000-1F0FF) are decoration as well (汉🀄族).
    deco = spaces + r"\u3000·•∙⋅*_~|/\\♡♥❤★☆✦✧◆◇○●◎□■▲△▼▽→←\U0001F000-\U0001F0FF\U0001F300-\U0001FAFF"
    filler = re.compile(f"[{deco}{_INVISIBLE}][{deco}{_INVISIBLE}]*")
    # Without invisible characters only runs between two CJK characters or digits can go: a run is
    # found from its first character (a fast scan), kept when the character before it and the one
    # after it are joinable; the neighbour rules proper stay in `_filler_matches`.
    joined_filler = re.compile(f"[{deco}](?<=[{_JOINABLE}][{deco}])[{deco}]*(?=[{_JOINABLE}])")

    # Follow chains so that every value is final: then replacing characters one kind at a time
    # gives the same result in any order.
    for key, value in list(char_table.items()):
        seen = {key}
        while ord(value) in char_table and ord(value) not in seen:
            seen.add(ord(value))
            value = char_table[ord(value)]
        char_table[key] = value
    char_map = {chr(k): v for k, v in char_table.items()}
    # `normalize` finds the characters to replace and the invisible ones in one scan of the original
    # text, before the expansions: right only while no expansion yields a character to replace or
    # an invisible one, and no replacement yields an invisible one.
    expanded = {c for v in expansions.values() for c in v}
    if expanded & {*char_map, *_INVISIBLE} or {*char_map.values(), *expansions} & set(_INVISIBLE):
        raise ValueError("normalisation tables: an expansion or replacement yields a character to replace again")

    phrase_map = {k.translate(char_table): v for k, v in data["phrases"].items()}
    # Plain alternation (longest first) so the regex engine can scan for first characters;
    # Latin-letter boundaries are checked in `_phrase_edits`.
    alts = "|".join(re.escape(k) for k in sorted(phrase_map, key=len, reverse=True))
    phrases = re.compile(alts) if alts else None
    return _Tables(
        char_map,
        frozenset(char_map),
        expanding,
        expansions,
        frozenset(expansions),
        re.compile(_char_class({*char_map, *expansions, *_INVISIBLE})),
        filler,
        joined_filler,
        numeral_run,
        numeral_table,
        phrases,
        phrase_map,
    )


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x3134F


def _translate(text: str, present: set[str], tb: _Tables) -> str:
    """The 1:1 character table applied to text, given the characters of text to replace; replacing
    each distinct character present is about twice as fast as str.translate with a dict."""
    for ch in present:
        text = text.replace(ch, tb.char_map[ch])
    return text


def _filler_matches(text: str, tb: _Tables, invisible: bool) -> list[tuple[int, int]]:
    """Spans of separator runs to delete: between CJK characters, whitespace between digits, invisibles."""
    spans = []
    n = len(text)
    # A realistic posting has ~18 whitespace runs, nearly all after punctuation: without invisible
    # characters, the regex passes over every run that has no joinable character on both sides.
    for m in (tb.filler if invisible else tb.joined_filler).finditer(text):
        a, b = m.span()
        run = m.group()
        if a > 0 and b < n:
            left, right = text[a - 1], text[b]
            # A line break inside a word (`限汉\n族`) is a separator; a bulleted list item is not.
            if _is_cjk(left) and _is_cjk(right) and not ("\n" in run and run.strip()):
                spans.append((a, b))
                continue
            if left.isdigit() and right.isdigit() and left.isascii() and right.isascii() and not run.strip(" \t\u3000"):
                spans.append((a, b))
                continue
        if invisible:
            # Invisible characters go wherever they are.
            for i, ch in enumerate(run, a):
                if ch in _INVISIBLE:
                    spans.append((i, i + 1))
    return spans


def _phrase_matches(text: str, tb: _Tables) -> list[tuple[int, int]]:
    """Spans of evasion phrases; a Latin phrase must not touch other Latin letters."""
    assert tb.phrases is not None
    spans: list[tuple[int, int]] = []
    pos = 0
    while True:
        m = tb.phrases.search(text, pos)
        if m is None:
            return spans
        a, b = m.span()
        key = m.group()
        bad_left = key[0].isascii() and key[0].isalpha() and a > 0 and "a" <= text[a - 1] <= "z"
        bad_right = key[-1].isascii() and key[-1].isalpha() and b < len(text) and "a" <= text[b] <= "z"
        if bad_left or bad_right:
            pos = a + 1
            continue
        spans.append((a, b))
        pos = b


def normalize(original: str) -> NormalizedText:
    """Normalise `original` for matching, keeping the offset map back to it."""
    tb = _tables()
    starts: array[int] | None = None
    ends: array[int] | None = None
    text = original
    # Every character to expand, replace or drop, found in one scan (astral ones through a range).
    present = set(tb.special.findall(original))
    if tb.expanding is not None and not present.isdisjoint(tb.expansion_keys):
        # Characters whose NFKC form is longer than one (①⑩ → 10, … → ...) need the offset map.
        spans = [m.span() for m in tb.expanding.finditer(original)]
        text, starts, ends = _apply(text, starts, ends, spans, lambda a, b: tb.expansions[original[a:b]])
    text = _translate(text, present & tb.char_keys, tb)

    spans = _filler_matches(text, tb, not present.isdisjoint(_INVISIBLE))
    if spans:
        text, starts, ends = _apply(text, starts, ends, spans, lambda a, b: "")

    if tb.numeral_run.search(text):
        # Same length replacement: offsets are unchanged.
        text = tb.numeral_run.sub(lambda m: m.group().translate(tb.numeral_table), text)

    if tb.phrases is not None:
        spans = _phrase_matches(text, tb)
        if spans:
            snapshot = text
            text, starts, ends = _apply(text, starts, ends, spans, lambda a, b: tb.phrase_map[snapshot[a:b]])

    if starts is None or ends is None:
        return NormalizedText(original, text)
    return NormalizedText(original, text, starts, ends)


# 0, 1, 2, …: the offset map of a text not yet changed, sliced rather than built for each text.
_IDENTITY = array("q", range(1 << 14))


def _identity(n: int) -> array[int]:
    """`_IDENTITY`, grown to hold at least 0 … n."""
    global _IDENTITY
    if n >= len(_IDENTITY):
        _IDENTITY = array("q", range(max(n + 1, 2 * len(_IDENTITY))))
    return _IDENTITY


def _apply(
    text: str,
    starts: array[int] | None,
    ends: array[int] | None,
    spans: list[tuple[int, int]],
    replace: Callable[[int, int], str],
) -> tuple[str, array[int], array[int]]:
    """Replace each span [a, b) of text by replace(a, b), carrying the original-offset arrays along."""
    if starts is None or ends is None:
        # Without a map yet, character i came from original i: start i, end i + 1, both read
        # from the identity array (ends one place further on).
        identity = _identity(len(text))
        old_starts, old_ends, shift = identity, identity, 1
    else:
        old_starts, old_ends, shift = starts, ends, 0
    out: list[str] = []
    new_starts = array("q")
    new_ends = array("q")
    pos = 0
    for a, b in spans:
        out.append(text[pos:a])
        new_starts += old_starts[pos:a]
        new_ends += old_ends[pos + shift : a + shift]
        rep = replace(a, b)
        if rep:
            # Every replacement character maps to the whole original span it replaced.
            out.append(rep)
            new_starts += array("q", (old_starts[a],)) * len(rep)
            new_ends += array("q", (old_ends[b - 1 + shift],)) * len(rep)
        pos = b
    out.append(text[pos:])
    n = len(text)
    new_starts += old_starts[pos:n]
    new_ends += old_ends[pos + shift : n + shift]
    return "".join(out), new_starts, new_ends


@cache
def normalize_pattern(pattern: str) -> str:
    """Normalise a lexicon pattern exactly as posting text is normalised."""
    return normalize(pattern).text


def sources(ch: str) -> frozenset[str] | None:
    """Every character of an original text that can put `ch` into its normalised text, or None when
    normalisation also makes `ch` out of other text (a digit of a numeral run, a character of the
    word an evasion phrase stands for), so that no one character of the original is needed for it."""
    made, into = _sources()
    if ch in made:
        return None
    return into.get(ch, frozenset()) | {ch}


@cache
def _sources() -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    tb = _tables()
    made = frozenset({c for v in tb.phrase_map.values() for c in v} | set(tb.numeral_table.values()))
    into: dict[str, set[str]] = {}
    for k, v in tb.char_map.items():
        into.setdefault(v, set()).add(k)
    for k, v in tb.expansions.items():
        for c in v:
            into.setdefault(c, set()).add(k)
    return made, {c: frozenset(ks) for c, ks in into.items()}


def warm_up() -> None:
    """Build the tables now (about 0.1 s) rather than on the first record."""
    _tables()


if __name__ == "__main__":  # pragma: no cover - manual inspection aid
    for arg in sys.argv[1:]:
        print(normalize(arg).text)
