"""The append-only audit trail: one row per thing a person (or the system) saw, changed, unmasked or shared."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.orm import Session

from review.queue_models import AuditRow


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    role: str | None
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict[str, Any]
    client: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "role": self.role,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "detail": self.detail,
            "client": self.client,
        }


def write_audit(
    session: Session,
    at: dt.datetime,
    actor: str,
    role: str | None,
    action: str,
    object_type: str | None,
    object_id: str | None,
    detail: dict[str, Any] | None = None,
    client: str | None = None,
) -> None:
    """Append one audit row in the caller's transaction (so it commits or rolls back with what it records)."""
    session.add(
        AuditRow(
            at=at,
            actor=actor[:100],
            role=role,
            action=action,
            object_type=object_type,
            object_id=object_id,
            detail=orjson.dumps(detail).decode() if detail else None,
            client=client[:100] if client else None,
        )
    )


def audit_entry(row: AuditRow) -> AuditEntry:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
    return AuditEntry(
        row.id,
        at,
        row.actor,
        row.role,
        row.action,
        row.object_type,
        row.object_id,
        orjson.loads(row.detail) if row.detail else {},
        row.client,
    )
