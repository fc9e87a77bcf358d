"""Lawful starting points for postings: occupation, employer, agency, pay, contact and filler text."""

from __future__ import annotations

import random
from typing import Any

from corpus import identifiers
from corpus.catalog import Family, Slots, families, load
from corpus.licensing import Agency
from corpus.personal_data import company_email
from corpus.posting import PostingDraft
from corpus.world import Employer, World

PLATFORMS = (
    ("BOSS直聘", "online", "https://www.zhipin.com/job_detail/{hex}.html"),
    ("智联招聘", "online", "https://jobs.zhaopin.com/CC{num}.htm"),
    ("前程无忧", "online", "https://jobs.51job.com/all/{num}.html"),
    ("猎聘", "online", "https://www.liepin.com/job/{num}.shtml"),
    ("拉勾", "online", "https://www.lagou.com/wn/jobs/{num}.html"),
    ("58同城", "online", None),
    ("鱼泡网", "online", None),
    ("赶集网", "online", None),
    ("微信公众号", "online", None),
    ("抖音直播带岗", "livestream", None),
    ("快手直播招聘", "livestream", None),
    ("人才市场招聘会", "job_fair", None),
    ("门店招聘启事", "offline", None),
)
_TITLE_DECOR = ("", "", "", "急招", "诚聘", "【五险一金】", "高薪诚聘")
_TITLE_TAIL = ("", "", "", "（长期）", "+包住", " 双休", "（可实习）")
_CONTACT_NAMES = (
    "人事部",
    "招聘组",
    "人力资源部",
    "行政部",
    "{surname}经理",
    "{surname}女士",
    "{surname}先生",
    "店长",
    "厂办",
    "项目部",
)
_AGENCY_LINES = (
    "{agency_short}受{company}委托代招",
    "本岗位由{agency_name}负责招聘和面试",
    "{agency_short}代招：{company}直招岗位",
    "{agency_name}为{company}招聘以下岗位",
)


def pick_family(rng: random.Random, skill: str | None = None, keys: tuple[str, ...] = ()) -> Family:
    """An occupation family; mining is rare, as in the real market."""
    pool = [f for f in families().values() if (skill is None or f.skill == skill) and (not keys or f.key in keys)]
    weights = [0.3 if f.mining else 1.0 for f in pool]
    return rng.choices(pool, weights)[0]


def salary(rng: random.Random, family: Family) -> dict[str, Any] | None:
    """Pay within the family's market range, in the unit such jobs are usually paid."""
    roll = rng.random()
    if roll < 0.08:
        return None  # 面议
    if family.key == "catering" and roll < 0.25:
        low = rng.randint(17, 24)
        return {"min": low, "max": low + rng.randint(2, 6), "unit": "hour"}
    if family.key == "construction" and roll < 0.35:
        low = rng.choice((250, 280, 300, 320, 350, 380))
        return {"min": low, "max": low + rng.choice((50, 80, 100, 150)), "unit": "day"}
    lo, hi = family.salary
    low = int(rng.uniform(lo, (lo + hi) / 2)) // 500 * 500
    high = min(low + rng.randint(2, 12) * 500, int(hi * 1.2)) // 500 * 500
    if family.skill == "high" and roll > 0.85:
        return {"min": low * 14, "max": max(high, low + 500) * 14, "unit": "year"}
    return {"min": low, "max": max(high, low), "unit": "month"}


def platform(rng: random.Random, draft: PostingDraft) -> None:
    """Where the posting was published, and its URL when the platform has one."""
    draft.source, draft.channel, pattern = rng.choice(PLATFORMS)
    if pattern:
        draft.url = pattern.format(hex=f"{rng.getrandbits(48):012x}", num=rng.randint(10**9, 10**11 - 1))


def employer_contact(rng: random.Random, slots: Slots, place_area: str) -> dict[str, Any]:
    """A recruiting contact: a department or named recruiter, an office phone and/or mailbox."""
    contact: dict[str, Any] = {}
    if rng.random() < 0.8:
        contact["name"] = slots.render(rng.choice(_CONTACT_NAMES))
    roll = rng.random()
    if roll < 0.75:
        contact["phone"] = identifiers.make_landline(rng, place_area) if rng.random() < 0.7 else slots["own_mobile"]
    if roll > 0.55:
        contact["email"] = company_email(rng, slots)
    return contact


def new_draft(world: World, family: Family, employer: Employer, realistic: bool) -> PostingDraft:
    """A lawful posting by a registered employer, with a handful of sentences of content."""
    rng, place = world.rng, employer.place
    title, occupation = rng.choice(family.titles)
    slots = Slots(rng, world.fake, company=employer.name, city=place.city, district=place.district, job=title)
    draft = PostingDraft(
        slots=slots,
        family=family,
        occupation=occupation,
        title=rng.choice(_TITLE_DECOR) + title + rng.choice(_TITLE_TAIL),
    )
    draft.employer = {"name": employer.name, "uscc": employer.uscc}
    draft.location = {"city": place.city, "district": place.district}
    if rng.random() < 0.6:
        draft.location["address"] = employer.address
    draft.salary = salary(rng, family)
    draft.contact = employer_contact(rng, slots, place.area_code)
    platform(rng, draft)
    generic = load("jobs")["generic"]
    if not realistic:  # short postings, the way small employers write them
        draft.duties = rng.sample(family.duties, rng.randint(1, 2))
        draft.requirements = rng.sample(family.requirements, rng.randint(0, 2))
        draft.benefits = rng.sample(generic["benefits"], rng.randint(0, 2))
        if rng.random() < 0.3:
            draft.closing.append(rng.choice(generic["schedule"]))
    else:
        draft.duties = rng.sample(family.duties, 2)
        draft.requirements = rng.sample(family.requirements, 1)
        draft.benefits = rng.sample(generic["benefits"], 1)
        draft.closing = [rng.choice(generic["schedule"]), rng.choice(generic["apply"])]
    draft.duties = [slots.render(s) for s in draft.duties]
    draft.requirements = [slots.render(s) for s in draft.requirements]
    draft.benefits = [slots.render(s) for s in draft.benefits]
    draft.closing = [slots.render(s) for s in draft.closing]
    return draft


def publish_through(draft: PostingDraft, rng: random.Random, agency: Agency, area_code: str) -> None:
    """Make the posting an agency's: agency field, its contact, a line saying it recruits for a client."""
    draft.agency = agency.as_posting_field()
    draft.slots.update(agency_short=agency.short, agency_name=agency.name)
    line = draft.slots.render(rng.choice(_AGENCY_LINES))
    if rng.random() < 0.4:
        line += "，面试通过后与用人单位直接签订劳动合同"
    draft.intro.insert(0, line)
    draft.contact = {"name": agency.short, "phone": identifiers.make_landline(rng, agency.place.area_code or area_code)}


def scam_draft(world: World) -> PostingDraft:
    """An empty draft for advertisements that are not real jobs; the scam injectors fill it."""
    place = world.place()
    slots = Slots(world.rng, world.fake, city=place.city, district=place.district, company=place.city + "某公司")
    draft = PostingDraft(slots=slots, family=None, title="", occupation="")
    draft.location = {"city": place.city}
    draft.scam_lines = []
    return draft
