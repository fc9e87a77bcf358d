"""Context cues around identifiers: who a number belongs to (employer or third person) and what it labels, from one Aho-Corasick pass."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cache
from typing import Any

import ahocorasick

from detectors.lexicon import load_toml
from detectors.normalize import NormalizedText, normalize_pattern

PACKAGE = "detectors.personal_data"

# Cue classes. Attribution: EMPLOYER, PERSON, ROSTER. Labels: what kind of number follows.
EMPLOYER, PERSON, ROSTER = "employer", "person", "roster"
# Generic person nouns and life events (attribute only next to a name or in the number's clause);
# person-record form fields (attribute only when a value follows).
NOUN, EVENT, FIELD = "person.noun", "person.event", "person.field"
# Misconduct told of a person ("放鸽子", "私自带走"): an event, and with a specific person in the
# same sentence a story about that person. Pronouns (她/他) are such a specific person, never a
# holder on their own; roles (骑手, 学徒) are the job advertised unless a former-post word or a
# demonstrative makes them a person ("前骑手", "这个学徒"), and then they are PERSON cues.
MISCONDUCT, PRONOUN, ROLE = "person.misconduct", "person.pronoun", "person.role"
GENERIC = frozenset({NOUN, EVENT, MISCONDUCT})
THIRD = frozenset({PERSON, NOUN, EVENT, MISCONDUCT, FIELD, ROSTER})
ID_LABEL, CARD_LABEL, PAYMENT, PASSPORT_LABEL, NOT_PERSONAL = (
    "label.resident_id",
    "label.bank_card",
    "label.payment",
    "label.passport",
    "label.not_personal",
)
ATTRIBUTION = frozenset({EMPLOYER, PERSON, NOUN, EVENT, MISCONDUCT, FIELD, ROSTER})
# Cues a former-post word or a demonstrative before them turns into a person (employer words only
# when they are roles too: "原负责人", not "之前的招聘电话").
_PERSON_CAPABLE = frozenset({NOUN, ROLE})

# Sentence ends in normalised text (NFKC has already folded full-width ！？ to ASCII). A semicolon
# separates items of one list ("联系人：张伟 138…；李娜 139…"), so it does not end the cue's reach.
_SENTENCE_END = re.compile(r"[。!?\n]")


def line_breaks(nt: NormalizedText) -> list[int]:
    """Normalised positions where the original had a line break the normaliser removed.

    The normaliser drops whitespace between two CJK characters, newlines included ("502室\n李四"
    becomes "502室李四"); list entries must still end where their line ends.
    """
    if nt.starts is None or "\n" not in nt.original:
        return []
    out = []
    starts, text, original = nt.starts, nt.text, nt.original
    p = original.find("\n")
    while p >= 0:
        j = bisect_left(starts, p)
        if 0 < j < len(text) and text[j] != "\n" and text[j - 1] != "\n":
            out.append(j)
        p = original.find("\n", p + 1)
    return out


@cache
def lexicon() -> dict[str, Any]:
    """The personal_data lexicon (lexicon.toml)."""
    return load_toml(PACKAGE, "lexicon.toml")


@cache
def _automaton() -> ahocorasick.Automaton:
    """All cue words in one Aho-Corasick automaton: normalised word -> (length, kinds)."""
    lx = lexicon()
    att, labels = lx["attribution"], lx["labels"]
    groups = [
        (att["employer"], EMPLOYER),
        (att["person"], PERSON),
        (att["person_nouns"], NOUN),
        (att["person_events"], EVENT),
        (att["person_misconduct"], MISCONDUCT),
        (att["pronouns"], PRONOUN),
        (att["roles"], ROLE),
        (att["person_fields"], FIELD),
        (att["roster"], ROSTER),
        (labels["resident_id"], ID_LABEL),
        (labels["bank_card"], CARD_LABEL),
        (labels["payment"], PAYMENT),
        (labels["passport"], PASSPORT_LABEL),
        (labels["travel_permit"], PASSPORT_LABEL),
        (labels["not_personal"], NOT_PERSONAL),
    ]
    kinds: dict[str, set[str]] = {}
    for words, kind in groups:
        for w in words:
            kinds.setdefault(normalize_pattern(w), set()).add(kind)
    automaton = ahocorasick.Automaton()
    for word, ks in kinds.items():
        automaton.add_word(word, (len(word), frozenset(ks)))
    automaton.make_automaton()
    return automaton


@cache
def _name_just_before() -> re.Pattern[str]:
    surnames = lexicon()["attribution"]["surnames"]
    # "程畅入职", "宋阳已顺利入职", "应聘者田梅约好面试" (a name, then at most a few words)
    return re.compile(rf"(?:^|[^\u4e00-\u9fff]|[:,])[{surnames}][\u4e00-\u9fff]{{1,2}}(?:已经|已|又|曾|顺利|已顺利)?$")


@cache
def _specific_person() -> tuple[re.Pattern[str], re.Pattern[str], frozenset[str]]:
    """Patterns for the text right before a cue: a former-post word ("原", "之前的") or a demonstrative ("这个")."""
    att = lexicon()["attribution"]
    former = sorted((normalize_pattern(w) for w in att["former"]), key=len, reverse=True)
    single = [w for w in former if len(w) == 1]
    longer = [w for w in former if len(w) > 1]
    not_after = re.escape(att["former_not_after"])
    alts = [re.escape(w) for w in longer]
    if single:
        alts.append(f"(?<![{not_after}])[{''.join(map(re.escape, single))}]")
    former_re = re.compile(f"(?:{'|'.join(alts)})$")
    demo = "|".join(re.escape(normalize_pattern(w)) for w in sorted(att["demonstratives"], key=len, reverse=True))
    # A demonstrative, then at most three characters of description ("这个前端候选人"), then the noun;
    # not a time, a post or a place between ("这个月员工").
    not_between = re.escape(att["demonstrative_not_between"])
    demonstrative = re.compile(rf"(?:{demo})(?:(?![{not_between}])[\u4e00-\u9fffa-z0-9]){{0,3}}$")
    return former_re, demonstrative, frozenset(normalize_pattern(w) for w in att["pronoun_words"])


@cache
def _longest_cue() -> int:
    lx = lexicon()
    words = [
        w for group in (*lx["attribution"].values(), *lx["labels"].values()) if isinstance(group, list) for w in group
    ]
    return max(len(normalize_pattern(w)) for w in words)


@cache
def _addressee() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    att = lexicon()["attribution"]
    after = "|".join(re.escape(normalize_pattern(w)) for w in sorted(att["addressee_after"], key=len, reverse=True))
    before = "|".join(re.escape(normalize_pattern(w)) for w in sorted(att["addressee_before"], key=len, reverse=True))
    surnames = att["surnames"]
    # A form field holds a value: "姓名:", "身份证号 1101…", "姓名张三" — not "请携带身份证原件".
    value = re.compile(rf"(?:号码|号|编号)?\s*(?::|[0-9]|[{surnames}])")
    # A noun naming its holder: "员工张伟", "求职者:李娜".
    named = re.compile(rf"\s*:?\s*[{surnames}][\u4e00-\u9fff]")
    return re.compile(f"(?:{after})"), re.compile(f"(?:{before})"), value, named


@cache
def _entry_name_after() -> re.Pattern[str]:
    """A full name right after a noun, closed by a bracket, a separator or a contact field: "请候选人
    周雨桐（手机…" names one person, whatever the 请 before makes of the noun."""
    surnames = lexicon()["attribution"]["surnames"]
    return re.compile(rf"[{surnames}][\u4e00-\u9fff]{{1,2}}(?=[(:,\s]|手机|电话|邮箱|微信|qq)")


@cache
def _request_then_name() -> re.Pattern[str]:
    """请 and a full name right before a person noun ("请张佳慧同学")."""
    surnames = lexicon()["attribution"]["surnames"]
    return re.compile(rf"请([{surnames}][\u4e00-\u9fff]{{1,2}})$")


@dataclass(frozen=True, slots=True)
class Cue:
    start: int
    end: int
    phrase: str
    kinds: frozenset[str]


class CueIndex:
    """Cues of one normalised field, longest match kept where cues overlap, searchable around a position.

    The text is scanned lazily, block by block, only where a query looks: a posting holds a few
    identifiers at most, and matching 260 cue words over a whole 450-character posting would cost
    more than the rest of detection.
    """

    __slots__ = ("_bounds", "_covered", "_decided", "_ends", "_nt", "_raw", "cues", "text")

    def __init__(self, nt: NormalizedText) -> None:
        self.text = nt.text
        self._nt = nt
        self._raw: dict[tuple[int, int], frozenset[str]] = {}
        self._decided: dict[tuple[int, int], frozenset[str]] = {}
        self._covered: list[tuple[int, int]] = []
        self._bounds: tuple[list[int], list[int]] | None = None
        self.cues: list[Cue] = []
        self._ends: list[int] = []

    def _ensure(self, lo: int, hi: int) -> None:
        """Scan text[lo:hi] unless an earlier scan already covered it."""
        lo, hi = max(0, lo), min(len(self.text), hi)
        if lo >= hi or any(a <= lo and hi <= b for a, b in self._covered):
            return
        overlap = _longest_cue() - 1  # so a cue straddling the edge is seen whole
        a, z = max(0, lo - overlap), hi + overlap
        new = False
        raw = self._raw
        for end_index, (length, kinds) in _automaton().iter(self.text[a:z]):
            key = (a + end_index + 1 - length, a + end_index + 1)
            if key not in raw:
                raw[key] = kinds
                new = True
        self._covered.append((lo, hi))
        if new:
            self._rebuild()

    def prefetch(self, regions: list[tuple[int, int]]) -> None:
        """Scan these regions now, merged, so that later queries inside them cost no further scan."""
        merged: list[tuple[int, int]] = []
        for lo, hi in sorted(regions):
            if merged and lo <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        for lo, hi in merged:
            self._ensure(lo, hi)

    def _rebuild(self) -> None:
        # Longest wins: drop a cue lying inside a longer one ("联系人" inside "紧急联系人").
        kept: list[Cue] = []
        reach = -1
        for s, e in sorted(self._raw, key=lambda se: (se[0], -(se[1] - se[0]))):
            if e <= reach:
                continue
            kinds = self._decided.get((s, e))
            if kinds is None:
                kinds = self._decided[(s, e)] = self._kinds(s, e, self._raw[(s, e)])
            reach = e
            if kinds:
                kept.append(Cue(s, e, self.text[s:e], kinds))
        kept.sort(key=lambda c: c.end)
        self.cues = kept
        self._ends = [c.end for c in kept]

    def _kinds(self, s: int, e: int, kinds: frozenset[str]) -> frozenset[str]:
        """The kinds a matched cue keeps in its context (an addressee noun, an empty form field drop out;
        a former post or a demonstrative makes a role a person; 其他 and 她们 are no pronouns)."""
        if kinds & _PERSON_CAPABLE:
            former, demonstrative, _ = _specific_person()
            text = self.text
            if former.search(text, max(0, s - 4), s) is not None:
                return frozenset({PERSON})  # "原负责人苏晴", "前骑手宋凯": a former holder of the post
            if EMPLOYER not in kinds and demonstrative.search(text, max(0, s - 5), s) is not None:
                return frozenset({PERSON})  # "这个前端候选人", "这位学徒" (not "这位师傅": a recruiter too)
            kinds = kinds - {ROLE}
        if PRONOUN in kinds:
            words = _specific_person()[2]
            if self.text[max(0, s - 1) : s + 1] in words or self.text[e - 1 : e + 1] in words:
                kinds = kinds - {PRONOUN}  # 其他, 她们, 他人
        drop = set()
        for generic in kinds & GENERIC:
            if self._is_addressee(s, e) and not self._names_someone(s, e):
                drop.add(generic)
        if FIELD in kinds and _addressee()[2].match(self.text, e) is None:
            drop.add(FIELD)
        return kinds - drop if drop else kinds

    def _names_someone(self, s: int, e: int) -> bool:
        """An addressee-looking noun that names one person: "请候选人周雨桐（手机…", "请张佳慧同学（…"."""
        if _entry_name_after().match(self.text, e) is not None:
            return True
        m = _request_then_name().search(self.text, max(0, s - 4), s)
        return m is not None and _addressee()[1].search(m.group(1)) is None  # not "请全体同学"

    def scan(self, lo: int, hi: int) -> list[Cue]:
        """The cues lying inside text[lo:hi]."""
        self._ensure(lo, hi)
        return [c for c in self.cues if c.start >= lo and c.end <= hi]

    def _is_addressee(self, s: int, e: int) -> bool:
        after, before, _, _ = _addressee()
        return after.match(self.text, e) is not None or before.search(self.text, max(0, s - 6), s) is not None

    def names_holder(self, cue: Cue) -> bool:
        """True when a full name follows the cue ("员工张伟", "求职者:李娜"), or precedes it ("程畅入职")."""
        _, _, _, named = _addressee()
        if named.match(self.text, cue.end) is not None:
            return True
        return _name_just_before().search(self.text, max(0, cue.start - 7), cue.start) is not None

    def sentence_span(self, start: int, end: int) -> tuple[int, int]:
        """The sentence (or list line) around [start, end): after the previous sentence end, up to the next one."""
        if self._bounds is None:
            sentence_ends = [m.start() for m in _SENTENCE_END.finditer(self.text)]
            breaks = line_breaks(self._nt)
            # A sentence end at k: the sentence stops at k and the next starts at k + 1; a removed
            # line break at j: both at j.
            self._bounds = (
                sorted([*sentence_ends, *breaks]),
                sorted([*(k + 1 for k in sentence_ends), *breaks]),
            )
        stops, opens = self._bounds
        i = bisect_right(opens, start)
        lo = opens[i - 1] if i else 0
        j = bisect_left(stops, end)
        hi = stops[j] if j < len(stops) else len(self.text)
        return lo, hi

    def before(self, pos: int, kinds: frozenset[str], *, window: int, same_sentence: bool = True) -> list[Cue]:
        """Cues of the given kinds ending at or before `pos`, within `window` characters, nearest first."""
        floor = max(0, pos - window)
        if same_sentence:
            floor = max(floor, self.sentence_span(pos, pos)[0])
        self._ensure(floor, pos)
        out = []
        i = bisect_right(self._ends, pos) - 1
        while i >= 0 and self.cues[i].end >= floor:
            c = self.cues[i]
            if c.start >= floor and c.kinds & kinds:
                out.append(c)
            i -= 1
        return out

    def nearest(self, pos: int, kinds: frozenset[str], *, window: int, same_sentence: bool = True) -> Cue | None:
        """The nearest cue of the given kinds before `pos`, or None."""
        found = self.before(pos, kinds, window=window, same_sentence=same_sentence)
        return found[0] if found else None

    def after(self, pos: int, kinds: frozenset[str], *, window: int) -> Cue | None:
        """The first cue of the given kinds starting at or after `pos`, within `window` and the same sentence."""
        limit = min(pos + window, self.sentence_span(pos, pos)[1])
        self._ensure(pos, limit)
        i = bisect_left(self._ends, pos)
        while i < len(self.cues) and self.cues[i].start < limit:
            c = self.cues[i]
            if c.start >= pos and c.end <= limit and c.kinds & kinds:
                return c
            i += 1
        return None
