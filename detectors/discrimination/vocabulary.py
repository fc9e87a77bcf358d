"""The discrimination lexicons as typed tables: grounds, trigger groups, context words, one anchored phrase index."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from detectors.discrimination.phrases import AnchoredPhrases, Found, WordTable
from detectors.normalize import normalize_pattern

__all__ = ["AnchoredPhrases", "Found", "Ground", "Group", "Trigger", "Vocabulary", "WordTable", "data", "vocabulary"]

PACKAGE = "detectors.discrimination"

# Trigger kinds handled by numeric.py rather than by the context rules.
NUMERIC_KINDS = (
    "age_unit",
    "age_label",
    "age_plus",
    "birth",
    "height_label",
    "height_unit",
    "weight_label",
    "hukou",
    "initials_origin",
)


@cache
def data(name: str) -> dict[str, Any]:
    """One TOML data file of this package, parsed."""
    return tomllib.loads(resources.files(PACKAGE).joinpath(name).read_text("utf-8"))


def _norm_all(words: Iterable[str]) -> tuple[str, ...]:
    out = {normalize_pattern(w) for w in words if w}
    return tuple(sorted((w for w in out if w), key=lambda w: (-len(w), w)))


@dataclass(frozen=True, slots=True)
class Group:
    """A set of trigger phrases of one ground that share how context decides them."""

    ground: str
    value: str
    accepts: frozenset[str]
    standalone: bool = False
    boundary: bool = False
    inherent: bool = False
    needs_suffix: bool = False
    label_only: bool = False
    lawful_kinds: frozenset[str] = frozenset()  # context kinds that are a lawful promotion
    end_delimited: bool = False
    exception: str | None = None
    legal_basis: tuple[str, ...] = ()
    peers: bool = True  # may name "both sides" with an adjacent trigger of another value (男女)
    bare: bool = False  # a needs_suffix trigger that may stand for people without its suffix (外地勿扰)


@dataclass(frozen=True, slots=True)
class Ground:
    """One discrimination ground (one rule) and the context words that decide its triggers."""

    name: str
    before: WordTable  # words before a trigger: limit/exclude/preference/hire/absence/test/label/neg
    after: WordTable  # words after a trigger (after an optional suffix noun)
    gaps: WordTable  # small words allowed between a before-word and the trigger
    suffixes: WordTable  # nouns allowed between the trigger and an after-word
    occupations: WordTable  # job nouns after a one-character trigger (女服务员)
    # Any word of `before` of kind "label": without one in a text, no trigger there has a label side.
    label_words: re.Pattern[str] = re.compile(r"(?!)")


@dataclass(frozen=True, slots=True)
class Trigger:
    """What a phrase hit proposes: a group of a ground, or a numeric handler kind."""

    kind: str  # "group" or one of NUMERIC_KINDS
    group: Group | None = None


@dataclass(frozen=True, slots=True)
class Vocabulary:
    grounds: Mapping[str, Ground]
    matcher: AnchoredPhrases[Trigger]
    scores: Mapping[str, float]
    item_delimiters: frozenset[str]
    clause_breaks: str
    joiners: tuple[str, ...]
    anti_clause: re.Pattern[str]  # a word that makes a phrase an anti-discrimination statement
    negation_after_enum: re.Pattern[str]  # matched at the end of trigger (+suffix)
    negation_before_enum: re.Pattern[str]  # matched on the REVERSED text before the trigger
    joiner_chars: frozenset[str]  # first/last characters of the enumeration joiners
    age_after_sex: re.Pattern[str]  # an age right after 男/女 (女25-35岁)
    origin_suffix: re.Pattern[str]  # region: what makes a place a person's origin
    weak_origin_suffix: re.Pattern[str]  # region: 的/那边的, an origin only before an exclusion
    phrase_break: re.Pattern[str]  # a clause break or comma
    phrase_break_last: re.Pattern[str]  # matches up to the last break of a span
    # marital_childbearing values that name women (宝妈, 孕妇), and the context kinds that keep them out.
    women_only: frozenset[str] = frozenset()
    women_only_kinds: frozenset[str] = frozenset()


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in _norm_all(words))


def _ground(name: str, spec: Mapping[str, Any], markers: Mapping[str, Any]) -> Ground:
    before: list[tuple[str, str]] = []
    for kind, key in (
        ("hire", "hiring_before"),
        ("limit", "limit_before"),
        ("preference", "preference_before"),
        ("absence", "absence_before"),
        ("exclude", "exclude_before"),
        ("neg", "negation_before"),
        ("neg", "not_markers"),
    ):
        before.extend((w, kind) for w in markers[key])
    before.extend((w, "label") for w in spec.get("labels", ()))
    before.extend(spec.get("extra_before", {}).items())
    after: list[tuple[str, str]] = []
    for kind, key in (
        ("limit", "limit_after"),
        ("preference", "preference_after"),
        ("exclude", "exclude_after"),
        ("exclude_final", "exclude_after_final"),
        ("limit_final", "limit_after_final"),
        ("neg", "negation_after"),
    ):
        after.extend((w, kind) for w in markers.get(key, ()))
    after.extend(spec.get("extra_after", {}).items())
    gaps = [*markers["gap_before"], *spec.get("extra_gaps", ())]
    before_table = WordTable.build(before)
    labels = [w for w, kind in before_table.kinds.items() if kind == "label"]
    return Ground(
        name=name,
        before=before_table,
        after=WordTable.build(after),
        gaps=WordTable.build((g, "gap") for g in gaps),
        suffixes=WordTable.build((s, "suffix") for s in (*markers["suffixes"], *spec.get("extra_suffixes", ()))),
        occupations=WordTable.build((o, "occupation") for o in spec.get("occupations", {}).get("words", ())),
        label_words=re.compile("|".join(map(re.escape, labels))) if labels else re.compile(r"(?!)"),
    )


def _groups(name: str, spec: Mapping[str, Any], default_accepts: list[str]) -> Iterable[tuple[Group, list[str]]]:
    ground_accepts = spec.get("accepts", default_accepts)
    for g in spec.get("groups", ()):
        combine = g.get("combine", {})
        words = [*g.get("phrases", ()), *(p + w for p in combine.get("prefixes", ()) for w in combine.get("words", ()))]
        yield (
            Group(
                ground=name,
                value=g.get("value", ""),
                accepts=frozenset(g.get("accepts", ground_accepts)),
                standalone=g.get("standalone", False),
                boundary=g.get("boundary", False),
                inherent=g.get("inherent", False),
                needs_suffix=g.get("needs_suffix", False),
                label_only=g.get("label_only", False),
                lawful_kinds=frozenset(g.get("lawful_kinds", ())),
                end_delimited=g.get("end_delimited", False),
                exception=g.get("exception"),
                legal_basis=tuple(g.get("legal_basis", ())),
                peers=g.get("peers", True),
                bare=g.get("bare", False),
            ),
            words,
        )


_MAX_VARIANT_LENGTH = 4
_ASCII_ALNUM = re.compile(r"[a-z0-9]")
_LATIN_RUN = re.compile(r"[a-z]{2,}")
_DIGIT_PAIR = re.compile(r"(?<=[0-9])(?=[0-9])")
_ASCII_CJK_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])(?=[a-z0-9])")


def _with_spelling_variants(words: Iterable[str], variants: Mapping[str, list[str]]) -> list[str]:
    """The phrases plus the spellings evaders use for them.

    Each short phrase gets every single-character sound-alike substitution (nan性, 已婚已yu, B肝);
    phrases with Latin letters or digits also get them spaced out (H B V携带者, 8 0 后 → "80 后") and
    digit pairs split by a line break (0\n0后): the normaliser joins spaced Chinese characters and
    spaced digits, but not spaced letters, a letter or digit spaced from a character, or a line break.
    """
    originals = list(words)
    out = list(originals)
    for word in originals:
        if len(word) <= _MAX_VARIANT_LENGTH:
            for i, ch in enumerate(word):
                for alt in variants.get(ch, ()):
                    variant = word[:i] + alt + word[i + 1 :]
                    if not variant.isascii():
                        out.append(variant)
        if " " in word or len(word) > _MAX_VARIANT_LENGTH or not _ASCII_ALNUM.search(word):
            continue
        letters = _LATIN_RUN.sub(lambda m: " ".join(m.group()), word)
        for form in {letters, _ASCII_CJK_BOUNDARY.sub(" ", word), _ASCII_CJK_BOUNDARY.sub(" ", letters)}:
            if form != word:
                out.append(form)
        broken = _DIGIT_PAIR.sub("\n", word)
        if broken != word:
            out.append(broken)
    return out


def _numeric_phrases() -> Iterable[tuple[str, Trigger]]:
    num = data("numeric.toml")
    yield "岁", Trigger("age_unit")
    for label in num["age"]["labels"]:
        yield label, Trigger("age_label")
    age = num["age"]
    combined = [b + x for b in age["plus_exclusion_bounds"] for x in age["plus_exclusions"]]
    for phrase in (*age["plus_phrases"], *combined, *age["plus_bounds"], *age.get("floor_exclusions", ())):
        yield phrase, Trigger("age_plus")
    yield "出生", Trigger("birth")
    for label in num["height"]["labels"]:
        yield label, Trigger("height_label")
    for unit in (*num["height"]["units_cm"], *num["height"]["units_m"]):
        for bound in num["height"]["bounds"]:
            yield unit + bound, Trigger("height_unit")
    for label in num["weight"]["labels"]:
        yield label, Trigger("weight_label")
    yield "户籍", Trigger("hukou")
    yield "户口", Trigger("hukou")
    yield "籍", Trigger("initials_origin")
    yield "籍贯", Trigger("initials_origin")  # HN、AH籍贯的勿扰: the exclusion follows 籍贯, not 籍
    yield "藉", Trigger("initials_origin")


@cache
def vocabulary_anchor_order() -> str:
    """Characters from most to least frequent in postings, for choosing the anchors of AnchoredPhrases."""
    return _common_characters(data("anchors.toml"))


def _common_characters(anchors: Mapping[str, Any]) -> str:
    """Characters from most to least frequent in postings: the posting sample, then digits and letters, then
    general Chinese text."""
    general = anchors["common_characters"].replace("\n", "")
    posting = anchors["posting_characters"].replace("\n", "")
    return "".join(dict.fromkeys(posting + anchors["digits"] + anchors["letters"] + general))


@cache
def vocabulary() -> Vocabulary:
    """Every discrimination lexicon, compiled once."""
    markers = data("markers.toml")
    grounds_spec = data("grounds.toml")
    default_accepts = grounds_spec["default_accepts"]
    grounds: dict[str, Ground] = {}
    phrases: list[tuple[str, Trigger]] = []
    variants = markers["spelling_variants"]
    for name, spec in grounds_spec.items():
        if not isinstance(spec, dict):
            continue
        grounds[name] = _ground(name, spec, markers)
        for group, words in _groups(name, spec, default_accepts):
            trigger = Trigger("group", group)
            phrases.extend((w, trigger) for w in _with_spelling_variants(words, variants))
    phrases.extend(_numeric_phrases())

    sep = _alternation(markers["enumeration_joiners"])
    item = r"[^\s,.;:!?。、/()\[\]【】]{1,8}?"
    neg_after = _alternation(markers["negation_after"])
    negation_after_enum = re.compile(rf"(?:(?:{sep}){item})+(?:等(?:方面|因素|情况|条件)?)?(?:的)?(?:{neg_after})")
    neg_before_rev = "|".join(re.escape(w[::-1]) for w in _norm_all(markers["negation_before"]))
    negation_before_enum = re.compile(rf"(?:(?:{sep}){item})+(?:{neg_before_rev})")

    origin = grounds_spec["region"]["origin_suffixes"]
    admin = _alternation(origin["admin"])
    not_after = {normalize_pattern(k): v for k, v in origin["not_after"].items()}
    alts = []
    for w in _norm_all(origin["words"]):
        pat = re.escape(w)
        if w[-1] in not_after:
            pat += f"(?![{re.escape(not_after[w[-1]])}])"
        alts.append(pat)
    origin_suffix = re.compile(rf"(?:(?:{admin})内?)?(?:{'|'.join(alts)})")

    return Vocabulary(
        grounds=grounds,
        matcher=AnchoredPhrases(phrases, vocabulary_anchor_order()),
        scores=dict(markers["scores"]),
        item_delimiters=frozenset(markers["item_delimiters"]),
        clause_breaks=markers["clause_breaks"],
        joiners=_norm_all(markers["enumeration_joiners"]),
        anti_clause=re.compile(_alternation(markers["anti_discrimination_clause"])),
        negation_after_enum=negation_after_enum,
        negation_before_enum=negation_before_enum,
        age_after_sex=re.compile(r"\d{2}\s*(?:周?岁|[-~至到—]+\s*\d{2})"),
        joiner_chars=frozenset(c for j in _norm_all(markers["enumeration_joiners"]) for c in (j[0], j[-1])),
        origin_suffix=origin_suffix,
        weak_origin_suffix=re.compile(_alternation(origin["weak_words"])),
        phrase_break=re.compile(f"[{re.escape(markers['clause_breaks'])},]"),
        phrase_break_last=re.compile(f".*[{re.escape(markers['clause_breaks'])},]", re.S),
        women_only=frozenset(grounds_spec["marital_childbearing"].get("women_only", ())),
        women_only_kinds=frozenset(grounds_spec["marital_childbearing"].get("women_only_kinds", ())),
    )
