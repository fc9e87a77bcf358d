"""Per-partner minimisation: the payload fields a partner may receive, and masking of personal data in them.

A payload holds only the fields its policy route lists, as `{"finding": {...}, "record": {...}}`
(`finding.*` from the finding, `record.*` from the subject record the finding is about). Personal
data is masked unless the route unmasks that field and gives the legal basis for doing so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from detectors.masking import (
    mask_address,
    mask_email,
    mask_handle,
    mask_identifier,
    mask_text,
)


def mask_person_name(name: str) -> str:
    """张三丰 -> 张**, Li Lei -> L** ***: the family name's first character or letter stays."""
    if not name:
        return name
    return name[0] + "".join("*" if not c.isspace() else c for c in name[1:])


def _mask_texts(value: Any) -> Any:
    """mask_text over every string in a value (excerpts and explanations are masked already; this is the safety net)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_mask_texts(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask_texts(v) for k, v in value.items()}
    return value


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One shareable field: where it comes from, and how it is masked when it holds personal data."""

    path: str
    personal: bool = False
    mask: Callable[[Any], Any] | None = None  # None: not personal, shared as it is


def _f(path: str, mask: Callable[[Any], Any] | None = None) -> FieldSpec:
    return FieldSpec(path, personal=mask is not None, mask=mask)


def _str_mask(fn: Callable[[str], str]) -> Callable[[Any], Any]:
    return lambda v: fn(v) if isinstance(v, str) else v


# Every field a policy may list. Finding text is never raw (detectors mask excerpts); it still goes
# through mask_text, and cannot be unmasked: the raw values are not in the finding at all.
FINDING_FIELDS: tuple[FieldSpec, ...] = (
    _f("finding.id"),
    _f("finding.rule"),
    _f("finding.category"),
    _f("finding.severity"),
    _f("finding.score"),
    _f("finding.subject"),
    FieldSpec("finding.evidence", mask=_mask_texts),
    _f("finding.legal_basis"),
    FieldSpec("finding.explanation", mask=_mask_texts),
    _f("finding.detected_at"),
    _f("finding.detector_version"),
)
RECORD_FIELDS: tuple[FieldSpec, ...] = (
    # job_posting
    _f("record.source"),
    _f("record.url"),
    _f("record.title", _str_mask(mask_text)),
    _f("record.description", _str_mask(mask_text)),
    _f("record.posted_at"),
    _f("record.occupation"),
    _f("record.channel"),
    _f("record.salary"),
    _f("record.employer.name"),
    _f("record.employer.uscc"),
    _f("record.agency.name"),
    _f("record.agency.uscc"),
    _f("record.agency.license_no"),
    _f("record.location.city"),
    _f("record.location.district"),
    _f("record.location.address", _str_mask(mask_address)),
    _f("record.contact.name", _str_mask(mask_person_name)),
    _f("record.contact.phone", _str_mask(lambda v: mask_identifier(v, keep_head=3, keep_tail=4))),
    _f("record.contact.wechat", _str_mask(mask_handle)),
    _f("record.contact.qq", _str_mask(mask_handle)),
    _f("record.contact.email", _str_mask(mask_email)),
    # agency_filing
    _f("record.filing_type"),
    _f("record.filed_at"),
    _f("record.license"),
    _f("record.annual_report"),
    _f("record.address"),
    _f("record.legal_representative", _str_mask(mask_person_name)),
    _f("record.notes", _str_mask(mask_text)),
)
FIELDS: Mapping[str, FieldSpec] = {f.path: f for f in (*FINDING_FIELDS, *RECORD_FIELDS)}
# Fields a policy may unmask (with a legal basis): personal data of the subject record.
UNMASKABLE = frozenset(f.path for f in RECORD_FIELDS if f.personal)


@dataclass(frozen=True, slots=True)
class Minimised:
    """A partner's payload and what was done to it: which fields were masked, sent unmasked, or absent."""

    payload: dict[str, Any]
    masked: tuple[str, ...]
    unmasked: tuple[str, ...]
    absent: tuple[str, ...]


def _get(obj: Mapping[str, Any] | None, dotted: str) -> tuple[bool, Any]:
    node: Any = obj
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _put(out: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = out
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def needs_record(fields: Iterable[str]) -> bool:
    """Whether any of these fields come from the subject record (and the record must be looked up)."""
    return any(f.startswith("record.") for f in fields)


def minimise(
    finding: Mapping[str, Any],
    record: Mapping[str, Any] | None,
    fields: Iterable[str],
    unmask: Iterable[str] = (),
) -> Minimised:
    """The payload holding only `fields`, personal data masked except the personal fields in `unmask`."""
    allowed_raw = frozenset(unmask)
    sources = {"finding": finding, "record": record}
    payload: dict[str, Any] = {}
    masked: list[str] = []
    raw: list[str] = []
    absent: list[str] = []
    for path in fields:
        spec = FIELDS[path]  # the policy was validated against FIELDS at start-up
        root, _, rest = path.partition(".")
        found, value = _get(sources[root], rest)
        if not found or value is None:
            absent.append(path)
            continue
        if spec.mask is not None:
            if path in allowed_raw and path in UNMASKABLE:
                raw.append(path)
            else:
                value = spec.mask(value)
                if spec.personal:
                    masked.append(path)
        _put(payload, path, value)
    return Minimised(payload, tuple(masked), tuple(raw), tuple(absent))
