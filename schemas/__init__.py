"""Versioned record schemas (JSON Schema v1) and the typed, validated models built from them."""

from schemas.records import (
    AgencyFiling,
    BusinessRegistration,
    JobPosting,
    Record,
    RecordError,
    parse_json,
    parse_record,
)
from schemas.registry import RECORD_TYPES, load_schema

__all__ = [
    "RECORD_TYPES",
    "AgencyFiling",
    "BusinessRegistration",
    "JobPosting",
    "Record",
    "RecordError",
    "load_schema",
    "parse_json",
    "parse_record",
]
