"""Typed, frozen record models (job_posting, agency_filing, business_registration) and validation into them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import cache
from types import MappingProxyType
from typing import Any

import jsonschema.exceptions
import orjson

from schemas.registry import RECORD_TYPES, fast_validator, full_validator


class RecordError(ValueError):
    """A record that does not satisfy its schema: names the record id, the field path and what was expected."""

    def __init__(self, message: str, *, record_id: str | None = None, field: str = "$") -> None:
        self.record_id = record_id
        self.field = field
        self.reason = message
        where = f"record {record_id!r}" if record_id else "record"
        super().__init__(f"{where}: field {field}: {message}")


@dataclass(frozen=True, slots=True)
class Employer:
    name: str
    uscc: str | None = None


@dataclass(frozen=True, slots=True)
class Agency:
    name: str | None = None
    uscc: str | None = None
    license_no: str | None = None


@dataclass(frozen=True, slots=True)
class Location:
    city: str | None = None
    district: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Salary:
    min: float | None = None
    max: float | None = None
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    name: str | None = None
    phone: str | None = None
    wechat: str | None = None
    qq: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class JobPosting:
    id: str
    source: str
    title: str
    description: str
    posted_at: dt.datetime
    url: str | None = None
    employer: Employer | None = None
    agency: Agency | None = None
    location: Location | None = None
    salary: Salary | None = None
    contact: Contact | None = None
    occupation: str | None = None
    channel: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    type = "job_posting"

    @property
    def subject_id(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class License:
    number: str | None = None
    scope: tuple[str, ...] = ()
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    issuer: str | None = None


@dataclass(frozen=True, slots=True)
class AnnualReport:
    year: int | None = None
    revenue_cny: float | None = None
    placements: int | None = None
    dispatched_workers: int | None = None
    fees_collected_cny: float | None = None
    tax_paid_cny: float | None = None


@dataclass(frozen=True, slots=True)
class AgencyFiling:
    id: str
    filing_type: str
    agency: Agency
    filed_at: dt.datetime
    license: License | None = None
    annual_report: AnnualReport | None = None
    legal_representative: str | None = None
    address: str | None = None
    notes: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    type = "agency_filing"

    @property
    def subject_id(self) -> str:
        return self.id


@dataclass(frozen=True, slots=True)
class BusinessRegistration:
    uscc: str
    name: str
    updated_at: dt.datetime
    id: str | None = None
    status: str | None = None
    registered_capital_cny: float | None = None
    established_on: dt.date | None = None
    address: str | None = None
    business_scope: str | None = None
    legal_representative: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    type = "business_registration"

    @property
    def subject_id(self) -> str:
        # Registrations are keyed by USCC; one record per change, so the id (when given) is kept apart.
        return self.id or f"{self.uscc}@{self.updated_at.isoformat()}"


Record = JobPosting | AgencyFiling | BusinessRegistration


def parse_json(data: bytes | str) -> Record:
    """Decode one JSON document and validate it into a typed record; raises RecordError."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"not valid JSON ({exc})") from None
    return parse_record(obj)


def parse_record(obj: Any) -> Record:
    """Validate a decoded JSON object against its schema and build the typed record; raises RecordError."""
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    record_type = obj.get("type")
    record_id = _record_id(obj)
    if record_type not in RECORD_TYPES:
        raise RecordError(
            f"expected one of {', '.join(RECORD_TYPES)}, got {record_type!r}",
            record_id=record_id,
            field="type",
        )
    try:
        fast_validator(record_type)(obj)
    except Exception:
        raise _explain(record_type, obj, record_id) from None
    try:
        return _BUILDERS[record_type](obj)
    except _FieldError as exc:
        raise RecordError(exc.message, record_id=record_id, field=exc.path) from None


def _record_id(obj: dict[str, Any]) -> str | None:
    rid = obj.get("id")
    if isinstance(rid, str) and rid:
        return rid
    uscc = obj.get("uscc")
    return uscc if isinstance(uscc, str) and uscc else None


def _explain(record_type: str, obj: dict[str, Any], record_id: str | None) -> RecordError:
    errors = list(full_validator(record_type).iter_errors(obj))
    if not errors:
        # fastjsonschema is stricter on formats than jsonschema without optional format packages.
        try:
            fast_validator(record_type)(obj)
        except Exception as exc:  # JsonSchemaValueException carries a dotted path in .name
            path = str(getattr(exc, "name", "data")).removeprefix("data").lstrip(".") or "$"
            return RecordError(str(getattr(exc, "message", exc)), record_id=record_id, field=path)
        return RecordError("failed validation", record_id=record_id)
    best = jsonschema.exceptions.best_match(errors)
    parts = [str(p) for p in best.absolute_path]
    message = best.message
    if best.validator == "required" and isinstance(best.instance, dict):
        missing = [name for name in best.validator_value if name not in best.instance]
        parts.append(missing[0])
        message = "required field is missing"
    path = ".".join(parts) or "$"
    if len(message) > 300:
        message = message[:300] + "…"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return RecordError(message + more, record_id=record_id, field=path)


class _FieldError(Exception):
    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message


def _datetime(obj: Mapping[str, Any], key: str, prefix: str = "") -> dt.datetime:
    value = obj[key]
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _FieldError(prefix + key, f"expected an RFC 3339 date-time, got {value!r}") from None
    if parsed.tzinfo is None:
        raise _FieldError(prefix + key, f"expected a time zone offset in {value!r}")
    return parsed


def _date(obj: Mapping[str, Any] | None, key: str, prefix: str) -> dt.date | None:
    value = obj.get(key) if obj else None
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise _FieldError(prefix + key, f"expected a date YYYY-MM-DD, got {value!r}") from None


@cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def _sub(cls: type, obj: Any) -> Any:
    if not obj:
        return None
    return cls(*[obj.get(name) for name in _field_names(cls)])  # positional: fields in declaration order


def _build_posting(obj: dict[str, Any]) -> JobPosting:
    return JobPosting(
        id=obj["id"],
        source=obj["source"],
        title=obj["title"],
        description=obj["description"],
        posted_at=_datetime(obj, "posted_at"),
        url=obj.get("url"),
        employer=_sub(Employer, obj.get("employer")),
        agency=_sub(Agency, obj.get("agency")),
        location=_sub(Location, obj.get("location")),
        salary=_sub(Salary, obj.get("salary")),
        contact=_sub(Contact, obj.get("contact")),
        occupation=obj.get("occupation"),
        channel=obj.get("channel"),
        raw=MappingProxyType(obj),
    )


def _build_filing(obj: dict[str, Any]) -> AgencyFiling:
    lic = obj.get("license")
    licence = None
    if lic:
        licence = License(
            number=lic.get("number"),
            scope=tuple(lic.get("scope") or ()),
            valid_from=_date(lic, "valid_from", "license."),
            valid_until=_date(lic, "valid_until", "license."),
            issuer=lic.get("issuer"),
        )
    return AgencyFiling(
        id=obj["id"],
        filing_type=obj["filing_type"],
        agency=_sub(Agency, obj["agency"]),
        filed_at=_datetime(obj, "filed_at"),
        license=licence,
        annual_report=_sub(AnnualReport, obj.get("annual_report")),
        legal_representative=obj.get("legal_representative"),
        address=obj.get("address"),
        notes=obj.get("notes"),
        raw=MappingProxyType(obj),
    )


def _build_registration(obj: dict[str, Any]) -> BusinessRegistration:
    return BusinessRegistration(
        uscc=obj["uscc"],
        name=obj["name"],
        updated_at=_datetime(obj, "updated_at"),
        id=obj.get("id"),
        status=obj.get("status"),
        registered_capital_cny=obj.get("registered_capital_cny"),
        established_on=_date(obj, "established_on", ""),
        address=obj.get("address"),
        business_scope=obj.get("business_scope"),
        legal_representative=obj.get("legal_representative"),
        raw=MappingProxyType(obj),
    )


_BUILDERS: dict[str, Callable[[dict[str, Any]], Record]] = {
    "job_posting": _build_posting,
    "agency_filing": _build_filing,
    "business_registration": _build_registration,
}
