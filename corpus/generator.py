"""The labelled synthetic corpus: a seeded stream of filings, registrations and postings with their labels."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faker import Faker

try:
    import orjson
except ImportError:  # orjson is a declared dependency; plain json keeps the corpus usable without it
    orjson = None  # type: ignore[assignment]

from corpus import discrimination, drafting, fraud, identifiers, personal_data
from corpus.catalog import Slots
from corpus.licensing import AgencyRegistry
from corpus.posting import PostingDraft, length_target, pad, to_record
from corpus.world import Emission, World, rfc3339
from detectors.rules import rule_specs

# Registered rules (detectors/<category>/rules.toml) the generator writes no examples of yet.
NOT_GENERATED = frozenset({
    "fake_recruitment.lapsed_licence",
    "fake_recruitment.mass_posted_template",
    "fake_recruitment.annual_report_anomaly",
})


def _registered(category: str, shorts: Iterable[str] | None = None) -> tuple[str, ...]:
    """Rule names from the registry, in its order: `shorts` of `category`, or all of them the generator writes.

    Raises if the generator names a rule the registry does not have, so a rename fails loudly here.
    """
    specs = rule_specs()
    if shorts is None:
        return tuple(r for r, spec in specs.items() if spec.category == category and r not in NOT_GENERATED)
    names = tuple(f"{category}.{s}" for s in shorts)
    unknown = [n for n in names if n not in specs]
    if unknown:
        raise ValueError(f"the corpus generator names rules the registry does not have: {unknown}")
    return names


DISCRIMINATION_RULES = _registered("discrimination", discrimination.GROUNDS)
PERSONAL_DATA_RULES = _registered("personal_data", (*personal_data.IDENTIFIERS, "bulk_records", "resume_trade"))
FAKE_RECRUITMENT_RULES = _registered("fake_recruitment")
RULES = DISCRIMINATION_RULES + PERSONAL_DATA_RULES + FAKE_RECRUITMENT_RULES

# Rules that are properties of text added to an ordinary posting, and so combine freely.
_TEXT_RULES = (
    *DISCRIMINATION_RULES,
    *PERSONAL_DATA_RULES[:-1],
    "fake_recruitment.fee_demand",
    "fake_recruitment.implausible_salary",
)
_EMPLOYER_RULES = (
    "fake_recruitment.inactive_employer",
    "fake_recruitment.employer_mismatch",
    "fake_recruitment.invalid_uscc",
)
_SCAM_COMPANIONS = {
    "fake_recruitment.task_scam": ("fake_recruitment.private_contact_only", "fake_recruitment.fee_demand"),
    "fake_recruitment.overseas_lure": (
        "fake_recruitment.private_contact_only",
        "discrimination.gender",
        "discrimination.age",
    ),
    "fake_recruitment.pyramid_scheme": ("fake_recruitment.private_contact_only", "fake_recruitment.fee_demand"),
    "personal_data.resume_trade": (),
}
_DECOY_KINDS = (
    "discrimination",
    "discrimination",
    "discrimination",
    "personal_data",
    "personal_data",
    "fee",
    "task",
    "pyramid",
    "overseas",
    "senior_pay",
    "day_labour",
    "own_im",
    "agency",
    "renamed",
)


@dataclass(frozen=True)
class Mix:
    """Proportions of the corpus; the defaults give ~60% lawful postings."""

    clean: float = 0.45
    hard_negative: float = 0.15
    adversarial: float = 0.3  # share of violations written evasively
    extra_rule: float = 0.3  # chance of each further rule in a violating posting
    routine_filing: float = 0.04
    registry_update: float = 0.01


def generate(
    n: int, seed: int = 0, realistic_length: bool = False, mix: Mix | None = None
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Yield `n` (record, label) pairs; the same arguments always yield the same pairs."""
    builder = _CorpusBuilder(seed, n, realistic_length, mix or Mix())
    emitted = 0
    while emitted < n:
        for record, label in builder.next_batch():
            if emitted >= n:
                return
            emitted += 1
            record_id = f"syn{seed}-{emitted:07d}"
            record["id"] = record_id
            yield record, {"id": record_id, **label}


def write_corpus(
    path_records: str | Path, path_labels: str | Path, n: int, seed: int = 0, realistic_length: bool = False
) -> int:
    """Write `n` records and their labels as UTF-8 JSON Lines; returns the number written."""
    written = 0
    with open(path_records, "wb") as records, open(path_labels, "wb") as labels:
        for record, label in generate(n, seed=seed, realistic_length=realistic_length):
            records.write(_json_line(record))
            labels.write(_json_line(label))
            written += 1
    return written


def _json_line(obj: dict[str, Any]) -> bytes:
    # orjson writes UTF-8 without escaping CJK (as ensure_ascii=False does), several times faster.
    if orjson is not None:
        return orjson.dumps(obj, option=orjson.OPT_APPEND_NEWLINE)
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-8")


class _CorpusBuilder:
    """Decides what comes next and builds it, registry records first."""

    def __init__(self, seed: int, n: int, realistic: bool, mix: Mix) -> None:
        self.rng = random.Random(seed)
        fake = Faker("zh_CN")
        fake.seed_instance(seed)
        self.world = World(self.rng, fake, n)
        self.licensing = AgencyRegistry(self.world)
        self.realistic = realistic
        self.mix = mix

    def next_batch(self) -> list[Emission]:
        """The next record, preceded by whatever registry records it depends on."""
        rng, mix = self.rng, self.mix
        self.world.tick()
        roll = rng.random()
        if roll < mix.routine_filing:
            routine = self._routine_filing()
            if routine:
                return [routine]
        elif roll < mix.routine_filing + mix.registry_update:
            return [self._registry_update()]
        roll = rng.random()
        if roll < mix.clean:
            return self._posting(rules=[], decoy=None)
        if roll < mix.clean + mix.hard_negative:
            return self._posting(rules=[], decoy=rng.choice(_DECOY_KINDS))
        return self._posting(rules=self._pick_rules(), decoy=None)

    # -- what a violating posting breaks ---------------------------------------
    def _pick_rules(self) -> list[str]:
        rng = self.rng
        rules = [rng.choice(RULES)]
        primary = rules[0]
        if primary in _SCAM_COMPANIONS:
            companions = list(_SCAM_COMPANIONS[primary])
        elif primary == "fake_recruitment.private_contact_only":
            companions = [r for r in _TEXT_RULES if r != "fake_recruitment.implausible_salary"]
        elif primary in _EMPLOYER_RULES or primary == "fake_recruitment.unlicensed_agency":
            companions = list(_TEXT_RULES)
        else:
            companions = [
                *_TEXT_RULES,
                *_EMPLOYER_RULES,
                "fake_recruitment.unlicensed_agency",
                "fake_recruitment.private_contact_only",
            ]
        while companions and rng.random() < self.mix.extra_rule and len(rules) < 3:
            extra = rng.choice(companions)
            rules.append(extra)
            # One identity problem per posting: an anonymous employer has no USCC to check.
            identity = {*_EMPLOYER_RULES, "fake_recruitment.unlicensed_agency", "fake_recruitment.private_contact_only"}
            companions = [c for c in companions if c not in rules and not (extra in identity and c in identity)]
        return rules

    # -- postings ----------------------------------------------------------------
    def _posting(self, rules: list[str], decoy: str | None) -> list[Emission]:
        rng, world = self.rng, self.world
        adversarial = bool(rules) and rng.random() < self.mix.adversarial
        scam = next((r for r in rules if r in _SCAM_COMPANIONS), None)
        emissions: list[Emission] = []
        if scam:
            draft = drafting.scam_draft(world)
        else:
            draft, emissions = self._ordinary_draft(rules, decoy)
        # The scam sets the stage (it resets the draft), so it goes first.
        ordered = ([scam] if scam else []) + [r for r in rules if r != scam]
        for i, rule in enumerate(ordered):
            self._apply(draft, rule, adversarial and i == 0)
        if decoy and not rules:
            self._add_decoy(draft, decoy)
        if self.realistic:
            pad(draft, rng, length_target(rng))
        record = to_record(draft, rng, rfc3339(world.now))
        emissions.append((record, draft.label()))
        return emissions

    def _ordinary_draft(
        self,
        rules: list[str],
        decoy: str | None,
    ) -> tuple[PostingDraft, list[Emission]]:
        rng, world = self.rng, self.world
        if "fake_recruitment.implausible_salary" in rules:
            family = drafting.pick_family(rng, skill="low")
        elif decoy in ("senior_pay",):
            family = drafting.pick_family(rng, keys=("software", "data"))
        elif decoy == "overseas":
            family = drafting.pick_family(rng, keys=("construction", "technician", "software"))
        elif decoy == "day_labour":
            family = drafting.pick_family(rng, keys=("construction", "logistics"))
        elif decoy == "discrimination" and rng.random() < 0.2:
            family = drafting.pick_family(rng, keys=("mining", "logistics"))
        else:
            family = drafting.pick_family(rng)
        emissions: list[Emission] = []
        note = ""
        if "fake_recruitment.inactive_employer" in rules:
            employer, emissions, note = world.inactive_employer(family)
        elif decoy == "renamed":
            employer, emissions, note = world.renamed_employer(family)
        else:
            employer, emissions = world.employer(family)
        draft = drafting.new_draft(world, family, employer, self.realistic)
        if note and decoy == "renamed":
            draft.decoy(note)
        elif note:
            draft.flag("fake_recruitment.inactive_employer", note)
        if "fake_recruitment.employer_mismatch" in rules:
            posted_name, note = world.mismatched_name(employer)
            draft.employer = {"name": posted_name, "uscc": employer.uscc}
            draft.slots["company"] = posted_name
            draft.flag("fake_recruitment.employer_mismatch", note)
        elif "fake_recruitment.invalid_uscc" in rules:
            valid = identifiers.make_uscc(rng, employer.place.county_code)
            broken = identifiers.break_uscc(rng, valid)
            draft.employer = {"name": world.company_name(employer.place, family), "uscc": broken}
            draft.slots["company"] = draft.employer["name"]
            draft.flag(
                "fake_recruitment.invalid_uscc",
                f"统一社会信用代码{broken}校验位错误（GB 32100-2015），为虚假或错误代码",
            )
        else:
            employer.last_posted = world.now
        emissions += self._agency_for(draft, rules, decoy, employer.place.area_code)
        return draft, emissions

    def _agency_for(self, draft: PostingDraft, rules: list[str], decoy: str | None, area_code: str) -> list[Emission]:
        rng, world = self.rng, self.world
        if "fake_recruitment.unlicensed_agency" in rules:
            agency, emissions, note = self.licensing.unlicensed_agency()
            draft.flag("fake_recruitment.unlicensed_agency", note)
        elif (
            decoy == "agency"
            or (not rules and not decoy and rng.random() < 0.12)
            or (rules and "fake_recruitment.private_contact_only" not in rules and rng.random() < 0.08)
        ):
            agency, emissions = self.licensing.licensed_agency()
            days_left = (agency.valid_until - world.now.date()).days
            if decoy == "agency" or days_left < 60:
                draft.decoy(f"发布日{world.now.date()}在许可期限（至{agency.valid_until}）之内")
        else:
            return []
        agency.last_posted = world.now
        drafting.publish_through(draft, rng, agency, area_code)
        return emissions

    def _apply(self, draft: PostingDraft, rule: str, adversarial: bool) -> None:
        rng, today = self.rng, self.world.now.date()
        category, name = rule.split(".")
        if category == "discrimination":
            discrimination.inject(draft, rng, name, adversarial)
        elif rule == "personal_data.resume_trade":
            fraud.start_scam(draft, rng)
            draft.contact = {
                "name": draft.slots.render("{surname}先生"),
                "phone": draft.slots["own_mobile"],
                "wechat": draft.slots["wechat"],
            }
            personal_data.inject_resume_trade(draft, rng, adversarial)
        elif category == "personal_data":
            personal_data.inject(draft, rng, rule, adversarial, today)
        elif name == "fee_demand":
            fraud.inject_fee_demand(draft, rng, adversarial)
        elif name == "task_scam":
            fraud.inject_task_scam(draft, rng, adversarial)
        elif name == "overseas_lure":
            fraud.inject_overseas_lure(draft, rng, adversarial)
        elif name == "pyramid_scheme":
            fraud.inject_pyramid(draft, rng, adversarial)
        elif name == "implausible_salary":
            fraud.inject_implausible_salary(draft, rng)
        elif name == "private_contact_only":
            fraud.inject_private_contact(draft, rng, adversarial)
        # registry rules were settled while choosing the employer and agency

    def _add_decoy(self, draft: PostingDraft, kind: str) -> None:
        rng, slots = self.rng, draft.slots
        if kind == "discrimination":
            discrimination.add_decoy(draft, rng, rng.choice(discrimination.decoy_grounds(draft)))
        elif kind == "personal_data":
            personal_data.add_decoy(draft, rng, self.world.now.date())
        elif kind == "fee":
            fraud.add_fee_decoy(draft, rng)
        elif kind == "task":
            fraud.add_task_decoy(draft, rng)
        elif kind == "pyramid":
            fraud.add_pyramid_decoy(draft, rng)
        elif kind == "overseas":
            fraud.make_overseas_posting_lawful(draft, rng)
        elif kind == "senior_pay":
            low = rng.choice((40_000, 45_000, 50_000, 60_000))
            draft.salary = {"min": low, "max": low + rng.choice((10_000, 20_000, 30_000)), "unit": "month"}
            draft.title = rng.choice(("资深", "高级", "首席", "专家级")) + draft.title
            draft.add_requirement(rng, slots.render("{years}年以上相关经验，有大型项目主导经历"))
            draft.decoy("资深岗位薪酬与经验要求相称，不属于虚高薪资")
        elif kind == "day_labour":
            pay = rng.choice((180, 200, 220, 250, 300))
            draft.salary = {"min": pay, "max": pay, "unit": "day"}
            draft.title = draft.title.split("（")[0] + "（临时工，日结）"
            draft.intro.insert(0, f"项目用工{rng.randint(5, 30)}天，每天{pay}元当日结清，双方签书面劳务协议")
            draft.decoy("临时用工按天结算，日薪合理，不是高薪诱骗")
        elif kind == "own_im":
            wechat = slots["wechat"]
            draft.contact["wechat"] = wechat
            draft.contact.setdefault("phone", slots["own_mobile"])
            draft.notices.append(f"也可添加招聘专员微信{wechat}咨询，或直接来电")
            draft.decoy("具名企业同时留有电话和招聘微信，不属于仅私人联系")
        # "agency" and "renamed" decoys were settled with the employer and agency

    # -- registry-only records ---------------------------------------------------
    def _routine_filing(self) -> Emission | None:
        routine = self.licensing.noise_filing()
        if routine is None:
            return None
        record, label = routine
        if record["filing_type"] == "annual_report" and self.rng.random() < 0.2:
            slots = Slots(self.rng, self.world.fake, job="派遣员工")
            kind = self.rng.choice(("resident_id", "mobile", "bulk_records"))
            text, rules, _, _ = personal_data.exposure_notice(
                self.rng, slots, kind, adversarial=False, today=self.world.now.date(), allow_scenarios=("annual_staff",)
            )
            record["notes"] = record["notes"] + text
            exposed = "、".join(personal_data.RULE_WORDS[r.split(".")[1]] for r in rules)
            label = {
                "categories": ["personal_data"],
                "rules": rules,
                "note": f"年度报告对外公示，备注中列出了员工的{exposed}，构成个人信息泄露",
                "tags": [],
            }
        return record, label

    def _registry_update(self) -> Emission:
        world = self.world
        family = drafting.pick_family(self.rng)
        employer, emissions = world.employer(family)
        if emissions:
            return emissions[0]
        when = world.moment_between(employer.registered_at, world.now)
        employer.registered_at = when
        return world.registration(employer, "active", when, "企业登记事项变更（存续）")
