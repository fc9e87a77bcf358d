"""Personal data pasted into postings and filings: notices naming people, resume trading, lawful look-alikes."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from corpus import evasion, identifiers
from corpus.catalog import Slots, load, personal_email, places, qq_number, wechat_id
from corpus.posting import PostingDraft

IDENTIFIERS = ("resident_id", "mobile", "bank_card", "passport", "email", "im_account", "address")
RULE_WORDS = {
    "resident_id": "身份证号",
    "mobile": "手机号",
    "bank_card": "银行卡号",
    "passport": "护照号",
    "email": "个人邮箱",
    "im_account": "社交账号",
    "address": "家庭住址",
    "bulk_records": "多人信息",
}
BULK_THRESHOLD = 3  # identifiers of three or more people in one record


def _home_address(rng: random.Random, slots: Slots) -> str:
    place = rng.choice(places())
    street = slots.fake.street_name()
    return (
        f"{place.city}市{place.district}{street}{rng.randint(1, 300)}号"
        f"{rng.randint(1, 20)}栋{rng.randint(1, 3)}单元{rng.randint(1, 30)}0{rng.randint(1, 6)}"
    )


def _identifier(rng: random.Random, slots: Slots, kind: str, today: date, disguise: bool) -> tuple[str, str, bool]:
    """(label word, value as written, whether it was disguised) for one identifier."""
    words = load("personal_data")["labels"][kind]
    word = rng.choice(words)
    if kind == "resident_id":
        value = identifiers.make_resident_id(rng, today)
        return word, evasion.disguise_resident_id(rng, value) if disguise else value, disguise
    if kind == "mobile":
        value = identifiers.make_mobile(rng)
        return word, evasion.disguise_mobile(rng, value) if disguise else value, disguise
    if kind == "bank_card":
        value = identifiers.make_bank_card(rng)
        return word, evasion.disguise_bank_card(rng, value) if disguise else value, disguise
    if kind == "passport":
        value = identifiers.make_passport(rng)
        return word, evasion.space_out(value) if disguise else value, disguise
    if kind == "email":
        value = personal_email(rng, slots.fake)
        return word, evasion.disguise_email(rng, value) if disguise else value, disguise
    if kind == "im_account":
        if word == "QQ":
            return (rng.choice(evasion.QQ_ALIASES) if disguise else "QQ"), qq_number(rng), disguise
        alias = rng.choice(evasion.WECHAT_ALIASES) if disguise else word
        return alias, wechat_id(rng, slots.fake), disguise
    return word, _home_address(rng, slots), False


def _scenarios_for(rule: str) -> list[dict[str, Any]]:
    scenarios = load("personal_data")["scenario"]
    if rule == "bulk_records":
        return [s for s in scenarios if s["persons"][1] >= BULK_THRESHOLD]
    return [s for s in scenarios if rule in s["fields"]]


def exposure_notice(
    rng: random.Random,
    slots: Slots,
    rule: str,
    adversarial: bool,
    today: date,
    allow_scenarios: tuple[str, ...] | None = None,
) -> tuple[str, list[str], bool, int]:
    """A notice exposing people's identifiers: (text, rules it breaks, disguised?, people named)."""
    scenarios = _scenarios_for(rule)
    if allow_scenarios:
        scenarios = [s for s in scenarios if s["key"] in allow_scenarios] or scenarios
    scenario = rng.choice(scenarios)
    fields = [f for f in scenario["fields"] if f == rule or rng.random() < 0.45]
    if not fields:
        fields = [rng.choice(scenario["fields"])]
    low, high = scenario["persons"]
    persons = rng.randint(max(low, BULK_THRESHOLD) if rule == "bulk_records" else low, high)
    names = [slots.fake.name() for _ in range(persons)]
    slots["person"] = names[0]
    header = slots.render(rng.choice(scenario["headers"]))
    tail = slots.render(rng.choice(scenario["tails"]))
    disguised_any = False
    lines = []
    for name in names:
        parts = []
        for kind in fields:
            disguise = adversarial and rng.random() < 0.7
            word, value, disguised = _identifier(rng, slots, kind, today, disguise)
            disguised_any |= disguised
            # Run-together "身份证110…" is common; "email" + address would fuse into one token.
            glued = kind != "address" and not word[-1].isascii()
            sep = rng.choice((" ", "：", "", " ")) if glued else rng.choice((" ", "："))
            parts.append(f"{word}{sep}{value}")
        lines.append((name, parts))
    if persons == 1:
        name, parts = lines[0]
        body = "，".join(parts)
        text = f"{header}（{body}）" if name in header else f"{header}：{name}，{body}"
    else:
        bullet = rng.choice(("{i}. ", "{i}、", "", "（{i}）"))
        rows = [bullet.format(i=i) + name + " " + " ".join(parts) for i, (name, parts) in enumerate(lines, 1)]
        text = header + "：\n" + "\n".join(rows) + "\n"
    text += ("" if text.endswith("\n") else "。") + tail
    rules = [f"personal_data.{kind}" for kind in fields]
    if persons >= BULK_THRESHOLD:
        rules.append("personal_data.bulk_records")
    return text, rules, disguised_any, persons


def inject(draft: PostingDraft, rng: random.Random, rule: str, adversarial: bool, today: date) -> None:
    """Paste a notice exposing third parties' `rule` identifier(s) into the posting."""
    kind = rule.split(".")[1]
    text, rules, disguised, persons = exposure_notice(rng, draft.slots, kind, adversarial, today)
    draft.notices.insert(rng.randint(0, len(draft.notices)), text)
    # Bulk is about the record, not the notice: two short lists can add up to three people.
    draft.exposed_people += persons
    if draft.exposed_people >= BULK_THRESHOLD and "personal_data.bulk_records" not in rules:
        rules.append("personal_data.bulk_records")
    if rng.random() < 0.3:
        draft.title = draft.slots.render(
            rng.choice(("{job}（附名单）", "【通知】{job}招聘", "{job}继续招聘（内部公示）"))
        )
    notes = load("personal_data")["notes"]
    for found in rules:
        draft.flag(found, notes[found.split(".")[1]] + "（个人信息保护法第十条）", disguised)


def inject_resume_trade(draft: PostingDraft, rng: random.Random, adversarial: bool) -> None:
    """Turn the draft into an advertisement buying or selling job seekers' resumes."""
    spec = load("personal_data")["resume_trade"]
    draft.title = draft.slots.render(rng.choice(spec["titles"]))
    body = spec["evasive"] if adversarial else spec["bodies"]
    draft.scam_lines = [draft.slots.render(rng.choice(body))]
    draft.occupation = "简历数据"
    draft.fluff = tuple(spec["fluff"])
    draft.salary = None
    draft.flag("personal_data.resume_trade", rng.choice(spec["notes"]), adversarial)


def add_decoy(draft: PostingDraft, rng: random.Random, today: date) -> None:
    """Add lawful wording that looks like a leak: own contacts, masked IDs, codes, document lists."""
    text, note = rng.choice(load("personal_data")["decoys"]["lines"])
    slots = draft.slots
    if "{uscc_digits}" in text and draft.employer.get("uscc"):
        slots["uscc_digits"] = draft.employer["uscc"]
    if "{own_mobile}" in text:
        draft.contact["name"] = slots["hr_name"]
        draft.contact["phone"] = slots["own_mobile"]
    if "{hr_email}" in text:
        slots["hr_email"] = draft.contact.setdefault("email", company_email(rng, slots))
    if "{work_address}" in text:
        slots["work_address"] = draft.location.get("address") or draft.slots.render("{city}{district}{road}")
    if "{masked_id}" in text:
        slots["masked_id"] = identifiers.mask_resident_id(identifiers.make_resident_id(rng, today))
    draft.notices.append(slots.render(text))
    draft.decoy(note)


def company_email(rng: random.Random, slots: Slots) -> str:
    """A recruiting mailbox on the company's own domain."""
    word = slots.fake.domain_word()
    if not word.isalpha() or len(word) < 3:
        word = slots.fake.user_name()[:8]
    suffix = rng.choice(("", "-tech", "-group", "hr", "-cn"))
    box = rng.choice(("hr", "zhaopin", "jobs", "recruit", "hr"))
    return f"{box}@{word}{suffix}.{rng.choice(('com', 'cn', 'com.cn'))}"
