"""A job posting under construction: its parts, its labels, and how it is laid out as text."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from corpus.catalog import Family, Slots, load
from corpus.evasion import to_traditional

# Sentence pools a padded posting draws on, in the order a recruiter would write them.
_PAD_ORDER = (
    "duties",
    "requirements",
    "benefits",
    "intro",
    "development",
    "environment",
    "requirements",
    "process",
    "benefits",
    "duties",
)
LENGTH_MEDIAN = 490
LENGTH_SIGMA = 0.5
LENGTH_BOUNDS = (150, 1500)


@dataclass
class PostingDraft:
    """Everything a posting will say, plus what the label will say about it."""

    slots: Slots
    family: Family | None
    title: str
    occupation: str
    intro: list[str] = field(default_factory=list)
    duties: list[str] = field(default_factory=list)
    requirements: list[str] = field(default_factory=list)
    benefits: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # pasted lists, disclaimers, demands
    closing: list[str] = field(default_factory=list)
    scam_lines: list[str] | None = None  # scams are written as loose lines, not sections
    fluff: tuple[str, ...] = ()  # what a scam pads itself with, in its own voice
    exposed_people: int = 0  # people whose identifiers the posting publishes, over all notices
    employer: dict[str, Any] = field(default_factory=dict)
    agency: dict[str, Any] | None = None
    contact: dict[str, Any] = field(default_factory=dict)
    salary: dict[str, Any] | None = None
    location: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    channel: str = "online"
    url: str | None = None
    traditional: bool = False
    rules: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    decoy_notes: list[str] = field(default_factory=list)

    def flag(self, rule: str, note: str, adversarial: bool = False) -> None:
        """Record a violation the posting now contains."""
        if rule not in self.rules:
            self.rules.append(rule)
            self.notes.append(note)
        if adversarial:
            self.tags.add("adversarial")

    def decoy(self, note: str) -> None:
        """Record lawful wording that looks like a violation."""
        if note not in self.decoy_notes:
            self.decoy_notes.append(note)

    def add_requirement(self, rng: random.Random, text: str) -> None:
        """Insert a requirement at a random place, as recruiters do."""
        self.requirements.insert(rng.randint(0, len(self.requirements)), text)

    def label(self) -> dict[str, Any]:
        """The label body (the generator adds the id)."""
        categories = list(dict.fromkeys(rule.split(".")[0] for rule in self.rules))
        if self.rules:
            return {
                "categories": categories,
                "rules": list(self.rules),
                "note": "；".join(self.notes),
                "tags": sorted(self.tags & {"adversarial"}),
            }
        if self.decoy_notes:
            return {"categories": [], "rules": [], "note": "；".join(self.decoy_notes), "tags": ["hard_negative"]}
        return {"categories": [], "rules": [], "note": "正常招聘", "tags": []}


def length_target(rng: random.Random) -> int:
    """Title+description length for one realistic posting: log-normal around the median."""
    value = math.exp(rng.gauss(math.log(LENGTH_MEDIAN), LENGTH_SIGMA))
    return int(min(max(value, LENGTH_BOUNDS[0]), LENGTH_BOUNDS[1]))


def _estimate(draft: PostingDraft) -> int:
    parts = (
        draft.intro,
        draft.duties,
        draft.requirements,
        draft.benefits,
        draft.notices,
        draft.closing,
        draft.scam_lines or [],
    )
    return len(draft.title) + sum(len(s) + 3 for part in parts for s in part) + 20


def pad(draft: PostingDraft, rng: random.Random, target: int) -> None:
    """Add lawful filler sentences until the posting is about `target` characters long."""
    length = _estimate(draft)
    if draft.scam_lines is not None:
        pool = [s for s in draft.fluff if s not in draft.scam_lines]
        while pool and length < target:
            line = pool.pop(rng.randrange(len(pool)))
            draft.scam_lines.insert(rng.randint(1, max(1, len(draft.scam_lines))), line)
            length += len(line) + 3
        return
    generic = load("jobs")["generic"]
    family_duties = list(draft.family.duties) if draft.family else []
    family_reqs = list(draft.family.requirements) if draft.family else []
    pools = {
        "duties": [s for s in family_duties if s not in draft.duties],
        "requirements": [s for s in family_reqs + generic["requirements"] if s not in draft.requirements],
        "benefits": [s for s in generic["benefits"] if s not in draft.benefits],
        "intro": list(generic["company_intro"]),
        "development": list(generic["development"]),
        "environment": list(generic["environment"]),
        "process": list(generic["process"]),
    }
    targets = {
        "duties": draft.duties,
        "requirements": draft.requirements,
        "benefits": draft.benefits,
        "intro": draft.intro,
        "development": draft.intro,
        "environment": draft.benefits,
        "process": draft.closing,
    }
    step = rng.randrange(len(_PAD_ORDER))
    while length < target and any(pools.values()):
        kind = _PAD_ORDER[step % len(_PAD_ORDER)]
        step += 1
        pool = pools[kind]
        if pool:
            sentence = draft.slots.render(pool.pop(rng.randrange(len(pool))))
            targets[kind].append(sentence)
            length += len(sentence) + 3


def _numbered(items: list[str], sep: str = "；") -> str:
    return "\n".join(f"{i}. {text}{sep if i < len(items) else '。'}" for i, text in enumerate(items, 1))


def render_description(draft: PostingDraft, rng: random.Random) -> str:
    """The description text in one of the layouts recruiters commonly use."""
    if draft.scam_lines is not None:
        joiner = rng.choice(("\n", "，", "。", "\n"))
        text = joiner.join(draft.scam_lines)
    else:
        text = _sections(draft, rng)
    return to_traditional(text) if draft.traditional else text


def _sections(draft: PostingDraft, rng: random.Random) -> str:
    layout = (
        rng.choice(("numbered", "bracket", "prose", "bullets"))
        if _estimate(draft) > 220
        else rng.choice(("prose", "prose", "numbered"))
    )
    blocks: list[str] = []
    if draft.intro:
        blocks.append("。".join(draft.intro) + "。")
    heads = {
        "numbered": ("岗位职责：", "任职要求：", "福利待遇："),
        "bracket": ("【岗位职责】", "【任职要求】", "【薪资福利】"),
        "bullets": ("工作内容", "岗位要求", "我们提供"),
        "prose": ("", "要求：", "福利："),
    }[layout]
    for head, items in zip(heads, (draft.duties, draft.requirements, draft.benefits), strict=True):
        if not items:
            continue
        if layout == "numbered":
            blocks.append(head + "\n" + _numbered(items))
        elif layout == "bracket":
            blocks.append(head + "；".join(items) + "。")
        elif layout == "bullets":
            blocks.append(head + "\n" + "\n".join(f"• {s}" for s in items))
        else:
            blocks.append(head + "，".join(items) + "。")
    blocks.extend(s if s.endswith(("。", "！", "\n")) else s + "。" for s in draft.notices)
    if draft.closing:
        blocks.append("。".join(draft.closing) + "。")
    joiner = "" if layout == "prose" and rng.random() < 0.5 else "\n"
    return joiner.join(blocks)


def to_record(draft: PostingDraft, rng: random.Random, posted_at: str) -> dict[str, Any]:
    """The schema-v1 job_posting."""
    title = to_traditional(draft.title) if draft.traditional else draft.title
    record: dict[str, Any] = {"type": "job_posting", "id": None, "source": draft.source}
    if draft.url:
        record["url"] = draft.url
    record["title"] = title
    record["description"] = render_description(draft, rng)
    record["employer"] = draft.employer
    if draft.agency:
        record["agency"] = draft.agency
    record["location"] = draft.location
    if draft.salary:
        record["salary"] = draft.salary
    record["contact"] = draft.contact
    record["occupation"] = draft.occupation
    record["channel"] = draft.channel
    record["posted_at"] = posted_at
    return record
