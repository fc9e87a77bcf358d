"""Organisation-name comparison: strip place, legal form and industry from Chinese company names, then compare what is left."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from rapidfuzz import fuzz

from detectors.lexicon import load_toml
from detectors.normalize import normalize, normalize_pattern

PACKAGE = "detectors.fake_recruitment"
# Brackets and what they hold when short: (深圳), （中国）, [有限合伙].
_BRACKETED = re.compile(r"[(\[【（〔][^)\]】）〕]{0,8}[)\]】）〕]")
_DISTRICT = re.compile(r"[\u4e00-\u9fff]{1,3}?(?:新区|区|县|镇)")
_NOISE = re.compile(r"[\s·•.,，、\-_'\"“”‘’()\[\]（）【】〔〕]+")


@dataclass(frozen=True, slots=True)
class _Parts:
    suffixes: dict[str, tuple[str, ...]]  # by last character, longest first
    industries: dict[str, tuple[str, ...]]
    place_re: re.Pattern[str]
    place_end_re: re.Pattern[str]
    core_ratio: float
    trade_ratio: float


@cache
def _parts() -> _Parts:
    data = load_toml(PACKAGE, "org_names.toml")

    def longest_first(words: list[str]) -> tuple[str, ...]:
        return tuple(sorted({normalize_pattern(w) for w in words}, key=len, reverse=True))

    def by_last(words: list[str]) -> dict[str, tuple[str, ...]]:
        # Only words ending in a name's last character can be stripped from it: 160 industry words
        # tried one by one cost ~40 µs a name.
        index: dict[str, list[str]] = {}
        for w in longest_first(words):
            if w:
                index.setdefault(w[-1], []).append(w)
        return {c: tuple(ws) for c, ws in index.items()}

    places = "|".join(re.escape(p) for p in longest_first(data["places"]))
    admin = "|".join(re.escape(a) for a in longest_first(data["admin_suffixes"]))
    return _Parts(
        suffixes=by_last(data["suffixes"]),
        industries=by_last(data["industries"]),
        place_re=re.compile(f"(?:{places})(?:{admin})?"),
        place_end_re=re.compile(f"(?:{places})(?:{admin})?$"),
        core_ratio=float(data["core_ratio"]),
        trade_ratio=float(data["trade_ratio"]),
    )


def _strip_end(text: str, words: dict[str, tuple[str, ...]], keep: int = 2) -> str:
    """Strip any of `words` (by last character) from the end, repeatedly, keeping at least `keep` characters."""
    changed = True
    while changed and text:
        changed = False
        for w in words.get(text[-1], ()):
            if text.endswith(w) and len(text) - len(w) >= keep:
                text = text[: -len(w)]
                changed = True
                break
    return text


@lru_cache(maxsize=4096)
def name_core(name: str) -> tuple[str, str]:
    """(core, trade name): the name without places and legal form, and that core without industry words."""
    parts = _parts()
    text = normalize(name).text
    text = _BRACKETED.sub("", text)
    text = _NOISE.sub("", text)
    text = _strip_end(text, parts.suffixes)
    # A branch name ends with the branch's place after the parent's legal form: strip both.
    while True:
        m = parts.place_end_re.search(text)
        if m is None or m.start() < 2:
            break
        text = _strip_end(text[: m.start()], parts.suffixes)
    # Leading places (广东省深圳市…), possibly several, and a district after them (南山区).
    stripped = False
    while True:
        m = parts.place_re.match(text)
        if m is None or len(text) - m.end() < 2:
            break
        text = text[m.end() :]
        stripped = True
    if stripped:
        m = _DISTRICT.match(text)
        if m is not None and len(text) - m.end() >= 2:
            text = text[m.end() :]
    core = text
    trade = _strip_end(core, parts.industries)
    return core, trade


@dataclass(frozen=True, slots=True)
class NameComparison:
    same: bool
    posted_core: str
    registered_core: str
    ratio: float


def compare_names(posted: str, registered: str) -> NameComparison:
    """Whether a posting's employer name and a registered name denote the same organisation."""
    parts = _parts()
    a, ta = name_core(posted)
    b, tb = name_core(registered)
    if not a or not b:
        return NameComparison(True, a, b, 100.0)
    ratio = fuzz.ratio(a, b)
    if a == b or (min(len(a), len(b)) >= 2 and (a in b or b in a)):
        same = True
    elif min(len(ta), len(tb)) >= 2:
        # Both have a trade name: it decides (shared industry words say nothing) — but the same trade
        # name in an unrelated industry (晖来安防 / 晖来物业) is another enterprise.
        same = ta in tb or tb in ta or fuzz.ratio(ta, tb) >= parts.trade_ratio
        ia, ib = a[len(ta) :], b[len(tb) :]
        if same and ia and ib and not set(ia) & set(ib):
            same = False
    else:
        same = ratio >= parts.core_ratio
    return NameComparison(same, a, b, ratio)
