"""The routing policy: the bundled file, validation errors that name entry and field, routing decisions, a new partner as data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sharing.policy import PolicyError, SharingPolicy, load_policy, parse_policy
from sharing.routing import ReviewState, plan_share
from sharing.topics import share_topic
from streams.topics import TopicNames
from tests.sharing.conftest import filing, finding, posting

MINIMAL = """
version = "t"
[partners.police]
name = "公安"
classification = "内部"
fields = ["finding.id", "finding.rule", "record.contact.phone"]
[[routes]]
name = "police.scams"
partner = "police"
rules = ["fake_recruitment.task_scam"]
min_severity = "high"
share = "immediate"
legal_basis = ["刑事诉讼法 第一百一十条"]
"""


def test_the_bundled_policy_is_valid_and_covers_the_three_partners(policy: SharingPolicy) -> None:
    assert set(policy.partners) == {"police", "market", "tax"}
    assert re.fullmatch(r"[0-9a-f]{64}", policy.digest)
    table = policy.table()
    for route in ("police.fraud_lures", "market.registry_mismatch", "tax.unlicensed_fee_collection"):
        assert route in table
    for route in policy.routes:
        assert route.legal_basis, route.name


def test_the_minimal_policy_parses() -> None:
    p = parse_policy(MINIMAL)
    (route,) = p.routes
    assert route.fields == ("finding.id", "finding.rule", "record.contact.phone")  # the partner's default
    assert p.partners["police"].on_request is None


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            ('min_severity = "high"', 'min_severity = "hgh"'),
            "routes[0] (police.scams).min_severity: must be one of low, medium, high, critical, got 'hgh'",
        ),
        (
            ('share = "immediate"', 'share = "later"'),
            "routes[0] (police.scams).share: must be one of immediate, after_confirmation, got 'later'",
        ),
        (
            ('rules = ["fake_recruitment.task_scam"]', 'rules = ["task_scam"]'),
            "routes[0] (police.scams).rules: unknown rule 'task_scam'; did you mean fake_recruitment.task_scam?",
        ),
        (
            ('rules = ["fake_recruitment.task_scam"]', 'rules = ["fraud.*"]'),
            "routes[0] (police.scams).rules: 'fraud.*': no category 'fraud'",
        ),
        (
            ('partner = "police"', 'partner = "polce"'),
            "routes[0] (police.scams).partner: no partner 'polce' in [partners] (known: police)",
        ),
        (
            ('legal_basis = ["刑事诉讼法 第一百一十条"]', ""),
            "routes[0] (police.scams).legal_basis: required, a non-empty list of strings",
        ),
        (
            ('legal_basis = ["刑事诉讼法 第一百一十条"]', "legal_basis = []"),
            "routes[0] (police.scams).legal_basis: must not be empty",
        ),
        (
            ('min_severity = "high"', 'min_severity = "high"\nmin_severty = "low"'),
            "routes[0] (police.scams).min_severty: unknown field",
        ),
        (
            ('"record.contact.phone"]', '"record.contact.mobile"]'),
            "partners.police.fields: unknown field name(s) record.contact.mobile",
        ),
        (('classification = "内部"', ""), "partners.police.classification: required, a non-empty string"),
        (
            ('share = "immediate"', 'share = "immediate"\nunmask = ["record.contact.phone"]'),
            "routes[0] (police.scams).unmask_legal_basis: required when unmask lists fields",
        ),
        (
            ('share = "immediate"', 'share = "immediate"\nunmask = ["finding.rule"]\nunmask_legal_basis = ["x"]'),
            "routes[0] (police.scams).unmask: finding.rule is not personal data that could be unmasked",
        ),
        (
            (
                'share = "immediate"',
                'share = "immediate"\nfields = ["finding.id"]\nunmask = ["record.contact.phone"]\nunmask_legal_basis = ["x"]',
            ),
            "routes[0] (police.scams).unmask: record.contact.phone is not among the fields shared by this route",
        ),
        (
            ('share = "immediate"', 'share = "immediate"\nfields = ["finding.rule"]'),
            "routes[0] (police.scams).fields: must include finding.id",
        ),
        (
            ('share = "immediate"', 'share = "immediate"\nmin_score = 2'),
            "routes[0] (police.scams).min_score: must be a number from 0 to 1, got 2",
        ),
        (
            ('share = "immediate"', 'share = "immediate"\nsubject_types = ["posting"]'),
            "routes[0] (police.scams).subject_types: 'posting' is not one of",
        ),
        (("[partners.police]", "[partners.Police]"), "partners.Police: a partner name is lower-case"),
        (('version = "t"', ""), "policy.version: required, a non-empty string"),
    ],
)
def test_each_mistake_is_reported_with_its_entry_and_field(edit: tuple[str, str], expected: str) -> None:
    old, new = edit
    assert old in MINIMAL
    with pytest.raises(PolicyError) as err:
        parse_policy(MINIMAL.replace(old, new, 1), "test.toml")
    assert any(p.startswith(expected) for p in err.value.problems), err.value.problems
    assert "invalid sharing policy test.toml" in str(err.value)


def test_every_problem_is_listed_at_once_and_duplicate_routes_are_caught() -> None:
    text = MINIMAL.replace('min_severity = "high"', 'min_severity = "x"') + MINIMAL.split("[[routes]]")[1].join(
        ["\n[[routes]]", ""]
    )
    with pytest.raises(PolicyError) as err:
        parse_policy(text)
    problems = err.value.problems
    assert any(p.startswith("routes[0] (police.scams).min_severity") for p in problems)
    assert any(p == "routes[1] (police.scams).name: duplicates routes[0]" for p in problems)


def test_unreadable_files_and_bad_toml_are_policy_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read the file"):
        load_policy(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("version = \n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(bad)


def test_a_new_partner_is_a_policy_entry_and_gets_its_own_topic() -> None:
    text = (
        MINIMAL
        + """
[partners.labour_inspection]
name = "劳动保障监察"
classification = "内部"
fields = ["finding.id", "finding.rule", "record.agency.name"]
[[routes]]
name = "labour.discrimination"
partner = "labour_inspection"
rules = ["discrimination.*"]
min_severity = "medium"
share = "immediate"
legal_basis = ["就业促进法 第六十二条"]
"""
    )
    p = parse_policy(text)
    f = finding("discrimination.gender", "p-1", severity="high")
    plan = plan_share(p, "labour_inspection", f, None, posting("p-1", agency=True), subject_expired=False)
    assert (plan.action, plan.route.name if plan.route else None) == ("share", "labour.discrimination")
    assert share_topic(TopicNames(), "labour_inspection") == "hr.share.labour_inspection.v1"
    assert share_topic(TopicNames("t1"), "police") == "t1.hr.share.police.v1"


# -- routing decisions ------------------------------------------------------------------------------------

CONFIRMED = ReviewState("1", "confirm", "confirmed", "e1", None)
DISMISSED = ReviewState("1", "dismiss", "dismissed", "e1", None)


@pytest.mark.parametrize(
    ("rule", "severity", "partner", "review", "subject", "expected"),
    [
        (
            "fake_recruitment.task_scam",
            "critical",
            "police",
            None,
            "posting",
            ("share", "police.fraud_lures", "immediate"),
        ),
        ("fake_recruitment.task_scam", "medium", "police", None, "posting", ("skip", None, None)),
        # dismissed before it went out: an immediate route waits for a new confirmation instead
        (
            "fake_recruitment.task_scam",
            "critical",
            "police",
            DISMISSED,
            "posting",
            ("hold", "police.fraud_lures", "confirmation"),
        ),
        ("fake_recruitment.task_scam", "critical", "market", None, "posting", ("skip", None, None)),
        ("fake_recruitment.task_scam", "critical", "police", None, None, ("hold", "police.fraud_lures", "subject")),
        (
            "personal_data.bulk_records",
            "critical",
            "police",
            None,
            "posting",
            ("hold", "police.bulk_personal_data", "confirmation"),
        ),
        (
            "personal_data.bulk_records",
            "critical",
            "police",
            DISMISSED,
            "posting",
            ("hold", "police.bulk_personal_data", "confirmation"),
        ),
        (
            "personal_data.bulk_records",
            "critical",
            "police",
            CONFIRMED,
            "posting",
            ("share", "police.bulk_personal_data", "confirmed"),
        ),
        (
            "fake_recruitment.fee_demand",
            "high",
            "tax",
            CONFIRMED,
            "agency_posting",
            ("share", "tax.agency_fee_demand", "confirmed"),
        ),
        ("fake_recruitment.fee_demand", "high", "tax", CONFIRMED, "posting", ("skip", None, None)),
        ("fake_recruitment.fee_demand", "high", "tax", CONFIRMED, None, ("hold", "tax.agency_fee_demand", "subject")),
        (
            "fake_recruitment.invalid_uscc",
            "medium",
            "tax",
            None,
            "filing",
            ("share", "tax.annual_report_identity", "immediate"),
        ),
        ("fake_recruitment.invalid_uscc", "medium", "market", None, "filing", ("skip", None, None)),
        ("discrimination.gender", "high", "police", CONFIRMED, "posting", ("skip", None, None)),
    ],
)
def test_routing_decisions_of_the_bundled_policy(
    policy: SharingPolicy,
    rule: str,
    severity: str,
    partner: str,
    review: ReviewState | None,
    subject: str | None,
    expected: tuple[str, str | None, str | None],
) -> None:
    subject_type = "agency_filing" if subject == "filing" else "job_posting"
    f = finding(rule, "s-1", severity=severity, subject_type=subject_type)
    record = {
        "posting": posting("s-1"),
        "agency_posting": posting("s-1", agency=True),
        "filing": filing("s-1"),
        None: None,
    }[subject]
    plan = plan_share(policy, partner, f, review, record, subject_expired=False)
    got = (
        plan.action,
        plan.route.name if plan.route else None,
        plan.trigger if plan.action == "share" else plan.waiting_for,
    )
    assert got == expected


def test_subject_conditions_give_way_once_the_wait_is_over(policy: SharingPolicy) -> None:
    f = finding("fake_recruitment.fee_demand", "s-1", severity="high")
    assert plan_share(policy, "tax", f, CONFIRMED, None, subject_expired=True).action == "skip"
    scam = finding("fake_recruitment.task_scam", "s-1", severity="critical")
    plan = plan_share(policy, "police", scam, None, None, subject_expired=True)
    assert (plan.action, plan.trigger) == ("share", "immediate")


def test_a_requested_share_needs_the_partners_on_request_entry(policy: SharingPolicy) -> None:
    f = finding("discrimination.gender", "s-1")
    shared = ReviewState("1", "share", "shared", "e", None, frozenset({"market"}))
    plan = plan_share(policy, "market", f, shared, posting("s-1"), subject_expired=False)
    assert (plan.action, plan.route.name if plan.route else None, plan.trigger) == (
        "share",
        "market.on_request",
        "requested",
    )
    assert plan_share(policy, "police", f, shared, posting("s-1"), subject_expired=False).action == "skip"
    bare = parse_policy(MINIMAL)
    asked = ReviewState("1", "share", "shared", "e", None, frozenset({"police"}))
    assert plan_share(bare, "police", f, asked, posting("s-1"), subject_expired=False).action == "skip"
