"""Frozen finding and evidence records, their stable ids and their JSON form (finding.v1)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

CATEGORIES = ("fake_recruitment", "discrimination", "personal_data")
SEVERITIES = ("low", "medium", "high", "critical")


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span of one field of the subject record, in code points of the original text."""

    field: str
    start: int
    end: int
    excerpt: str  # masked: never carries a raw identifier


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule firing on one record; `id` is stable for the same subject, rule and evidence."""

    id: str
    subject_type: str
    subject_id: str
    category: str
    rule: str
    severity: str
    score: float
    evidence: tuple[Evidence, ...]
    legal_basis: tuple[str, ...]
    explanation: str
    detector_version: str
    detected_at: str
    # Structured account of why (pattern, validation, context words), as presidio's explanations.
    analysis: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The finding.v1 JSON object."""
        out: dict[str, Any] = {
            "id": self.id,
            "subject": {"type": self.subject_type, "id": self.subject_id},
            "category": self.category,
            "rule": self.rule,
            "severity": self.severity,
            "score": round(self.score, 4),
            "evidence": [
                {"field": e.field, "start": e.start, "end": e.end, "excerpt": e.excerpt} for e in self.evidence
            ],
            "legal_basis": list(self.legal_basis),
            "explanation": self.explanation,
            "detector_version": self.detector_version,
            "detected_at": self.detected_at,
        }
        if self.analysis:
            out["analysis"] = dict(self.analysis)
        return out


def finding_id(subject_type: str, subject_id: str, rule: str, evidence: tuple[Evidence, ...]) -> str:
    """sha256 of subject + rule + evidence spans: redelivery of the same input gives the same id."""
    # One digest over the joined bytes: the same bytes, in the same order, as one update per part.
    parts = [f"{subject_type}\x1f{subject_id}\x1f{rule}\x1f"]
    parts.extend(f"{e.field}:{e.start}:{e.end}\x1e" for e in evidence)
    return hashlib.sha256("".join(parts).encode("utf-8")).hexdigest()
