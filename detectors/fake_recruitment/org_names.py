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


# Places that say nothing of where an enterprise is registered (中国XX集团).
_NATIONAL = frozenset({"中国", "中华"})


@lru_cache(maxsize=4096)
def name_places(name: str) -> frozenset[str]:
    """The places a name is registered under: leading (上海江海…) and bracketed ((南通)), without 省/市."""
    parts = _parts()
    text = normalize(name).text
    found = {m.group(0)[1:-1] for m in _BRACKETED.finditer(text)}
    text = _NOISE.sub("", _BRACKETED.sub("", text))
    pos = 0
    while (m := parts.place_re.match(text, pos)) is not None and m.end() > pos:
        found.add(m.group(0))
        pos = m.end()
    places = set()
    for p in found:
        core = parts.place_re.match(p)
        if core is not None:
            places.add(_ADMIN.sub("", core.group(0)))
    return frozenset(places - _NATIONAL)


_ADMIN = re.compile(r"(?:特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|新区|省|市|区|县)$")


# A complete legal name (行政区划 + 字号 + 行业 + 组织形式) ends with one of these; 有限责任公司 and
# 股份有限公司 are commonly written 有限公司, so the form itself is not compared. A branch or office is
# named after its parent and is not compared strictly.
_LEGAL_FORM = re.compile(r"(?:股份有限公司|有限责任公司|有限公司)$")
_BRANCH = re.compile(r"分公司|办事处|分厂|分店|营业部|门店|分部")


@lru_cache(maxsize=4096)
def full_core(name: str) -> str | None:
    """For a complete legal name, the name without places, brackets and the 有限(责任)公司 ending but with
    its trade name, industry and 集团/股份 kept; None for a short or branch name."""
    parts = _parts()
    text = _NOISE.sub("", _BRACKETED.sub("", normalize(name).text))
    m = _LEGAL_FORM.search(text)
    if m is None or _BRANCH.search(text):
        return None
    text = text[: m.start()]
    stripped = False
    while (p := parts.place_re.match(text)) is not None and len(text) - p.end() >= 2:
        text = text[p.end() :]
        stripped = True
    if stripped and (d := _DISTRICT.match(text)) is not None and len(text) - d.end() >= 2:
        text = text[d.end() :]
    return text or None


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
        # A trade name shared by enterprises registered in different places, whose names differ
        # beyond it (上海江海国际精工集团 / 南通江海精密机械): another enterprise, or one made up.
        if same and ta != tb:
            pa, pb = name_places(posted), name_places(registered)
            if pa and pb and not pa & pb:
                same = False
    else:
        same = ratio >= parts.core_ratio
    if same:
        # Two complete legal names denote one enterprise only when they agree word for word beyond
        # place and brackets: an added 集团 or industry word (星辰科技 / 星辰网络科技) is another
        # registered name, whoever holds it.
        fa, fb = full_core(posted), full_core(registered)
        if fa is not None and fb is not None and fa != fb:
            same = False
    return NameComparison(same, a, b, ratio)
