"""The detection engine: runs every registered detector over a record, in stream order, keeping the registries current."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from importlib import resources
from importlib.metadata import PackageNotFoundError, version

from detectors.context import DetectionContext
from detectors.findings import Finding
from detectors.registries import Registries
from detectors.rules import Detector, all_detectors
from schemas import Record


@cache
def detector_version() -> str:
    """Package version plus a hash of the detector code and data: changes whenever a rule or lexicon does."""
    try:
        base = version("hrwatch")
    except PackageNotFoundError:
        base = "0.0.0"
    h = hashlib.sha256()
    root = resources.files("detectors")
    stack = [root]
    files = []
    while stack:
        node = stack.pop()
        for child in node.iterdir():
            if child.is_dir():
                if child.name != "__pycache__":
                    stack.append(child)
            elif child.name.endswith((".py", ".toml", ".tsv", ".txt", ".json")):
                files.append(child)
    for f in sorted(files, key=lambda p: str(p)):
        h.update(str(f).rsplit("detectors", 1)[-1].encode())
        h.update(f.read_bytes())
    return f"{base}+{h.hexdigest()[:12]}"


class DetectorError(RuntimeError):
    """A detector raised on a record; names the detector and the record."""

    def __init__(self, detector: str, record_id: str, cause: BaseException) -> None:
        self.detector = detector
        self.record_id = record_id
        super().__init__(f"record {record_id!r}: detector {detector} failed: {type(cause).__name__}: {cause}")


# The last second formatted, reused by the records detected within it (formatting costs more than
# the cheaper detectors); one tuple, replaced whole, so a thread never sees half of it.
_last_second: tuple[int, str] = (-1, "")


def utc_now() -> str:
    global _last_second
    second = int(time.time())
    if second != _last_second[0]:
        stamp = dt.datetime.fromtimestamp(second, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        _last_second = (second, stamp)
    return _last_second[1]


class DetectionEngine:
    """Stateful only through its registries: `process` applies registry records, then detects on every record."""

    def __init__(self, registries: Registries | None = None, clock: Callable[[], str] = utc_now) -> None:
        self.registries = registries if registries is not None else Registries()
        self.clock = clock
        self.version = detector_version()
        self._by_type: dict[str, tuple[Detector, ...]] = {}
        detectors = all_detectors()
        for record_type in ("job_posting", "agency_filing", "business_registration"):
            self._by_type[record_type] = tuple(d for d in detectors if record_type in d.record_types)

    def process(self, record: Record) -> list[Finding]:
        """Update the registries from `record` (filings, registrations), then return its findings."""
        self.registries.apply(record)
        return self.detect(record)

    def detect(self, record: Record) -> list[Finding]:
        """Findings for one record against the current registries, without changing them."""
        ctx = DetectionContext(record, self.registries, self.version, self.clock())
        seen: set[str] = set()
        out: list[Finding] = []
        for det in self._by_type.get(record.type, ()):
            try:
                for f in det.detect(ctx):
                    if f.id not in seen:
                        seen.add(f.id)
                        out.append(f)
            except Exception as exc:
                # A bug in one rule must not pass for "no findings": the caller reports the record
                # (stderr for `detect`, the dead-letter topic for workers) and goes on with the next.
                raise DetectorError(type(det).__name__, record.subject_id, exc) from exc
        return out

    def process_all(self, records: Iterable[Record]) -> Iterator[tuple[Record, list[Finding]]]:
        for r in records:
            yield r, self.process(r)
