"""Rows of the `postings` table from job_posting records, and the idempotent bulk upsert the worker and loaders use."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, Insert

from review.scan.models import PostingRow

# Everything but the key is replaced on conflict: the stored posting is the text last checked, and
# `detector_version` says by which detectors. The same batch redelivered writes the same values.
_UPDATED = ("source", "posted_at", "employer_uscc", "employer_name", "agency_uscc", "agency_name", "agency_licence",
            "body", "detector_version", "fingerprint", "stored_at")


def _text(value: Any, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] or None


def _code(value: Any) -> str | None:
    """A USCC as the registries key it: trimmed, upper-case (codes are case-blind)."""
    text = _text(value, 40)
    return text.upper() if text else None


def posting_row(record: Any, detector_version: str, now: dt.datetime) -> dict[str, Any]:
    """The `postings` row of a typed JobPosting: key fields pulled out, the record's JSON kept compact."""
    raw: Mapping[str, Any] = record.raw
    employer, agency = record.employer, record.agency
    return {
        "id": record.id[:200],
        "source": (record.source or "")[:100],
        "posted_at": record.posted_at.astimezone(dt.UTC),
        "employer_uscc": _code(employer.uscc if employer else None),
        "employer_name": _text(employer.name if employer else None, 300),
        "agency_uscc": _code(agency.uscc if agency else None),
        "agency_name": _text(agency.name, 300) if agency else None,
        "agency_licence": _text(agency.license_no, 100) if agency else None,
        "body": orjson.dumps(dict(raw)).decode(),
        "detector_version": detector_version,
        "fingerprint": None,
        "stored_at": now,
    }


def upsert_postings(connection: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert or refresh postings in one statement (one row per id: the last one given wins); returns how many."""
    unique = {row["id"]: row for row in rows}
    if not unique:
        return 0
    connection.execute(_upsert(connection.dialect.name), list(unique.values()))
    return len(unique)


def _upsert(dialect: str) -> Insert:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:
        raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {dialect}")
    stmt = insert(PostingRow.__table__)
    return stmt.on_conflict_do_update(index_elements=["id"], set_={c: stmt.excluded[c] for c in _UPDATED})
