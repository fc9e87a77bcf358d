"""DiscriminationDetector: triggers propose, context decides, lawful exceptions cancel; one finding per ground."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Iterator

from detectors.context import DetectionContext
from detectors.discrimination import numeric, segment
from detectors.discrimination.lawful import LawfulContext, exception_set
from detectors.discrimination.limits import NO_INDEX, Hit, TextIndex, decide, left_context, right_context
from detectors.discrimination.vocabulary import Found, Group, Trigger, Vocabulary, vocabulary
from detectors.findings import Evidence, Finding
from detectors.normalize import NormalizedText
from detectors.rules import Detector

GROUNDS = (
    "gender",
    "age",
    "ethnicity",
    "region",
    "marital_childbearing",
    "health",
    "religion",
    "appearance",
    "disability",
)
# Women named next to a marital/childbearing condition: the condition is imposed on women only
# (妇女权益保障法 第四十三条第五项), a sex limit as well.
_WOMEN = ("女性", "女士", "女生", "女职工", "女员工", "女方", "女同志", "妇女", "女")
_COUPLING_WINDOW = 20
# An unknown place with an administrative suffix right before 户籍/户口 (滁州市户籍).
_ADMIN_SUFFIX = "省市县区州盟旗"
_INITIALS_BEFORE = re.compile(r"(?<![a-z])[a-z](?: ?[a-z]){1,3} ?$")
# Grounds whose triggers are also parts of names (宁夏回族自治区, 河南人造革厂): segmentation decides
# when nothing around the trigger does.
_SEGMENTED = frozenset({"region", "ethnicity"})


def _resolve_overlaps(matches: list[Found[Trigger]]) -> list[Found[Trigger]]:
    """Within one ground, keep the longest of overlapping triggers (男性 over 男, 乙肝携带者 over 乙肝)."""
    if len(matches) < 2:
        return list(matches)  # most texts with a trigger have just one
    kept: list[Found[Trigger]] = []
    by_ground: dict[str, list[tuple[int, int]]] = {}
    for m in sorted(matches, key=lambda m: (m.start, -(m.end - m.start))):
        group = m.value.group
        if group is None:
            kept.append(m)
            continue
        spans = by_ground.setdefault(group.ground, [])
        if any(a <= m.start and m.end <= b for a, b in spans):
            continue
        spans.append((m.start, m.end))
        kept.append(m)
    return kept


def _peer_neutral(m: Found[Trigger], same_ground: list[Found[Trigger]], text: str, vocab: Vocabulary) -> bool:
    """Two adjacent triggers of different values name both sides of the ground (男女, 已婚未婚, 本地外地),
    unless a limit word or a field label opens the pair and an exclusion closes it: 只要小姐姐💃小哥哥勿扰
    and 性别:♂ 🚺勿扰 are one side kept and the other kept out (the emoji between them is gone from the
    normalised text)."""
    group = m.value.group
    assert group is not None
    for other in same_ground:
        og = other.value.group
        if og is None or og.value == group.value or other is m or not (og.peers and group.peers):
            continue
        if other.start >= m.end:
            first, second = m, other
        elif other.end <= m.start:
            first, second = other, m
        else:
            continue
        gap = text[first.end : second.start]
        if gap == "" or gap in vocab.joiners or gap == " ":
            ground = vocab.grounds[group.ground]
            left = left_context(text, first.start, ground)
            right = right_context(text, second.end, ground)
            opposed = (
                left is not None
                and left.kind in ("limit", "hire", "preference", "label")
                and right is not None
                and right.kind == "exclude"
            )
            if not opposed:
                return True
    return False


def _emoji_modifier(m: Found[Trigger], index: TextIndex) -> bool:
    """A one-character 男/女 that was the sex sign of an emoji (🙅‍♀️ is 🙅, ZWJ, ♀): not a person's sex."""
    nt = index.nt
    if nt is None or m.end - m.start != 1:
        return False
    a, _ = nt.to_original(m.start, m.end)
    return a > 0 and nt.original[a - 1] == "\u200d"


def _group_hit(
    text: str,
    m: Found[Trigger],
    group: Group,
    vocab: Vocabulary,
    same: list[Found[Trigger]],
    index: TextIndex = NO_INDEX,
    labelled: bool = True,
    names: bool = True,
) -> Hit | None:
    """The hit trigger `m` makes, if context decides it is a limit; `labelled`: False when the text
    holds no label word of the region ground (so a bare place name cannot be a labelled value);
    `names`: False for a trigger made up around 户籍 or 籍 (滁州市户籍), not a lexicon name that
    could be part of a longer name."""
    if group.boundary and _emoji_modifier(m, index):
        return None
    end, has_suffix = m.end, True
    if group.needs_suffix:
        sfx = vocab.origin_suffix.match(text, m.end)
        weak = None if sfx is not None else vocab.weak_origin_suffix.match(text, m.end)
        if sfx is not None:
            end = sfx.end()
        elif weak is not None and (
            right_context(text, weak.end(), vocab.grounds["region"]) is not None
            or left_context(text, m.start, vocab.grounds["region"]) is not None
        ):
            # 河南的不要 / 不要东北的: 的 makes the place a person's origin only with an exclusion word,
            # or with a limit word when nothing follows (只招本县的。, not 仅限河南的客户).
            end = weak.end()
            closed = end == len(text) or text[end] in vocab.item_delimiters
            group = dataclasses.replace(group, accepts=frozenset({"exclude", "limit"} if closed else {"exclude"}))
        elif group.bare and (bare := _bare_accepts(text, m, vocab)) is not None:
            group = dataclasses.replace(group, accepts=bare)
        else:
            # A bare place name (an address, a work area) only counts as a labelled value: 籍贯:河南.
            # Most postings name places and have no such label: then there is nothing to look for.
            if not labelled:
                return None
            side = left_context(text, m.start, vocab.grounds["region"])
            if side is None or side.kind != "label":
                return None
            has_suffix = False
    decision = decide(
        text,
        m.start,
        end,
        group,
        vocab,
        has_suffix=has_suffix,
        peer_neutral=bool(group.value) and _peer_neutral(m, same, text, vocab),
        index=index,
    )
    if decision is None:
        return None
    if (
        names
        and group.ground in _SEGMENTED
        and not segment.own_word(text, m.start, end, decision, vocab.grounds[group.ground], index)
    ):
        return None
    score = vocab.scores.get(decision.kind, 0.85)
    return Hit(
        group.ground,
        "",
        decision.start,
        decision.end,
        score,
        text[m.start : end],
        decision.kind,
        decision.context,
        value=group.value,
        exception=group.exception,
        legal_basis=group.legal_basis,
    )


def _bare_accepts(text: str, m: Found[Trigger], vocab: Vocabulary) -> frozenset[str] | None:
    """What may make a bare 本地/外地 (no 人 or 户口 after it) a limit: an exclusion right after it
    (外地勿扰), a preference right after it that ends the item (本地优先。), or a limit word before
    it when it ends the item itself (要求:本地,); None when nothing does."""
    ground = vocab.grounds["region"]
    n = len(text)
    right = right_context(text, m.end, ground)
    if right is not None and right.start == m.end:
        if right.kind == "exclude":
            return frozenset({"exclude"})
        if right.kind == "preference" and (right.end == n or text[right.end] in vocab.item_delimiters):
            return frozenset({"preference"})
    if m.end == n or text[m.end] in vocab.item_delimiters:
        left = left_context(text, m.start, ground)
        if left is not None and left.kind in ("limit", "exclude"):
            return frozenset({"limit", "exclude"})
    return None


def _hukou_hit(text: str, m: Found[Trigger], vocab: Vocabulary, index: TextIndex) -> Hit | None:
    """滁州市户籍 and other places not in the lexicon, decided like a place with an origin suffix."""
    if m.start < 2 or text[m.start - 1] not in _ADMIN_SUFFIX:
        return None
    group = Group(ground="region", value="place", accepts=frozenset({"limit", "exclude", "preference", "label"}))
    for start in range(m.start - 3, max(-1, m.start - 6), -1):
        if not all("\u4e00" <= ch <= "\u9fff" for ch in text[start : m.start]):
            break
        found = Found(start, m.end, text[start : m.end], Trigger("group", group))
        hit = _group_hit(text, found, group, vocab, [], index, names=False)
        if hit is not None:
            return hit
    return None


def _initials_hit(text: str, m: Found[Trigger], vocab: Vocabulary, index: TextIndex) -> Hit | None:
    """Pinyin initials of a province before 籍 (HN籍, HB籍, G X 籍), decided like a place with its suffix."""
    initials = _INITIALS_BEFORE.search(text, max(0, m.start - 8), m.start)
    if initials is None:
        return None
    group = Group(ground="region", value="place", accepts=frozenset({"limit", "exclude", "preference"}))
    start = initials.start()
    found = Found(start, m.end, text[start : m.end], Trigger("group", group))
    return _group_hit(text, found, group, vocab, [], index, names=False)


def _numeric_hit(
    kind: str, text: str, m: Found[Trigger], vocab: Vocabulary, ref_year: int, index: TextIndex
) -> Hit | None:
    if kind == "age_unit":
        return numeric.age_at_unit(text, m.start, m.end, vocab)
    if kind == "age_label":
        return numeric.age_at_label(text, m.start, m.end, vocab)
    if kind == "age_plus":
        return numeric.age_at_plus(text, m.start, m.end, vocab)
    if kind == "birth":
        return numeric.age_at_birth(text, m.start, m.end, vocab, ref_year)
    if kind == "height_label":
        return numeric.height_at_label(text, m.start, m.end, vocab)
    if kind == "height_unit":
        return numeric.height_at_unit(text, m.start, m.end, vocab)
    if kind == "weight_label":
        return numeric.weight_at_label(text, m.start, m.end, vocab)
    if kind == "hukou":
        return _hukou_hit(text, m, vocab, index)
    if kind == "initials_origin":
        return _initials_hit(text, m, vocab, index)
    return None


def _women_coupling(text: str, marital: list[Hit], women: list[Found[Trigger]], vocab: Vocabulary) -> Iterator[Hit]:
    """A marital or childbearing condition put to women only is also a sex limit."""
    for hit in marital:
        for w in women:
            lo, hi = min(w.start, hit.start), max(w.end, hit.end)
            if hi - lo > _COUPLING_WINDOW + (hit.end - hit.start) + (w.end - w.start):
                continue
            if any(ch in text[lo:hi] for ch in vocab.clause_breaks):
                continue
            yield Hit(
                "gender",
                "",
                lo,
                hi,
                0.85,
                text[w.start : w.end],
                "marital_condition",
                text[hit.start : hit.end],
                value="female",
            )
            break


def scan_text(nt: NormalizedText, vocab: Vocabulary, ref_year: int, field: str = "") -> list[Hit]:
    """Every discrimination hit in one normalised text, tagged with `field`."""
    text = nt.text
    matches = vocab.matcher.find_all(text)
    if not matches:
        return []
    matches = _resolve_overlaps(matches)
    by_ground: dict[str, list[Found[Trigger]]] = {}
    for m in matches:
        if m.value.group is not None:
            by_ground.setdefault(m.value.group.ground, []).append(m)
    index = TextIndex(
        {m.end: m.start for m in matches if m.value.group is not None},
        {m.start: m.end for m in matches if m.value.group is not None},
        nt,
    )
    labelled = vocab.grounds["region"].label_words.search(text) is not None if "region" in by_ground else True
    hits: list[Hit] = []
    for m in matches:
        group = m.value.group
        hit = (
            _group_hit(text, m, group, vocab, by_ground[group.ground], index, labelled)
            if group is not None
            else _numeric_hit(m.value.kind, text, m, vocab, ref_year, index)
        )
        if hit is not None:
            hits.append(hit._replace(field=field) if field else hit)
    marital = [h for h in hits if h.rule == "marital_childbearing"]
    if marital:
        women = [
            m
            for m in by_ground.get("gender", ())
            if m.value.group is not None and m.value.group.value == "female" and m.phrase in _WOMEN
        ]
        covered = {(h.start, h.end) for h in hits if h.rule == "gender"}
        hits.extend(
            h._replace(field=field)
            for h in _women_coupling(text, marital, women, vocab)
            if (h.start, h.end) not in covered
        )
        hits.extend(
            # 宝妈勿扰 / 孕妇不要: women kept out by a word that names them.
            h._replace(
                rule="gender", value="female", kind="exclude", context=f"{h.trigger}:{h.context}", legal_basis=()
            )
            for h in marital
            if h.value in vocab.women_only and h.kind in vocab.women_only_kinds
        )
    return hits


def _favours_men(hit: Hit) -> bool:
    keeps_out = hit.kind in ("exclude", "absence")
    return (hit.value == "male") != keeps_out if hit.value in ("male", "female") else False


def _merge_spans(hits: Iterable[Hit]) -> list[tuple[str, int, int]]:
    spans = sorted((h.field, h.start, h.end) for h in hits)
    merged: list[tuple[str, int, int]] = []
    for f, s, e in spans:
        if merged and merged[-1][0] == f and s <= merged[-1][2]:
            merged[-1] = (f, merged[-1][1], max(e, merged[-1][2]))
        else:
            merged.append((f, s, e))
    return merged


class DiscriminationDetector(Detector):
    """Flags discriminatory hiring limits in posting text, one finding per ground (就业歧视)."""

    rules = tuple(f"discrimination.{g}" for g in GROUNDS)
    record_types = frozenset({"job_posting"})

    def detect(self, ctx: DetectionContext) -> Iterator[Finding]:
        vocab = vocabulary()
        posted = getattr(ctx.record, "posted_at", None)
        ref_year = posted.year if isinstance(posted, dt.date) else dt.date.today().year
        hits: list[Hit] = []
        for field in ctx.text_fields:
            hits.extend(scan_text(ctx.norm(field), vocab, ref_year, field))
        if not hits:
            return
        # Exceptions are looked for only when a hit could be cancelled by one (most postings: never).
        lawful = LawfulContext([ctx.norm(f).text for f in (*ctx.text_fields, "occupation")])
        by_rule: dict[str, list[Hit]] = {}
        checked: dict[str, dict[str, str | None]] = {}
        for h in hits:
            name = "female_barred_work" if h.rule == "gender" and _favours_men(h) else h.exception
            if name is not None:
                shown_by = lawful.match(name)
                checked.setdefault(h.rule, {})[name] = shown_by
                if shown_by is not None:
                    continue  # a lawful exception applies to this limit
            by_rule.setdefault(h.rule, []).append(h)
        for rule in GROUNDS:
            if rule in by_rule:
                yield self._finding(ctx, rule, by_rule[rule], checked.get(rule, {}), lawful)

    def _finding(
        self,
        ctx: DetectionContext,
        rule: str,
        hits: list[Hit],
        checked: dict[str, str | None],
        lawful: LawfulContext,
    ) -> Finding:
        evidence: list[Evidence] = [ctx.evidence(f, s, e) for f, s, e in _merge_spans(hits)]
        analysis: dict[str, object] = {
            "hits": [
                {
                    "field": h.field,
                    "excerpt": ctx.norm(h.field).original_slice(h.start, h.end),
                    "trigger": h.trigger,
                    "context_kind": h.kind,
                    "context": h.context,
                    "score": round(h.score, 3),
                }
                for h in hits
            ],
            "exceptions_checked": {
                name: {"basis": exception_set(name).basis, "found": found} for name, found in checked.items()
            },
        }
        if rule == "gender":
            reasons = lawful.claimed_reasons()
            if reasons:
                analysis["reasons_not_lawful"] = reasons
        finding = ctx.finding(f"discrimination.{rule}", evidence, score=max(h.score for h in hits), analysis=analysis)
        extra = [b for h in hits for b in h.legal_basis if b not in finding.legal_basis]
        if extra:
            finding = dataclasses.replace(finding, legal_basis=(*finding.legal_basis, *dict.fromkeys(extra)))
        return finding
