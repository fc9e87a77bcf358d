"""The nightly scan's pure rules: annual-report checks, lapsed licences, MinHash fingerprints and template clusters."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from detectors import Registries
from detectors.context import DetectionContext
from detectors.fake_recruitment import annual_report, lapsed_licence, templates
from detectors.rules import rule_specs
from schemas import AgencyFiling, parse_record

SCAN_RULES = ("fake_recruitment.lapsed_licence", "fake_recruitment.mass_posted_template",
              "fake_recruitment.annual_report_anomaly")
AGENCY = {"name": "杭州速达人力资源有限公司", "uscc": "91330100MA2XX00013", "license_no": "330100202301"}


def test_scan_rules_have_metadata() -> None:
    specs = rule_specs()
    for rule in SCAN_RULES:
        assert specs[rule].category == "fake_recruitment" and specs[rule].legal_basis


def _report(**numbers: float) -> AgencyFiling:
    record = parse_record({"type": "agency_filing", "id": "r1", "filing_type": "annual_report", "agency": AGENCY,
                           "annual_report": {"year": 2025, **numbers}, "filed_at": "2026-03-01T09:00:00+08:00"})
    assert isinstance(record, AgencyFiling)
    return record


PLAUSIBLE = {"revenue_cny": 5_000_000, "placements": 900, "dispatched_workers": 0, "fees_collected_cny": 1_200_000,
             "tax_paid_cny": 300_000}


@pytest.mark.parametrize(("changes", "scope", "expected"), [
    ({}, ("职业中介",), set()),
    ({"fees_collected_cny": 6_000_000}, ("职业中介",), {"fees_exceed_revenue"}),
    ({"placements": 0}, ("职业中介",), {"fees_without_placements"}),
    ({"placements": 20}, ("职业中介",), {"fee_per_placement"}),  # 60,000 per placement
    ({"tax_paid_cny": 0}, ("职业中介",), {"low_tax"}),
    ({"tax_paid_cny": 0, "revenue_cny": 500_000, "fees_collected_cny": 100_000}, ("职业中介",), set()),  # small firm
    ({"dispatched_workers": 30}, ("职业中介",), {"dispatch_without_scope"}),
    ({"dispatched_workers": 30}, ("职业中介", "劳务派遣"), set()),
    ({"dispatched_workers": 30}, None, set()),  # no licence filing on record: nothing to compare with
    ({"fees_collected_cny": None, "tax_paid_cny": None}, ("职业中介",), set()),  # missing numbers are not anomalies
])
def test_annual_report_checks(changes: dict[str, float | None], scope: tuple[str, ...] | None, expected: set[str]) -> None:
    numbers = {k: v for k, v in {**PLAUSIBLE, **changes}.items() if v is not None}
    checks = annual_report.annual_report_checks(_report(**numbers), scope)
    assert {c.name for c in checks} == expected


def test_annual_report_finding_cites_the_fields_and_is_stable() -> None:
    filing = _report(**{**PLAUSIBLE, "fees_collected_cny": 6_000_000, "tax_paid_cny": 0})
    checks = annual_report.annual_report_checks(filing, ("职业中介",))
    a = annual_report.annual_report_finding(DetectionContext(filing, Registries(), "v", "t1"), checks)
    b = annual_report.annual_report_finding(DetectionContext(filing, Registries(), "v2", "t2"), checks)
    assert a is not None and b is not None and a.id == b.id
    assert {e.field for e in a.evidence} == {"annual_report.fees_collected_cny", "annual_report.revenue_cny",
                                             "annual_report.tax_paid_cny"}
    assert a.score > max(c.score for c in checks) - 1e-9  # a second failed check raises the score
    assert annual_report.annual_report_finding(DetectionContext(filing, Registries(), "v", "t"), []) is None


def _registries(*filings: dict[str, object]) -> Registries:
    reg = Registries()
    for f in filings:
        reg.apply(parse_record({"type": "agency_filing", "agency": AGENCY, **f}))
    return reg


GRANT = {"id": "g1", "filing_type": "license_grant", "filed_at": "2024-01-01T09:00:00+08:00",
         "license": {"number": "330100202301", "scope": ["职业中介"], "valid_from": "2024-01-01", "valid_until": "2026-11-20"}}


@pytest.mark.parametrize(("posted", "extra", "expected_state"), [
    ("2026-11-10T09:00:00+08:00", None, "expired"),
    ("2026-11-10T09:00:00+08:00", {"id": "rv", "filing_type": "license_revocation",
                                   "filed_at": "2026-11-15T09:00:00+08:00"}, "revoked"),
    ("2026-09-01T09:00:00+08:00", None, None),  # older than live_days: not live any more
    ("2026-11-21T09:00:00+08:00", None, None),  # published after the expiry: unlicensed_agency's case
])
def test_lapsed_licence(posted: str, extra: dict[str, object] | None, expected_state: str | None) -> None:
    reg = _registries(GRANT, *([extra] if extra else []))
    posting = parse_record({"type": "job_posting", "id": "p1", "source": "s", "title": "招聘", "description": "招聘普工",
                            "employer": {"name": "某某厂"}, "agency": AGENCY, "posted_at": posted})
    f = lapsed_licence.lapsed_licence_finding(DetectionContext(posting, reg, "v", "t"), dt.date(2026, 11, 23), 30)
    assert (f.analysis["licence_state"] if f else None) == expected_state
    lapsed = lapsed_licence.lapsed_agencies(reg.licences, dt.date(2026, 11, 1), dt.date(2026, 11, 23))
    assert [(a.uscc, a.lapsed_since_last_scan) for a in lapsed] == [(AGENCY["uscc"], True)]
    assert lapsed_licence.lapsed_agencies(reg.licences, dt.date(2026, 11, 1), dt.date(2026, 11, 14)) == []


def test_scope_in_force_follows_grants_changes_and_ends() -> None:
    reg = _registries(
        {**GRANT, "license": {**GRANT["license"], "valid_until": "2030-01-01"}},  # type: ignore[dict-item]
        {"id": "c1", "filing_type": "license_change", "filed_at": "2025-06-01T09:00:00+08:00",
         "license": {"scope": ["职业中介", "劳务派遣"]}},
        {"id": "e1", "filing_type": "license_cancellation", "filed_at": "2026-06-01T09:00:00+08:00"},
    )
    entry = reg.licences.agencies()[0]
    assert annual_report.scope_in_force(entry, dt.date(2024, 12, 31)) == ("职业中介",)
    assert annual_report.scope_in_force(entry, dt.date(2025, 12, 31)) == ("职业中介", "劳务派遣")
    assert annual_report.scope_in_force(entry, dt.date(2026, 12, 31)) == ()
    assert annual_report.scope_in_force(None, dt.date(2026, 1, 1)) is None


TEMPLATE = ("高薪招聘网络兼职客服，工作轻松在家即可完成，每天只需两三个小时，日结工资三百到五百元，无需任何经验，"
            "公司提供全程培训指导，名额有限先到先得，有意者请尽快联系我们的招聘专员了解详情。")
OTHER = ("招聘仓库管理员，负责仓库货物出入库登记和盘点，要求认真负责，有仓库工作经验者优先，月薪五千到七千元，"
         "缴纳五险一金，双休，节假日有福利，工作地点在杭州市余杭区物流园区内，有班车接送。")


def test_fingerprint_is_stable_and_tolerates_small_edits() -> None:
    a = templates.fingerprint("兼职客服", TEMPLATE)
    assert a == templates.fingerprint("兼职客服", TEMPLATE) and len(a.split(",")) == templates.config()["hashes"]
    edited = templates.parse_fingerprint(templates.fingerprint("兼职 客服！", TEMPLATE.replace("三百", "叁佰")))
    other = templates.parse_fingerprint(templates.fingerprint("仓管", OTHER))
    sig = templates.parse_fingerprint(a)
    assert sig and edited and other
    assert templates.similarity(sig, edited) >= templates.config()["min_similarity"]
    assert templates.similarity(sig, other) < 0.2
    assert templates.fingerprint("短", "太短了") == ""


def _item(pid: str, employer: str, text: str) -> templates.TemplateItem:
    sig = templates.parse_fingerprint(templates.fingerprint("", text))
    assert sig is not None
    return templates.TemplateItem(pid, templates.employer_key(None, employer), "s", sig)


def test_clusters_need_several_employers_and_do_not_depend_on_order() -> None:
    items = [_item(f"t{i}", f"公司{i}", TEMPLATE + "！" * i) for i in range(4)]
    items += [_item(f"r{i}", "同一公司", OTHER) for i in range(5)]  # one employer reposting: not a template
    items += [_item("o1", "公司9", OTHER.replace("仓库", "车间"))]
    clusters = templates.cluster_templates(items)
    assert [c.posting_ids for c in clusters] == [("t0", "t1", "t2", "t3")]
    assert len(clusters[0].employers) == 4
    shuffled = items[:]
    random.Random(3).shuffle(shuffled)
    assert templates.cluster_templates(shuffled) == clusters
    posting = parse_record({"type": "job_posting", "id": "t0", "source": "s", "title": "在家兼职客服日结",
                            "description": TEMPLATE, "employer": {"name": "公司0"}, "posted_at": "2026-11-22T09:00:00+08:00"})
    f = templates.template_finding(DetectionContext(posting, Registries(), "v", "t"), clusters[0])
    assert f.rule == "fake_recruitment.mass_posted_template" and f.analysis["employers"] == 4
    assert [e.field for e in f.evidence] == ["title"]
