"""What a detector sees for one record: its text fields (original and normalised), the registries, and a finding builder."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import attrgetter
from types import MappingProxyType
from typing import Any, TypeVar

from detectors.findings import Evidence, Finding, finding_id
from detectors.masking import mask_text
from detectors.normalize import NormalizedText, normalize
from detectors.registries import Registries
from detectors.rules import rule_specs
from schemas import Record

T = TypeVar("T")

# Free-text fields scanned per record type. Postings from large boards often split the text into
# requirements and benefits; those extra fields are scanned when present.
TEXT_FIELDS: Mapping[str, tuple[str, ...]] = {
    "job_posting": ("title", "description", "requirements", "benefits"),
    "agency_filing": ("notes",),
    "business_registration": (),
}


_EVIDENCE_ORDER = attrgetter("field", "start", "end")
# What decoded JSON and `record.raw` are made of; tested before the Mapping ABC, whose isinstance
# check costs ten times more and runs for every field a detector reads.
_PLAIN_MAPPINGS = (dict, MappingProxyType)


def field_value(record: Record, path: str) -> Any:
    """The value at a dotted field path of the record's JSON (e.g. `contact.phone`), or None."""
    node: Any = record.raw
    for part in path.split("."):
        if not isinstance(node, _PLAIN_MAPPINGS) and not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


class DetectionContext:
    """Per-record state shared by all detectors; normalised text is computed once per field."""

    __slots__ = ("_norm", "_shared", "detected_at", "detector_version", "record", "registries", "text_fields")

    def __init__(self, record: Record, registries: Registries, detector_version: str, detected_at: str) -> None:
        self.record = record
        self.registries = registries
        self.detector_version = detector_version
        self.detected_at = detected_at
        self._norm: dict[str, NormalizedText] = {}
        self._shared: dict[str, Any] = {}
        self.text_fields = tuple(
            f for f in TEXT_FIELDS.get(record.type, ()) if (v := field_value(record, f)) and isinstance(v, str)
        )

    def text(self, path: str) -> str:
        """The original text of a field ('' when absent or not a string)."""
        value = field_value(self.record, path)
        return value if isinstance(value, str) else ""

    def norm(self, path: str) -> NormalizedText:
        """The normalised view of a field, cached for the other detectors."""
        cached = self._norm.get(path)
        if cached is None:
            cached = self._norm[path] = normalize(self.text(path))
        return cached

    def shared(self, key: str, build: Callable[[DetectionContext], T]) -> T:
        """A per-record result several detectors use (a cue scan, the home addresses), built by the first that asks."""
        if key in self._shared:
            return self._shared[key]  # type: ignore[no-any-return]
        value = self._shared[key] = build(self)
        return value

    def evidence(self, path: str, start: int, end: int, *, excerpt: str | None = None) -> Evidence:
        """Evidence for normalised span [start, end) of a field, mapped back to original offsets."""
        nt = self.norm(path)
        s, e = nt.to_original(start, end)
        return Evidence(path, s, e, mask_text(excerpt if excerpt is not None else nt.original[s:e]))

    def whole_field(self, path: str, *, excerpt: str | None = None, public: bool = False) -> Evidence:
        """Evidence that is a whole structured field (a USCC, a salary figure, a contact handle).

        `public=True` is for registry data about an organisation (its USCC, its licence number),
        which regulators need to read whole; everything else goes through the masking safety net,
        which cannot tell an 18-digit company code from a card number.
        """
        value = field_value(self.record, path)
        text = "" if value is None else str(value)
        shown = excerpt if excerpt is not None else text
        return Evidence(path, 0, len(text), shown if public else mask_text(shown))

    def finding(
        self,
        rule: str,
        evidence: Sequence[Evidence],
        *,
        score: float | None = None,
        severity: str | None = None,
        explanation: str | None = None,
        analysis: Mapping[str, Any] | None = None,
    ) -> Finding:
        """Build a finding for `rule`, taking severity, score, legal basis and explanation from rules.toml."""
        spec = rule_specs()[rule]
        ev = tuple(sorted(evidence, key=_EVIDENCE_ORDER))
        return Finding(
            id=finding_id(self.record.type, self.record.subject_id, rule, ev),
            subject_type=self.record.type,
            subject_id=self.record.subject_id,
            category=spec.category,
            rule=rule,
            severity=severity or spec.severity,
            score=spec.score if score is None else max(0.0, min(1.0, score)),
            evidence=ev,
            legal_basis=spec.legal_basis,
            explanation=explanation or spec.explanation,
            detector_version=self.detector_version,
            detected_at=self.detected_at,
            analysis=dict(analysis or {}),
        )
