"""Discriminatory requirements for the nine grounds, their evasive spellings, and lawful look-alikes."""

from __future__ import annotations

import random

from corpus.catalog import load
from corpus.evasion import space_out, split_with_newline, to_traditional
from corpus.posting import PostingDraft

GROUNDS: tuple[str, ...] = tuple(load("discrimination"))

# Work that 女职工劳动保护特别规定 (附录) bars women from: a sex limit here is lawful.
_LAWFUL_SEX_LIMITS = {
    "mining": (
        "限男性（矿山井下作业属于《女职工劳动保护特别规定》规定的女职工禁忌从事的劳动）",
        "本岗位为矿山井下作业，依据《女职工劳动保护特别规定》只招收男性",
        "因属井下作业，按照女职工禁忌从事的劳动范围不安排女职工",
    ),
    "logistics": (
        "需间断搬运单件30公斤以上货物，依据《女职工劳动保护特别规定》限男性",
        "装卸岗位每次负重超过25公斤，属女职工禁忌从事的劳动，本岗位招男性",
    ),
}


def inject(draft: PostingDraft, rng: random.Random, ground: str, adversarial: bool) -> None:
    """Add a requirement that discriminates on `ground`, written plainly or evasively."""
    spec = load("discrimination")[ground]
    text = draft.slots.render(rng.choice(spec["plain"]))
    evaded = False
    if adversarial:
        mode = rng.choice(("handwritten", "handwritten", "spaced", "newline", "traditional"))
        if mode == "traditional" and to_traditional(text) != text and draft.scam_lines is None:
            draft.traditional = evaded = True
        elif mode in ("spaced", "newline", "traditional"):
            text = space_out(text) if len(text) <= 10 and mode != "newline" else split_with_newline(rng, text)
            evaded = True
        else:
            text = draft.slots.render(rng.choice(spec["evasive"]))
            evaded = True
    if draft.scam_lines is not None:
        draft.scam_lines.append("要求：" + text)
    else:
        draft.add_requirement(rng, text)
    draft.flag(f"discrimination.{ground}", rng.choice(spec["notes"]), evaded)


def decoy_grounds(draft: PostingDraft) -> list[str]:
    """Grounds with lawful look-alike wording that suits this posting."""
    grounds = list(GROUNDS)
    if draft.family is not None and draft.family.key in _LAWFUL_SEX_LIMITS:
        grounds.append("lawful_sex_limit")
    return grounds


def add_decoy(draft: PostingDraft, rng: random.Random, ground: str) -> None:
    """Add lawful wording that a keyword filter would mistake for discrimination on `ground`."""
    if ground == "lawful_sex_limit" and draft.family is not None:
        draft.add_requirement(rng, rng.choice(_LAWFUL_SEX_LIMITS[draft.family.key]))
        draft.decoy("女职工禁忌从事的劳动范围内的性别限制合法（女职工劳动保护特别规定）")
        return
    choices = load("discrimination")[ground]["decoys"]
    food = draft.family is not None and draft.family.food
    if ground == "health" and not food:
        choices = [c for c in choices if "健康证" not in c[0]]
    if ground == "region" and (draft.family is None or draft.family.key != "driver"):
        choices = [c for c in choices if "路况" not in c[0]]
    if ground == "ethnicity":
        choices = [c for c in choices if "翻译" not in c[0]]
    text, note = rng.choice(choices)
    draft.add_requirement(rng, draft.slots.render(text))
    draft.decoy(note)
