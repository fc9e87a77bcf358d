"""A hand-made store for the scan tests: licences that lapse, a mass-posted template, annual reports, old-version postings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from detectors.identifiers import uscc_check_char
from review.scan.postings import posting_row
from review.store import FindingStore, StoredRegistryRecord
from schemas import parse_record

AS_OF = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
OLD_VERSION = "0.0.0+old"


def uscc(body: str) -> str:
    """A USCC with a valid check character from its first 17 characters."""
    return body + uscc_check_char(body)


AGENCY_EXPIRES = {"name": "杭州速达人力资源有限公司", "uscc": uscc("91330100MA2XX0001"), "license_no": "330100202301"}
AGENCY_REVOKED = {"name": "宁波众聘人力资源服务有限公司", "uscc": uscc("91330200MA2XX0002"), "license_no": "330200202302"}
AGENCY_FINE = {"name": "温州信达人力资源有限公司", "uscc": uscc("91330300MA2XX0003"), "license_no": "330300202303"}

TEMPLATE_TEXT = (
    "高薪招聘网络兼职客服，工作轻松在家即可完成，每天只需两三个小时，日结工资三百到五百元，"
    "无需任何经验，公司提供全程培训指导，名额有限先到先得，有意者请尽快联系我们的招聘专员了解详情。"
)


def _grant(agency: dict[str, str], fid: str, valid_until: str, scope: list[str]) -> dict[str, Any]:
    return {
        "type": "agency_filing", "id": fid, "filing_type": "license_grant", "agency": agency,
        "license": {"number": agency["license_no"], "scope": scope, "valid_from": "2024-01-01",
                    "valid_until": valid_until, "issuer": "人社局"},
        "filed_at": "2024-01-01T09:00:00+08:00",
    }


def registry_records() -> list[dict[str, Any]]:
    return [
        _grant(AGENCY_EXPIRES, "f-grant-expires", "2026-11-20", ["职业中介"]),
        _grant(AGENCY_REVOKED, "f-grant-revoked", "2028-12-31", ["职业中介", "劳务派遣"]),
        {"type": "agency_filing", "id": "f-revocation", "filing_type": "license_revocation", "agency": AGENCY_REVOKED,
         "filed_at": "2026-11-22T10:00:00+08:00"},
        _grant(AGENCY_FINE, "f-grant-fine", "2029-12-31", ["职业中介"]),
        {"type": "agency_filing", "id": "f-report-bad", "filing_type": "annual_report", "agency": AGENCY_FINE,
         "annual_report": {"year": 2025, "revenue_cny": 1200000, "placements": 0, "dispatched_workers": 40,
                           "fees_collected_cny": 1300000, "tax_paid_cny": 1200},
         "filed_at": "2026-03-01T09:00:00+08:00"},
        {"type": "agency_filing", "id": "f-report-ok", "filing_type": "annual_report", "agency": AGENCY_REVOKED,
         "annual_report": {"year": 2025, "revenue_cny": 5000000, "placements": 900, "dispatched_workers": 120,
                           "fees_collected_cny": 1200000, "tax_paid_cny": 300000},
         "filed_at": "2026-03-02T09:00:00+08:00"},
    ]


def _posting(pid: str, posted_at: str, *, agency: dict[str, str] | None = None, employer: str = "杭州明远科技有限公司",
             employer_uscc: str | None = None, title: str = "招聘仓库管理员", source: str = "智联招聘",
             description: str = "负责仓库货物出入库登记和盘点，要求认真负责，有仓库工作经验者优先，月薪五千到七千元，五险一金。") -> dict[str, Any]:
    obj: dict[str, Any] = {"type": "job_posting", "id": pid, "source": source, "title": title,
                           "description": description, "employer": {"name": employer}, "posted_at": posted_at,
                           "location": {"city": "杭州"}, "channel": "online"}
    if employer_uscc:
        obj["employer"]["uscc"] = employer_uscc
    if agency:
        obj["agency"] = agency
    return obj


def postings(extra: int = 0) -> list[dict[str, Any]]:
    """The scenario postings, plus `extra` ordinary ones (some with findings) for the re-detection phase."""
    out = [
        _posting("p-lapsed-live", "2026-11-10T09:00:00+08:00", agency=AGENCY_EXPIRES),  # expired 11-20, still live
        _posting("p-lapsed-old", "2026-09-01T09:00:00+08:00", agency=AGENCY_EXPIRES),  # no longer live
        _posting("p-after-expiry", "2026-11-21T09:00:00+08:00", agency=AGENCY_EXPIRES),  # unlicensed_agency instead
        _posting("p-revoked-live", "2026-11-15T09:00:00+08:00", agency=AGENCY_REVOKED),
        _posting("p-fine", "2026-11-15T09:00:00+08:00", agency=AGENCY_FINE),
    ]
    employers = ["杭州云帆网络科技有限公司", "宁波海曙星辰贸易有限公司", "温州鹿城佳和商务咨询有限公司", "绍兴越城启航文化传媒有限公司"]
    for i, name in enumerate(employers):  # one template, four employers, two sources, the same day
        out.append(_posting(f"p-template-{i}", f"2026-11-22T{10 + i:02d}:15:00+08:00", employer=name,
                            title="在家兼职客服日结" + "！" * i, description=TEMPLATE_TEXT,
                            source="58同城" if i % 2 else "BOSS直聘"))
    for i in range(2):  # one employer reposting its own text: not a mass-posted template
        out.append(_posting(f"p-repost-{i}", f"2026-11-22T15:0{i}:00+08:00", employer="杭州明远科技有限公司",
                            description=TEMPLATE_TEXT.replace("网络兼职客服", "仓库打包员")))
    texts = ["招聘司机，限男性，需交押金500元，月薪八千。", "诚聘会计，要求本地户口，已婚已育优先。",
             "招聘普工，包吃住，月薪六千，长期稳定。", "招聘销售代表，底薪加提成，联系电话13912345678。"]
    for i in range(extra):
        out.append(_posting(f"p-bulk-{i:05d}", f"2026-10-{1 + i % 28:02d}T08:00:00+08:00",
                            description=texts[i % len(texts)] + f"岗位编号{i}。"))
    return out


def load(store: FindingStore, extra: int = 0, version: str = OLD_VERSION) -> None:
    """Registry records into the registry log and postings (checked by an older detector version) into `postings`."""
    regs = registry_records()
    store.write_registry("scan-test", [
        StoredRegistryRecord(r["type"], r["id"], "hr.filings.v1", 0, i, orjson.dumps(r)) for i, r in enumerate(regs)
    ], {})
    now = dt.datetime.now(dt.UTC)
    store.write_postings([posting_row(parse_record(p), version, now) for p in postings(extra)])
