"""What a reviewer sees of a subject record: its text fields split into highlighted segments, masked unless unmasked."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from detectors.masking import mask_email, mask_handle, mask_identifier, mask_text

# Free-text fields shown as text with evidence marked in place, in display order per record type.
TEXT_FIELDS = {
    "job_posting": ("title", "description", "requirements", "benefits"),
    "agency_filing": ("notes",),
    "business_registration": ("business_scope",),
}
# Structured fields that name or reach a person, and how each is masked.
_PERSON_NAME_FIELDS = {"contact.name", "legal_representative"}
_HANDLE_FIELDS = {"contact.wechat", "contact.qq"}
_EMAIL_FIELDS = {"contact.email"}
_PHONE_FIELDS = {"contact.phone"}
# Structured fields that never carry personal data (companies' names and codes, platform metadata).
_PLAIN_FIELDS = {
    "type",
    "id",
    "source",
    "url",
    "channel",
    "posted_at",
    "filed_at",
    "updated_at",
    "filing_type",
    "employer.name",
    "employer.uscc",
    "agency.name",
    "agency.uscc",
    "agency.license_no",
    "uscc",
    "name",
}


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of displayed text; `marks` lists the indexes of the findings whose evidence covers it."""

    text: str
    marks: tuple[int, ...] = ()


@dataclass(slots=True)
class FieldView:
    path: str
    segments: list[Segment]
    out_of_range: list[int] = field(default_factory=list)  # findings whose span lies outside this text

    @property
    def highlighted(self) -> bool:
        return any(s.marks for s in self.segments)


def field_value(record: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path (`contact.phone`) of a record, or None."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def mask_field(path: str, value: str) -> str:
    """Mask one structured field's value by what it holds: a person's name, phone, IM handle, e-mail or free text."""
    if path in _PLAIN_FIELDS:
        return value
    if path in _PERSON_NAME_FIELDS:
        return value[:1] + "*" * max(len(value) - 1, 1) if value else value
    if path in _PHONE_FIELDS:
        return mask_identifier(value, keep_head=3, keep_tail=4)
    if path in _HANDLE_FIELDS:
        return mask_handle(value)
    if path in _EMAIL_FIELDS:
        return mask_email(value)
    return mask_text(value)


def highlight(text: str, spans: Iterable[tuple[int, int, int]], masked: bool) -> tuple[list[Segment], list[int]]:
    """Split `text` at evidence boundaries (code points); each (start, end, finding index) marks its segment.

    Masking happens on the whole text when it keeps every offset in place (mask_text replaces
    character for character), else segment by segment, so a highlight never shifts.
    """
    n = len(text)
    cuts = {0, n}
    good: list[tuple[int, int, int]] = []
    bad: list[int] = []
    for start, end, idx in spans:
        if 0 <= start < end <= n:
            good.append((start, end, idx))
            cuts.update((start, end))
        else:
            bad.append(idx)
    bounds = sorted(cuts)
    whole = mask_text(text) if masked else text
    per_segment = masked and len(whole) != n
    segments = []
    for a, b in itertools.pairwise(bounds):
        if a == b:
            continue
        marks = tuple(sorted({idx for s, e, idx in good if s <= a and b <= e}))
        piece = mask_text(text[a:b]) if per_segment else whole[a:b]
        segments.append(Segment(piece, marks))
    return segments, sorted(set(bad))


def text_views(
    record: Mapping[str, Any], evidence: Sequence[tuple[int, Mapping[str, Any]]], masked: bool
) -> list[FieldView]:
    """The record's free-text fields (and any other field evidence points into), highlighted."""
    subject_type = str(record.get("type", ""))
    paths = list(TEXT_FIELDS.get(subject_type, ()))
    for _idx, ev in evidence:
        path = str(ev.get("field", ""))
        if path not in paths and isinstance(field_value(record, path), str) and path not in _STRUCTURED_SHOWN:
            paths.append(path)
    views = []
    for path in paths:
        value = field_value(record, path)
        if not isinstance(value, str):
            continue
        spans = [(int(ev["start"]), int(ev["end"]), idx) for idx, ev in evidence if ev.get("field") == path]
        segments, bad = highlight(value, spans, masked)
        views.append(FieldView(path, segments, bad))
    return views


_STRUCTURED_SHOWN = {
    "employer.name",
    "employer.uscc",
    "agency.name",
    "agency.uscc",
    "agency.license_no",
    "contact.name",
    "contact.phone",
    "contact.wechat",
    "contact.qq",
    "contact.email",
    "location.city",
    "location.district",
    "location.address",
    "legal_representative",
    "address",
}


def structured_rows(
    record: Mapping[str, Any], evidence: Sequence[tuple[int, Mapping[str, Any]]], masked: bool
) -> list[tuple[str, str, tuple[int, ...]]]:
    """(field path, displayed value, findings pointing at it) for the structured fields worth showing."""
    rows = []
    for path in sorted(_STRUCTURED_SHOWN):
        value = field_value(record, path)
        if value is None or isinstance(value, Mapping | list):
            continue
        text = str(value)
        marks = tuple(sorted({idx for idx, ev in evidence if ev.get("field") == path}))
        rows.append((path, mask_field(path, text) if masked else text, marks))
    return rows


def masked_record(record: Any, path: str = "") -> Any:
    """A deep copy of a record with every string masked by its field (the API's `subject` in masked form)."""
    if isinstance(record, Mapping):
        return {k: masked_record(v, f"{path}.{k}" if path else str(k)) for k, v in record.items()}
    if isinstance(record, list):
        return [masked_record(v, path) for v in record]
    if isinstance(record, str):
        return mask_field(path, record)
    return record


FIELD_LABELS = {
    "title": "标题",
    "description": "职位描述",
    "requirements": "任职要求",
    "benefits": "福利待遇",
    "notes": "备注",
    "business_scope": "经营范围",
    "employer.name": "用人单位",
    "employer.uscc": "用人单位统一社会信用代码",
    "agency.name": "中介机构",
    "agency.uscc": "中介统一社会信用代码",
    "agency.license_no": "许可证编号",
    "contact.name": "联系人",
    "contact.phone": "联系电话",
    "contact.wechat": "微信",
    "contact.qq": "QQ",
    "contact.email": "电子邮箱",
    "location.city": "城市",
    "location.district": "区县",
    "location.address": "地址",
    "legal_representative": "法定代表人",
    "address": "地址",
}


CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


def local_time(value: dt.datetime | None) -> str:
    """A timestamp as reviewers read it: China Standard Time, to the minute."""
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def duration_text(delta: dt.timedelta) -> str:
    """A duration in Chinese: 2天3小时, 5小时12分钟, 8分钟."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时"
    if hours:
        return f"{hours}小时{mins}分钟"
    return f"{mins}分钟"
