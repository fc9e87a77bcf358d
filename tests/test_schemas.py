"""Schema files are valid, records parse into typed models, and bad records get errors naming id, field and expectation."""

from __future__ import annotations

import json

import jsonschema
import pytest

from schemas import AgencyFiling, BusinessRegistration, JobPosting, RecordError, load_schema, parse_json, parse_record
from schemas.registry import OTHER_SCHEMAS, RECORD_TYPES

POSTING = {
    "type": "job_posting",
    "id": "p-1",
    "source": "test",
    "title": "仓库管理员",
    "description": "负责出入库登记。",
    "posted_at": "2025-09-05T14:30:00+08:00",
    "employer": {"name": "某某物流有限公司", "uscc": "91440300MA5FXXXX0X"},
    "salary": {"min": 5000, "max": 7000, "unit": "month"},
}


@pytest.mark.parametrize("name", RECORD_TYPES + OTHER_SCHEMAS)
def test_schema_files_are_valid_json_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(load_schema(name))


def test_posting_parses_into_typed_model_and_keeps_unknown_fields() -> None:
    rec = parse_record({**POSTING, "requirements": "两年经验", "x_platform_score": 3})
    assert isinstance(rec, JobPosting)
    assert rec.employer is not None and rec.employer.name == "某某物流有限公司"
    assert rec.salary is not None and rec.salary.unit == "month"
    assert rec.posted_at.utcoffset() is not None
    assert rec.raw["x_platform_score"] == 3 and rec.raw["requirements"] == "两年经验"


def test_filing_and_registration_parse() -> None:
    filing = parse_record(
        {
            "type": "agency_filing",
            "id": "f-1",
            "filing_type": "license_grant",
            "agency": {"name": "某人力", "uscc": "914403051817210921"},
            "license": {"number": "L1", "scope": ["职业中介"], "valid_from": "2024-01-01", "valid_until": "2029-01-01"},
            "filed_at": "2024-01-01T09:00:00+08:00",
        }
    )
    assert isinstance(filing, AgencyFiling) and filing.license is not None
    assert filing.license.scope == ("职业中介",) and filing.license.valid_until is not None
    reg = parse_record(
        {"type": "business_registration", "uscc": "914403051817210921", "name": "某人力", "status": "revoked",
         "updated_at": "2025-01-01T00:00:00Z"}
    )
    assert isinstance(reg, BusinessRegistration) and reg.subject_id.startswith("914403051817210921@")


@pytest.mark.parametrize(
    ("raw", "record_id", "field", "says"),
    [
        (b"{not json", None, "$", "not valid JSON"),
        (b"[1, 2]", None, "$", "expected a JSON object"),
        (b'{"type": "resume", "id": "r-1"}', "r-1", "type", "expected one of"),
        (json.dumps({k: v for k, v in POSTING.items() if k != "title"}).encode(), "p-1", "title", "required"),
        (json.dumps({**POSTING, "posted_at": "昨天"}).encode(), "p-1", "posted_at", "date-time"),
        (json.dumps({**POSTING, "salary": {"min": "面议"}}).encode(), "p-1", "salary.min", "number"),
        (json.dumps({**POSTING, "salary": {"unit": "week"}}).encode(), "p-1", "salary.unit", "week"),
        (json.dumps({**POSTING, "employer": {"uscc": "x"}}).encode(), "p-1", "employer.name", "required"),
        (json.dumps({**POSTING, "channel": "radio"}).encode(), "p-1", "channel", "radio"),
        (json.dumps({**POSTING, "posted_at": "2025-09-05T14:30:00"}).encode(), "p-1", "posted_at", "date-time"),
    ],
)
def test_bad_records_name_id_field_and_expectation(raw: bytes, record_id: str | None, field: str, says: str) -> None:
    with pytest.raises(RecordError) as info:
        parse_json(raw)
    err = info.value
    assert err.record_id == record_id
    assert err.field == field
    assert says in str(err)
    assert "Traceback" not in str(err)


def test_license_date_errors_name_the_nested_field() -> None:
    bad = {
        "type": "agency_filing", "id": "f-2", "filing_type": "license_grant",
        "agency": {"name": "a", "uscc": "b"}, "license": {"valid_from": "2024-13-45"},
        "filed_at": "2024-01-01T00:00:00Z",
    }
    with pytest.raises(RecordError) as info:
        parse_record(bad)
    assert info.value.field == "license.valid_from"
