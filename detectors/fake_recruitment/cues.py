"""Cue engine for the fake-recruitment text rules: one Aho-Corasick pass per field, clause-aware negation, weighted signals.

Only signal phrases go into the automaton. Everything else (negators, warning words, context groups,
the contact and salary word lists) is looked up lazily, by a precompiled alternation over the few
characters around a hit — so the cost of a posting grows with its cues, not with its length.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

import ahocorasick

from detectors.context import DetectionContext
from detectors.discrimination.vocabulary import vocabulary_anchor_order
from detectors.lexicon import load_toml
from detectors.normalize import NormalizedText, normalize_pattern, sources
from schemas import JobPosting

PACKAGE = "detectors.fake_recruitment"
# Structured fields scanned besides the free text; only signals with `fields = "all"` match there.
STRUCTURED_FIELDS = ("occupation", "location.city", "location.address")
# A money figure: ¥200, 200元, 3k, 1.5万, 两百块.
AMOUNT = (
    r"[¥$]\s*\d+(?:\.\d+)?|\d+(?:\.\d+)?\s*(?:元|块|rmb|万|千|w(?![a-z])|k(?![a-z]))"
    r"|[一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟]+\s*(?:元|块)"
    # a currency sign before Chinese numerals (¥一百八)
    r"|[¥$]\s*[一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟]+"
)
_NEVER = re.compile(r"(?!)")
# 包括但不限于 continues a negated list: its 但 is no reset.
_NOT_LIMITED = "但不限于"


def alternation(phrases: Iterable[str]) -> re.Pattern[str]:
    """A regex for any of the (normalised) phrases, longest first; Latin/digit edges must not continue a word or number."""
    keys = sorted({normalize_pattern(p) for p in phrases if p}, key=len, reverse=True)
    alts = []
    for key in keys:
        pat = re.escape(key)
        if key[0].isascii() and key[0].isalnum():
            # The boundary is checked after the first letter, not before it: with every alternative
            # opening on a plain character the regex engine can skip to candidates (about 10× faster
            # over a posting than trying every position).
            first = re.escape(key[0])
            pat = f"{first}(?<![a-z0-9]{first}){re.escape(key[1:])}"
        if key[-1].isascii() and key[-1].isalnum():
            pat += "(?![a-z0-9])"
        alts.append(pat)
    return re.compile("|".join(alts)) if alts else _NEVER


def group_pattern(words: list[str]) -> str:
    """A context group as one regex: its phrases (alternation), and entries written `re:…` as regular
    expressions over normalised text (for a word only in some uses: 客户 but not 客户经理)."""
    regexes = [w[3:] for w in words if w.startswith("re:")]
    phrases = [w for w in words if not w.startswith("re:")]
    return "|".join([alternation(phrases).pattern] * bool(phrases) + regexes) or _NEVER.pattern


@dataclass(frozen=True, slots=True)
class Signal:
    """One kind of evidence for a rule: its phrases' meaning, weight, context needs and negation mode."""

    rule: str
    name: str
    description: str
    weight: float
    needs: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    unless_sentence: re.Pattern[str] | None = None  # like `unless`, anywhere in the cue's sentence
    after_negators: re.Pattern[str] | None = None
    negation: str = "full"  # full | warning
    window: int = 20
    structured: bool = False
    virtual: str | None = None
    value: float = 0.0
    legal_basis: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleCues:
    name: str
    threshold: float
    requires: tuple[tuple[str, ...], ...]  # each inner tuple: at least one of these signals must count
    signals: tuple[Signal, ...]
    # When one of `yields_to` fires, this rule fires only on one of its `strong` signals.
    yields_to: tuple[str, ...] = ()
    strong: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lexicon:
    rules: dict[str, RuleCues]
    # ahocorasick.Automaton over UTF-8 bytes (as latin-1 characters): pyahocorasick looks edges up by
    # linear search, so a byte alphabet (a few lead bytes at the root) beats ~250 CJK first characters.
    # Value: (byte length, character length, signals, patterns to try where it starts, whether an
    # edge is a Latin letter/digit).
    automaton: Any
    # Matches somewhere in a structured field's original text whenever a signal that may match
    # there (`fields = "all"`) could occur in its normalised text: a character each such phrase
    # needs, and every character normalisation turns into it.
    structured_hint: re.Pattern[str]
    lists: dict[str, re.Pattern[str]]  # "contact.im_only", "salary.lure", "agency.placement", …
    sentence_next: re.Pattern[str]  # the next break at or after a position
    sentence_prev: re.Pattern[str]  # matched from 0: ends just after the last break before a position
    clause_next: re.Pattern[str]
    clause_prev: re.Pattern[str]
    negators_before: re.Pattern[str]
    negators_near: re.Pattern[str]
    negation_resets: re.Pattern[str]
    negators_after: re.Pattern[str]
    adjacent_before: frozenset[str]
    immediately_before: frozenset[str]
    list_separators: tuple[str, ...]
    list_reach: int
    quotes: frozenset[str]  # opening quotation marks
    quote_reach: int  # how far before a cue an opening quote makes it quoted
    adjacent_after: frozenset[str]
    warning: re.Pattern[str]
    before_window: int
    near_window: int
    near_longest: int
    after_window: int


def _requirements(raw: list[Any]) -> tuple[tuple[str, ...], ...]:
    """`requires` as groups: a flat list is one group (any of them), a list of lists is all groups."""
    if raw and all(isinstance(r, str) for r in raw):
        return (tuple(raw),)
    return tuple(tuple(group) for group in raw)


@cache
def lexicon() -> Lexicon:
    """The compiled cue lexicon (lexicon.toml)."""
    data = load_toml(PACKAGE, "lexicon.toml")
    neg, groups = data["negation"], data["groups"]

    def group_re(names: list[str]) -> re.Pattern[str] | None:
        if not names:
            return None
        parts = [AMOUNT if n == "amount" else group_pattern(groups[n]) for n in names]
        return re.compile("|".join(f"(?:{p})" for p in parts))

    automaton = ahocorasick.Automaton()
    rules: dict[str, RuleCues] = {}

    def add(key: str, sig: Signal | None = None, pattern: tuple[re.Pattern[str], Signal] | None = None) -> None:
        encoded = key.encode("utf-8").decode("latin-1")
        ascii_edge = (key[0].isascii() and key[0].isalnum()) or (key[-1].isascii() and key[-1].isalnum())
        length, chars, sigs, pats, _ = automaton.get(encoded, (len(encoded), len(key), (), (), ascii_edge))
        sigs += (sig,) if sig else ()
        pats += (pattern,) if pattern else ()
        automaton.add_word(encoded, (length, chars, sigs, pats, ascii_edge))

    for rule, spec in data["rules"].items():
        signals = []
        for s in spec["signals"]:
            extra = s.get("after_negators", ())
            sig = Signal(
                rule=rule,
                name=s["name"],
                description=s.get("description", s["name"]),
                weight=float(s["weight"]),
                needs=group_re(s.get("needs", [])),
                unless=group_re(s.get("unless", [])),
                unless_sentence=group_re(s.get("unless_sentence", [])),
                after_negators=alternation(extra) if extra else None,
                negation=s.get("negation", "full"),
                window=int(s.get("window", 20)),
                structured=s.get("fields") == "all",
                virtual=s.get("virtual"),
                value=float(s.get("value", 0)),
                legal_basis=tuple(s.get("legal_basis", ())),
            )
            signals.append(sig)
            for phrase in s.get("phrases", ()):
                key = normalize_pattern(phrase)
                if key:
                    add(key, sig=sig)
            for pattern in s.get("patterns", ()):
                compiled = re.compile(pattern["regex"])
                for word in pattern["at"]:
                    add(normalize_pattern(word), pattern=(compiled, sig))
        rules[rule] = RuleCues(
            rule,
            float(spec["threshold"]),
            _requirements(spec.get("requires", ())),
            tuple(signals),
            tuple(spec.get("yields_to", ())),
            tuple(spec.get("strong", ())),
        )
    automaton.make_automaton()
    structured_phrases = {
        k.encode("latin-1").decode("utf-8")
        for k, (_, _, sigs, _, _) in automaton.items()
        if any(s.structured for s in sigs)
    }
    lists = {
        f"{section}.{name}": alternation(words)
        for section in ("contact", "salary", "agency")
        for name, words in data[section].items()
    }
    scope = data["scope"]
    sentence = "[" + re.escape(scope["sentence_breaks"]) + "]"
    clause = "[" + re.escape(scope["sentence_breaks"] + scope["clause_breaks"]) + "]"
    return Lexicon(
        rules=rules,
        automaton=automaton,
        structured_hint=_needed_characters(structured_phrases),
        lists=lists,
        sentence_next=re.compile(sentence),
        sentence_prev=re.compile(r"[\s\S]*" + sentence),
        clause_next=re.compile(clause),
        clause_prev=re.compile(r"[\s\S]*" + clause),
        negators_before=alternation(neg["before"]),
        negators_near=alternation(neg["near"]),
        negation_resets=alternation(neg["resets"]),
        negators_after=alternation(neg["after"]),
        adjacent_before=frozenset(neg["before_adjacent"]),
        immediately_before=frozenset(neg["immediately_before"]),
        list_separators=tuple(neg["list_separators"]),
        list_reach=int(neg["list_reach"]),
        quotes=frozenset(neg["quotes"]),
        quote_reach=int(neg["quote_reach"]),
        adjacent_after=frozenset(neg["after_adjacent"]),
        warning=alternation(neg["warning"]),
        before_window=int(neg["before_window"]),
        near_window=int(neg["near_window"]),
        near_longest=max(len(normalize_pattern(w)) for w in neg["near"]),
        after_window=int(neg["after_window"]),
    )


def _needed_characters(phrases: Iterable[str]) -> re.Pattern[str]:
    """A regex that finds, in an original text, a character without which none of `phrases` can
    occur in its normalised text (one character per phrase, with everything normalised into it)."""
    # The rarest character of each phrase (characters by frequency in postings: performance data
    # of the discrimination lexicon), so that the test fails on most occupations and addresses.
    rank = {c: i for i, c in enumerate(vocabulary_anchor_order())}
    needed: set[str] = set()
    for phrase in phrases:
        options = [found for ch in phrase if (found := sources(ch)) is not None]
        if not options:
            return re.compile("")  # normalisation can make every character of it: always look
        needed |= max(options, key=lambda found: min(rank.get(c, len(rank)) for c in found))
    if not needed:
        return _NEVER
    chars = "".join(re.escape(c) for c in sorted(needed) if ord(c) <= 0xFFFF)
    astral = "".join(re.escape(c) for c in sorted(needed) if ord(c) > 0xFFFF)
    if not astral:
        return re.compile(f"[{chars}]")
    # One class, astral characters folded into one range, so that the regex engine skips from
    # candidate to candidate (an alternation of astral letters is tried at every position, ~0.8 µs
    # a character); the lookbehind keeps only the astral characters needed.
    return re.compile(f"[{chars}\U00010000-\U0010ffff](?<=[{chars}{astral}])")


class Hit(NamedTuple):
    """A signal phrase found in a field (a named tuple: built for every cue of every posting)."""

    start: int  # normalised offsets in the field
    end: int
    signal: Signal


@dataclass(slots=True)
class FieldScan:
    """The signal hits of one field, with sentence and clause bounds (from the original text) computed on demand."""

    path: str
    ctx: DetectionContext  # the field's normalised text is ctx.norm(path), made when first needed
    structured: bool
    hits: list[Hit] = field(default_factory=list)
    _warned: dict[int, bool] = field(default_factory=dict)

    @property
    def nt(self) -> NormalizedText:
        return self.ctx.norm(self.path)

    @property
    def text(self) -> str:
        return self.nt.text

    def _bounds(self, prev: re.Pattern[str], nxt: re.Pattern[str], pos: int) -> tuple[int, int]:
        # Breaks are looked up in the ORIGINAL text (normalisation joins lines between CJK
        # characters), then mapped back to normalised positions.
        nt, starts = self.nt, self.nt.starts
        opos = pos if starts is None else (starts[pos] if pos < len(starts) else len(nt.original))
        m = prev.match(nt.original, 0, opos)
        n = nxt.search(nt.original, opos)
        ostart = m.end() if m else 0
        oend = n.start() if n else len(nt.original)
        if starts is None:
            return ostart, oend
        return bisect_left(starts, ostart), bisect_left(starts, oend)

    def sentence(self, pos: int) -> tuple[int, int]:
        """[start, end) of the sentence holding normalised position `pos`."""
        lex = lexicon()
        return self._bounds(lex.sentence_prev, lex.sentence_next, pos)

    def clause(self, pos: int) -> tuple[int, int]:
        """[start, end) of the clause (between commas or sentence breaks) holding `pos`."""
        lex = lexicon()
        return self._bounds(lex.clause_prev, lex.clause_next, pos)

    def in_warning(self, pos: int) -> bool:
        """True when the sentence holding `pos` is a warning or disclaimer (谨防, 凡…均属诈骗, 如遇…请报警)."""
        s, e = self.sentence(pos)
        cached = self._warned.get(s)
        if cached is None:
            cached = self._warned[s] = lexicon().warning.search(self.nt.text, s, e) is not None
        return cached

    def negated(self, start: int, end: int, signal: Signal | None = None) -> bool:
        """True when the cue sits in a warning sentence, or a negator governs it within its clause
        (a general one up to `before_window` characters before it, a short one such as 不需要 up to
        `near_window`, with no 只需/但 between them; or one just after it: 押金公司承担)."""
        if self.in_warning(start):
            return True
        if signal is not None and signal.negation == "warning":
            return False
        lex, text = lexicon(), self.nt.text
        cs, ce = self.clause(start)
        if lex.adjacent_before & set(text[max(cs, start - 2) : start]):
            return True
        if start > cs and text[start - 1] in lex.immediately_before:
            return True
        # A negator's object may be a list (不收取任何押金、体检费、服装费、培训费): each separator
        # before the cue lengthens its reach.
        before_from = start - lex.before_window
        items = sum(text.count(sep, max(cs, before_from), start) for sep in lex.list_separators)
        before_from -= items * lex.list_reach
        # A quoted cue is named, not demanded (不是网上流传的“刷单”兼职, 不是所谓“兼职刷单”): a short
        # negator reaches it as far as a general one.
        quoted = not lex.quotes.isdisjoint(text[max(cs, start - lex.quote_reach) : start])
        near_from = start - (lex.before_window if quoted else lex.near_window)
        # The negator nearest the cue decides, unless a word such as 只需/但 ends its reach first.
        last = -1
        for m in lex.negators_before.finditer(text, max(cs, before_from), start):
            last = max(last, m.end())
        for m in lex.negators_near.finditer(text, max(cs, near_from - lex.near_longest), start):
            if m.end() >= near_from:
                last = max(last, m.end())
        if last >= 0 and not self._reset(last, start):
            return True
        hi = min(ce, end + lex.after_window)
        if lex.negators_after.search(text, end, hi) or lex.adjacent_after & set(text[end : min(ce, end + 2)]):
            return True
        return bool(signal and signal.after_negators and signal.after_negators.search(text, end, hi))

    def _reset(self, lo: int, hi: int) -> bool:
        """True when a word such as 只需/但/经验 between a negator and its cue ends the negator's reach;
        an item of a fee list (培训费、押金) or the 但 of 包括但不限于 does not: it is the negator's object too."""
        text = self.nt.text
        for m in lexicon().negation_resets.finditer(text, lo, hi):
            if text[m.end() : m.end() + 1] != "费" and not text.startswith(_NOT_LIMITED, m.start()):
                return True
        return False

    def near(self, start: int, end: int, pattern: re.Pattern[str], window: int, *, clause: bool = False) -> bool:
        """True when `pattern` occurs within `window` characters of the span, in the same sentence (or clause)."""
        s, e = self.clause(start) if clause else self.sentence(start)
        return pattern.search(self.nt.text, max(s, start - window), min(e, end + window)) is not None

    def find(self, pattern: re.Pattern[str]) -> Iterator[tuple[int, int]]:
        for m in pattern.finditer(self.nt.text):
            yield m.start(), m.end()


@dataclass(slots=True)
class Scan:
    """The cue scan of one record: a FieldScan per text field and structured field, and its hits by rule."""

    fields: list[FieldScan]
    ctx: DetectionContext
    by_rule: dict[str, list[tuple[FieldScan, Hit]]] = field(default_factory=dict)

    def find(self, list_name: str, *, structured: bool = False) -> Iterator[tuple[FieldScan, int, int]]:
        """Occurrences of a word list from lexicon.toml ([contact], [salary]) in the free text (and structured fields)."""
        pattern = lexicon().lists[list_name]
        for fs in self.fields:
            if structured or not fs.structured:
                for s, e in fs.find(pattern):
                    yield fs, s, e


def scan(ctx: DetectionContext) -> Scan:
    """Scan the record once; detectors of this package share the result for the same context."""
    return ctx.shared("fake_recruitment.scan", _scan)


def _scan(ctx: DetectionContext) -> Scan:
    lex = lexicon()
    fields = []
    paths = [(p, False) for p in ctx.text_fields]
    rec = ctx.record
    if isinstance(rec, JobPosting):
        loc = rec.location
        present = (rec.occupation, loc.city if loc else None, loc.address if loc else None)
        paths += [(p, True) for p, v in zip(STRUCTURED_FIELDS, present, strict=True) if v]
    by_rule: dict[str, list[tuple[FieldScan, Hit]]] = {}
    for path, structured in paths:
        fs = FieldScan(path, ctx, structured)
        if structured and lex.structured_hint.search(ctx.text(path)) is None:
            # Most occupations, cities and addresses: no structured signal can occur, and the
            # field is normalised only if something asks for its text.
            fields.append(fs)
            continue
        nt = ctx.norm(path)
        text = nt.text
        encoded = text.encode("utf-8")
        ascii_text = len(encoded) == len(text)
        # Byte offsets to character offsets, incrementally (hits come in order of their end).
        bpos = cpos = 0
        for last, (length, chars, signals, patterns, ascii_edge) in lex.automaton.iter(encoded.decode("latin-1")):
            bstart = last - length + 1
            if ascii_text:
                start = bstart
            else:
                if bstart < bpos:
                    bpos = cpos = 0
                cpos += len(encoded[bpos:bstart].decode("utf-8"))
                bpos = bstart
                start = cpos
            end = start + chars
            if ascii_edge and not _on_boundaries(text, start, end):
                continue
            for sig in signals:
                if not structured or sig.structured:
                    hit = Hit(start, end, sig)
                    fs.hits.append(hit)
                    by_rule.setdefault(sig.rule, []).append((fs, hit))
            if patterns and not structured:
                for regex, sig in patterns:
                    m = regex.match(text, start)
                    if m is not None:
                        hit = Hit(start, m.end(), sig)
                        fs.hits.append(hit)
                        by_rule.setdefault(sig.rule, []).append((fs, hit))
        fields.append(fs)
    return Scan(fields, ctx, by_rule)


def _on_boundaries(text: str, start: int, end: int) -> bool:
    """A phrase edge that is a Latin letter or digit must not continue a Latin word or number."""
    first, last = text[start], text[end - 1]
    if start > 0 and first.isascii() and first.isalnum() and text[start - 1].isascii() and text[start - 1].isalnum():
        return False
    return not (end < len(text) and last.isascii() and last.isalnum() and text[end].isascii() and text[end].isalnum())
