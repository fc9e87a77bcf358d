"""Fake-recruitment signals written into text: fees, task scams, overseas lures, pyramid pay, salaries, private contact."""

from __future__ import annotations

import random

from corpus.catalog import load, qq_number, wechat_id
from corpus.evasion import (
    ADD_WECHAT_PHRASES,
    QQ_ALIASES,
    WECHAT_ALIASES,
    space_out,
    split_with_newline,
)
from corpus.posting import PostingDraft

SCAM_SOURCES = ("微信群", "QQ群", "抖音", "贴吧", "小红书", "58同城", "快手", "闲鱼")


def _spec(rule: str) -> dict:
    return load("fraud")[rule]


def inject_fee_demand(draft: PostingDraft, rng: random.Random, adversarial: bool) -> None:
    """Ask applicants to pay before they start."""
    spec, slots = _spec("fee_demand"), draft.slots
    if adversarial:
        text = slots.render(rng.choice(spec["evasive"]))
        if rng.random() < 0.3:
            text = split_with_newline(rng, slots.render(rng.choice(spec["plain"])))
    else:
        text = slots.render(rng.choice(spec["plain"]))
    if draft.scam_lines is not None:
        draft.scam_lines.append(text)
    elif rng.random() < 0.5:
        draft.add_requirement(rng, text)
    else:
        draft.notices.append(text)
    draft.flag("fake_recruitment.fee_demand", rng.choice(spec["notes"]), adversarial)


def start_scam(draft: PostingDraft, rng: random.Random) -> None:
    """Reset the draft to a loose scam advertisement posted on social media."""
    draft.scam_lines = []
    draft.family = None
    draft.intro, draft.duties, draft.requirements, draft.benefits = [], [], [], []
    draft.source = rng.choice(SCAM_SOURCES)
    draft.channel = "offline" if draft.source == "电线杆" else "online"
    draft.url = None
    draft.agency = None
    draft.employer = {"name": draft.slots.render(rng.choice(_spec("private_contact_only")["anonymous_employers"]))}
    draft.contact = {"phone": draft.slots["own_mobile"]}


def inject_task_scam(draft: PostingDraft, rng: random.Random, adversarial: bool) -> None:
    """Brushing orders, paid likes, typing at home: pay comes after the victim advances money."""
    spec, slots = _spec("task_scam"), draft.slots
    start_scam(draft, rng)
    draft.title = slots.render(rng.choice(spec["titles"]))
    draft.fluff = tuple(spec["fluff"])
    draft.occupation = rng.choice(("网络兼职", "兼职", "在线任务员"))
    task = slots.render(rng.choice(spec["evasive_tasks"] if adversarial else spec["tasks"]))
    draft.scam_lines += [
        rng.choice(spec["hooks"]),
        task,
        slots.render(rng.choice(spec["pay"])),
        rng.choice(spec["extra"]),
    ]
    daily = slots["daily"]
    draft.salary = {"min": daily, "max": daily * rng.choice((2, 3)), "unit": "day"}
    draft.flag("fake_recruitment.task_scam", rng.choice(spec["notes"]), adversarial)


def inject_overseas_lure(draft: PostingDraft, rng: random.Random, adversarial: bool) -> bool:
    """High pay abroad, tickets paid, no skills needed. Returns True if the pay is explicit."""
    spec, slots = _spec("overseas_lure"), draft.slots
    start_scam(draft, rng)
    draft.title = slots.render(rng.choice(spec["titles"]))
    draft.occupation = slots["job"]
    draft.fluff = tuple(spec["fluff"])
    explicit = rng.random() < 0.65
    pay = slots.render(rng.choice(spec["pay_explicit"] if explicit else spec["pay_vague"]))
    lines = [
        slots.render(rng.choice(spec["hooks"])),
        pay,
        *rng.sample(spec["perks"], rng.randint(1, 3)),
        rng.choice(spec["no_bar"]),
    ]
    if adversarial:
        lines[0] = rng.choice(spec["evasive"])
    draft.scam_lines += lines
    if explicit:
        k = slots["k"]
        draft.salary = {"min": k * 10_000, "max": slots["k2"] * 10_000, "unit": "month"}
        draft.flag("fake_recruitment.overseas_lure", rng.choice(spec["notes"]), adversarial)
        draft.flag("fake_recruitment.implausible_salary", "无经验要求的境外岗位承诺数万元月薪，远超合理水平")
    else:
        draft.salary = None
        draft.flag("fake_recruitment.overseas_lure", rng.choice(spec["notes"]), adversarial)
    return explicit


def inject_pyramid(draft: PostingDraft, rng: random.Random, adversarial: bool) -> None:
    """Pay by recruits brought in rather than by work done."""
    spec, slots = _spec("pyramid_scheme"), draft.slots
    start_scam(draft, rng)
    draft.title = slots.render(rng.choice(spec["titles"]))
    draft.occupation = rng.choice(("合伙人", "代理", "团队长"))
    draft.fluff = tuple(spec["fluff"])
    body = slots.render(rng.choice(spec["evasive"] if adversarial else spec["bodies"]))
    tail = rng.choice([t for t in ("不用坐班", "手机就能做", "宝妈可做", "时间自由") if t not in body])
    draft.scam_lines += [body, tail]
    draft.salary = (
        {"min": 10_000, "max": rng.choice((50_000, 100_000)), "unit": "month"} if rng.random() < 0.5 else None
    )
    draft.flag("fake_recruitment.pyramid_scheme", rng.choice(spec["notes"]), adversarial)


def inject_implausible_salary(draft: PostingDraft, rng: random.Random) -> None:
    """Pay several times the local market rate for an unskilled job."""
    spec, slots = _spec("implausible_salary"), draft.slots
    lo = slots["lo"]
    hi = slots["hi"]
    draft.salary = {"min": lo, "max": hi, "unit": "month"}
    slots["k"] = lo // 10_000
    if rng.random() < 0.6:
        draft.title += " " + slots.render(rng.choice(spec["title_suffix"]))
    phrase = slots.render(rng.choice(spec["phrases"]))
    if draft.scam_lines is not None:
        draft.scam_lines.append(phrase)
    else:
        draft.intro.insert(0, phrase)
    draft.flag("fake_recruitment.implausible_salary", rng.choice(spec["notes"]))


def inject_private_contact(draft: PostingDraft, rng: random.Random, adversarial: bool) -> None:
    """Hide the employer and leave only a private WeChat or QQ to reach it."""
    spec, slots = _spec("private_contact_only"), draft.slots
    if draft.scam_lines is None:
        draft.employer = {"name": slots.render(rng.choice(spec["anonymous_employers"]))}
        draft.agency = None
        draft.closing = []
        draft.location.pop("address", None)
    if rng.random() < 0.7:
        im, field = wechat_id(rng, slots.fake), "wechat"
        word = rng.choice(WECHAT_ALIASES) if adversarial else rng.choice(("微信", "微信号", "wx"))
        add = rng.choice(ADD_WECHAT_PHRASES) if adversarial else "加微信"
    else:
        im, field = qq_number(rng), "qq"
        word = rng.choice(QQ_ALIASES) if adversarial else "QQ"
        add = "加" + word
    slots.update(im=im, im_word=word, add_im=add)
    line = slots.render(rng.choice(spec["lines"]))
    if adversarial and rng.random() < 0.3:
        line = line.replace(im, space_out(im))
    draft.contact = {field: im}
    if draft.scam_lines is not None:
        draft.scam_lines.append(line)
    else:
        draft.notices.append(line)
    channel = "微信" if field == "wechat" else "QQ"
    draft.flag("fake_recruitment.private_contact_only", rng.choice(spec["notes"]).format(channel=channel), adversarial)


def add_fee_decoy(draft: PostingDraft, rng: random.Random) -> None:
    """An anti-fraud disclaimer or a fee the company pays itself."""
    text, note = rng.choice(_spec("fee_demand")["decoys"])
    draft.notices.append(draft.slots.render(text))
    draft.decoy(note)


def add_task_decoy(draft: PostingDraft, rng: random.Random) -> None:
    """An anti-fraud reminder that names the scams it warns about."""
    draft.notices.append(
        rng.choice(
            (
                "【防骗须知】本公司招聘不涉及任何先垫钱、冲单或打字赚钱类兼职，遇到请报警",
                "提醒：凡是要求先垫付、做点赞刷单任务的“兼职”都是诈骗，本公司从不发布此类信息",
                "温馨提示：正规招聘不会让你刷单返利，谨防上当",
            )
        )
    )
    draft.decoy("防骗须知中提到刷单等字样，并非招揽刷单")


def add_pyramid_decoy(draft: PostingDraft, rng: random.Random) -> None:
    """Referral bonuses and personal commissions, which are lawful pay."""
    text, note = rng.choice(_spec("pyramid_scheme")["decoys"])
    draft.benefits.append(draft.slots.render(text))
    draft.decoy(note)


def make_overseas_posting_lawful(draft: PostingDraft, rng: random.Random) -> None:
    """A company posting its own staff to its own project abroad, at a plausible salary."""
    text, note = rng.choice(_spec("overseas_lure")["decoys"])
    country = rng.choice(("马来西亚", "沙特阿拉伯", "印度尼西亚", "肯尼亚", "哈萨克斯坦", "塞尔维亚"))
    draft.title = f"{country}项目{draft.title}（外派）"
    draft.intro.insert(0, f"公司在{country}承建的项目招聘外派人员")
    draft.notices.append(text)
    if draft.salary and draft.salary["unit"] == "month":
        draft.salary = {"min": int(draft.salary["min"] * 1.5), "max": int(draft.salary["max"] * 1.8), "unit": "month"}
    draft.decoy(note)
