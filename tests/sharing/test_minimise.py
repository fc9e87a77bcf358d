"""Per-partner minimisation: only the listed fields, personal data masked unless the route unmasks it with a legal basis."""

from __future__ import annotations

from typing import Any

from sharing.minimise import FIELDS, UNMASKABLE, mask_person_name, minimise
from sharing.policy import SharingPolicy
from tests.sharing.conftest import filing, finding, posting


def _paths(obj: dict[str, Any], prefix: str = "") -> set[str]:
    """Leaf paths of a payload down to the catalogue's granularity."""
    out: set[str] = set()
    for key, value in obj.items():
        path = f"{prefix}.{key}" if prefix else key
        if path in FIELDS:
            out.add(path)
        elif isinstance(value, dict):
            out |= _paths(value, path)
        else:
            out.add(path)
    return out


def test_the_payload_holds_exactly_the_listed_fields() -> None:
    f = finding("fake_recruitment.task_scam", "p-1", severity="critical")
    fields = ["finding.id", "finding.rule", "record.agency.name", "record.contact.phone", "record.location.city"]
    shrunk = minimise(f, posting("p-1"), fields)
    assert _paths(shrunk.payload) == {"finding.id", "finding.rule", "record.contact.phone", "record.location.city"}
    assert shrunk.absent == ("record.agency.name",)  # the posting names no agency
    assert "evidence" not in shrunk.payload["finding"] and "description" not in shrunk.payload["record"]


def test_personal_data_is_masked_unless_unmasked() -> None:
    record = posting("p-1", phone="13812345678")
    fields = [
        "finding.id",
        "record.contact.name",
        "record.contact.phone",
        "record.contact.wechat",
        "record.location.address",
        "record.description",
    ]
    masked = minimise(finding("fake_recruitment.task_scam", "p-1"), record, fields)
    c = masked.payload["record"]["contact"]
    assert c == {"name": "王**", "phone": "138****5678", "wechat": "wa*******88"}
    assert masked.payload["record"]["location"]["address"] == "学院路**号*栋***室"
    description = masked.payload["record"]["description"]
    assert "13812345678" not in description and "110105199001011234" not in description
    assert "110105********1234" in description
    assert set(masked.masked) == {
        "record.contact.name",
        "record.contact.phone",
        "record.contact.wechat",
        "record.location.address",
        "record.description",
    }
    assert masked.unmasked == ()
    raw = minimise(finding("fake_recruitment.task_scam", "p-1"), record, fields, unmask=["record.contact.phone"])
    assert raw.payload["record"]["contact"]["phone"] == "13812345678"
    assert raw.payload["record"]["contact"]["name"] == "王**"
    assert raw.unmasked == ("record.contact.phone",)


def test_finding_text_cannot_be_unmasked_and_is_masked_again_as_a_safety_net() -> None:
    f = finding("personal_data.mobile", "p-1")
    f["evidence"][0]["excerpt"] = "电话 13812345678"  # a detector bug that left a raw number
    f["explanation"] = "号码 13812345678 外泄"
    shrunk = minimise(
        f,
        None,
        ["finding.id", "finding.evidence", "finding.explanation"],
        unmask=["finding.evidence", "finding.explanation"],
    )
    assert "13812345678" not in str(shrunk.payload)
    assert "finding.evidence" not in UNMASKABLE


def test_each_partner_of_the_bundled_policy_sees_only_its_fields(policy: SharingPolicy) -> None:
    record = posting("p-1", agency=True)
    f = finding("fake_recruitment.unlicensed_agency", "p-1")
    for route in policy.routes:
        shrunk = minimise(
            f, filing("p-1") if route.subject_types == {"agency_filing"} else record, route.fields, route.unmask
        )
        assert _paths(shrunk.payload) <= set(route.fields), route.name
        if route.partner == "tax":
            assert "contact" not in shrunk.payload.get("record", {}), route.name
        if route.partner == "market":
            assert "contact" not in shrunk.payload.get("record", {}) and "description" not in shrunk.payload.get(
                "record", {}
            )
        if route.partner == "police" and not route.unmask:
            assert shrunk.payload["record"]["contact"]["phone"] == "138****5678", route.name


def test_annual_report_figures_reach_tax_but_the_legal_representative_stays_masked() -> None:
    shrunk = minimise(
        finding("fake_recruitment.invalid_uscc", "f-1", subject_type="agency_filing"),
        filing("f-1"),
        ["finding.id", "record.annual_report", "record.legal_representative"],
    )
    assert shrunk.payload["record"]["annual_report"]["fees_collected_cny"] == 2600000
    assert shrunk.payload["record"]["legal_representative"] == "李*"


def test_person_names_keep_only_their_first_character() -> None:
    assert mask_person_name("欧阳娜娜") == "欧***"
    assert mask_person_name("Li Lei") == "L* ***"
    assert mask_person_name("") == ""
