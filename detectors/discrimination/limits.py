"""How context decides a proposed trigger: limit and exclusion words around it, negation, lawful preference, list items."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from detectors.discrimination.vocabulary import Ground, Group, Vocabulary
from detectors.normalize import NormalizedText

# When several context words surround a trigger, the strongest names the finding.
KIND_RANK = {
    "exclude": 9,
    "absence": 8,
    "limit": 7,
    "label": 6,
    "test": 6,
    "inherent": 5,
    "hire": 5,
    "standalone": 3,
    "post": 4,
    "preference": 2,
}
_LIST_JOINERS = "、/和及与或"
_SIDE_KINDS = ("exclude", "absence", "limit", "label", "test", "hire", "preference", "post")
# How many suffix nouns and other triggers may stand between a trigger and its context word
# (45往上 | 的 | 老铁 | 就 | 别报了).
_MAX_HOPS = 4


@dataclass(frozen=True, slots=True)
class Decision:
    """Why a trigger is a limit: the deciding context kind and word, and the evidence span (normalised)."""

    kind: str
    context: str
    start: int
    end: int


class Hit(NamedTuple):
    """One limit found in one field: rule, normalised span, score and the account of why."""

    rule: str
    field: str
    start: int
    end: int
    score: float
    trigger: str
    kind: str
    context: str
    value: str = ""
    exception: str | None = None  # lawful-exception set (lawful.toml) that could cancel this hit
    legal_basis: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Side:
    word: str
    kind: str
    start: int  # span of the context word in normalised text
    end: int


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _strip_gap(text: str, pos: int, ground: Ground) -> int:
    """Position before one gap word or list number ending at `pos` (`pos` itself when none)."""
    gap = ground.gaps.ending_at(text, pos)
    if gap is not None:
        return pos - len(gap[0])
    if pos >= 1 and ("\u2460" <= text[pos - 1] <= "\u2473" or text[pos - 1] == " "):
        return pos - 1
    if pos >= 2 and text[pos - 1] in "、.)" and text[pos - 2].isdigit():
        p = pos - 2
        while p > 0 and text[p - 1].isdigit() and pos - p < 4:
            p -= 1
        return p - 1 if p > 0 and text[p - 1] == "(" else p
    return pos


class TextIndex(NamedTuple):
    """What decisions need to know about the rest of the text.

    Other triggers by position, so that one limit word can govern a run of them (限95后女生); and the
    normalised text's map to the original, to see list items the normaliser joined by removing the
    line break between them (性别要求：女\n我们提供 → 性别要求:女我们提供).
    """

    by_end: Mapping[int, int]  # end -> start
    by_start: Mapping[int, int]  # start -> end
    nt: NormalizedText | None = None

    def line_break_before(self, pos: int) -> bool:
        """Whether the original text had a line break right before normalised position `pos`."""
        nt = self.nt
        if nt is None or nt.starts is None or nt.ends is None or not 0 < pos < len(nt.starts):
            return False
        return "\n" in nt.original[nt.ends[pos - 1] : nt.starts[pos]]


NO_INDEX = TextIndex({}, {})


def left_context(text: str, s: int, ground: Ground, index: TextIndex = NO_INDEX) -> Side | None:
    """The context word that ends at the trigger, allowing gap words and other triggers between them."""
    pos = s
    for _ in range(3):
        hit = ground.before.ending_at(text, pos)
        if hit is not None:
            if hit[1] == "neg" and _postposed(text, pos - len(hit[0]), pos, s, ground):
                return None
            return Side(hit[0], hit[1], pos - len(hit[0]), pos)
        new = _strip_gap(text, pos, ground)
        if new == pos:
            new = index.by_end.get(pos, pos)
        if new == pos and pos > 1 and text[pos - 1] in _LIST_JOINERS:
            # 不招新疆、西藏人员 / 不招新疆人和藏族: the limit word governs every item of the list.
            q = pos - 1
            sfx = ground.suffixes.ending_at(text, q)
            if sfx is not None and q - len(sfx[0]) in index.by_end:
                q -= len(sfx[0])
            new = index.by_end.get(q, pos)
        if new == pos:
            return None
        pos = new
    return None


def _postposed(text: str, a: int, b: int, s: int, ground: Ground) -> bool:
    """Whether the negation word at [a, b), separated from the trigger at `s` by a space, closes the
    phrase before it instead (男女不限 18-38周岁: 不限 belongs to 男女, not to the ages)."""
    if b == s or text[b:s].strip(" \t") or a == 0 or not is_cjk(text[a - 1]):
        return False
    return ground.after.kinds.get(text[a:b]) == "neg"


def right_context(text: str, r: int, ground: Ground, index: TextIndex = NO_INDEX) -> Side | None:
    """The context word after the trigger, allowing suffix nouns (者, 人员, 朋友…) and other triggers
    between, also across a list (新疆、西藏籍及少数民族暂不安排)."""
    pos = r
    n = len(text)
    if pos < n and text[pos] in " \n":
        pos += 1  # H B V 携带者: a space the normaliser keeps between a letter and a character
    for _ in range(_MAX_HOPS):
        hit = ground.after.starting_at(text, pos)
        if hit is not None:
            word, kind = hit
            end = pos + len(word)
            if kind in ("exclude_final", "limit_final"):
                # 暂不安排 excludes only when it ends the item (not 不安排夜班); a check mark is a
                # requirement only when it closes the item (已婚已育✅), not as the bullet of the next (✅包住).
                if end < n and text[end] not in "。,;!?\n\r~、.) ":
                    return None
                kind = "exclude" if kind == "exclude_final" else "limit"
            return Side(word, kind, pos, end)
        sfx = ground.suffixes.starting_at(text, pos)
        if sfx is not None:
            pos += len(sfx[0])
            continue
        new = index.by_start.get(pos, pos)
        if new == pos and pos + 1 < n and text[pos] in _LIST_JOINERS:
            new = index.by_start.get(pos + 1, pos)
        if new == pos:
            return None
        pos = new
    return None


def phrase_bounds(text: str, s: int, e: int, vocab: Vocabulary) -> tuple[int, int]:
    """The comma-free phrase around [s, e), at most 80 characters back."""
    window = max(0, s - 80)
    last = vocab.phrase_break_last.match(text, window, s)
    after = vocab.phrase_break.search(text, e)
    return (last.end() if last else window), (after.start() if after else len(text))


def anti_discrimination(text: str, s: int, e: int, vocab: Vocabulary) -> str | None:
    """The anti-discrimination word of the phrase around [s, e) (outside it), if any: 不因性别…歧视."""
    a, b = phrase_bounds(text, s, e, vocab)
    m = vocab.anti_clause.search(text, a, s) or vocab.anti_clause.search(text, e, b)
    return m.group() if m else None


def enumerated_negation(text: str, s: int, r: int, vocab: Vocabulary) -> bool:
    """A negation that governs the trigger across an enumeration: 不限性别、民族 / 已婚、未婚均可."""
    joiners = vocab.joiner_chars
    if r < len(text) and text[r] in joiners and vocab.negation_after_enum.match(text, r):
        return True
    if s == 0 or text[s - 1] not in joiners:
        return False
    return vocab.negation_before_enum.match(text[max(0, s - 40) : s][::-1]) is not None


def _delimited(
    text: str, pos: int, before: bool, vocab: Vocabulary, index: TextIndex = NO_INDEX, age_ok: bool = False
) -> bool:
    """Whether a list item ends right before `pos` (before=True) or right at `pos`."""
    if before:
        if pos == 0 or text[pos - 1] in vocab.item_delimiters or "\u2460" <= text[pos - 1] <= "\u2473":
            return True
        return index.line_break_before(pos)
    if pos >= len(text) or text[pos] in vocab.item_delimiters or index.line_break_before(pos):
        return True
    # 女25-35岁 / 男22岁以下: an age right after a one-character sex (not 女160以上, a height).
    return age_ok and vocab.age_after_sex.match(text, pos) is not None


def decide(
    text: str,
    s: int,
    e: int,
    group: Group,
    vocab: Vocabulary,
    *,
    has_suffix: bool = True,
    peer_neutral: bool = False,
    index: TextIndex = NO_INDEX,
) -> Decision | None:
    """Decide whether trigger [s, e) of `group` states a hiring limit; None when it does not."""
    if peer_neutral:
        return None
    n = len(text)
    # Latin and digit triggers (HN籍, 90后, male only) must not sit inside a longer token.
    if _is_ascii_alnum(text[s]) and s > 0 and _is_ascii_alnum(text[s - 1]):
        return None
    if _is_ascii_alnum(text[e - 1]) and e < n and _is_ascii_alnum(text[e]):
        return None
    if group.end_delimited and not _delimited(text, e, False, vocab, index):
        return None
    if e < n and text[e] == "化":
        return None  # 男性化设计, 本地化运营: a style, not a person
    ground = vocab.grounds[group.ground]

    r = e
    occupation = None
    if group.boundary and r < n and is_cjk(text[r]):
        occ = ground.occupations.starting_at(text, r)
        if occ is not None:
            occupation = occ[0]
            r += len(occupation)

    left = left_context(text, s, ground, index)
    right = right_context(text, r, ground, index)
    if (left is not None and left.kind == "neg") or (right is not None and right.kind == "neg"):
        return None

    if group.boundary:
        prev_ok = s == 0 or not is_cjk(text[s - 1]) or left is not None or index.line_break_before(s)
        next_ok = (
            r >= n or not is_cjk(text[r]) or right is not None or occupation is not None or index.line_break_before(r)
        )
        if not (prev_ok and next_ok):
            return None
        if occupation is not None and left is None and right is None and not _delimited(text, s, True, vocab, index):
            return None

    accepts = group.accepts
    if group.label_only or (group.needs_suffix and not has_suffix):
        accepts = accepts & {"label"}

    sides = [x for x in (left, right) if x is not None and x.kind in accepts and x.kind in _SIDE_KINDS]
    kind = max((x.kind for x in sides), key=KIND_RANK.__getitem__, default=None)
    if kind is None and group.inherent and "inherent" in accepts:
        kind = "inherent"
    if (
        kind is None
        and group.standalone
        and "standalone" in accepts
        and _delimited(text, s, True, vocab, index)
        and (occupation is not None or _delimited(text, r, False, vocab, index, age_ok=group.boundary))
        and not (group.boundary and text.startswith(":", r))  # 男:170cm 女:160cm is a header
    ):
        kind = "standalone"
    if kind is None:
        return None
    if kind in group.lawful_kinds:
        # 残疾人优先 / 残疾人专岗 / 少数民族优先: promotion the law asks for (就业促进法 第二十八、二十九条).
        return None

    start = min([s, *(x.start for x in sides)])
    end = max([r, *(x.end for x in sides)])
    if enumerated_negation(text, s, r, vocab) or anti_discrimination(text, start, end, vocab):
        return None
    context = "+".join(x.word for x in sides) if sides else kind
    return Decision(kind, context, start, end)
