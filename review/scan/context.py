"""What every scan phase works with: the store, the pass, the registries as stored, settings, and a progress bar."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from detectors import Registries
from review.scan.sink import ScanSink
from review.scan.state import RunInfo, ScanState
from review.store import FindingStore
from schemas import AgencyFiling, RecordError, parse_json

log = logging.getLogger(__name__)

PHASES = ("licences", "redetect", "templates", "reports")


class Progress(Protocol):
    def update(self, n: int = 1) -> Any: ...
    def close(self) -> Any: ...


class _Silent:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def silent(_phase: str, _total: int | None) -> Progress:
    return _Silent()


@dataclass
class ScanContext:
    store: FindingStore
    state: ScanState
    sink: ScanSink
    info: RunInfo
    version: str
    live_days: int = 30
    cluster_hours: float = 24.0
    chunk_size: int = 1000
    workers: int = 2
    progress: Callable[[str, int | None], Progress] = silent
    registries: Registries = field(default_factory=Registries)
    filings: list[AgencyFiling] = field(default_factory=list)
    registry_errors: int = 0

    @property
    def as_of(self) -> dt.datetime:
        return self.info.as_of

    def load_registries(self) -> int:
        """Every stored registry record, applied in log order (as a worker does at start); returns how many."""
        count = 0
        for row in self.store.registry_records():
            try:
                record = parse_json(row.body)
            except RecordError:
                # Stored only after validation; a schema change could still reject it.
                self.registry_errors += 1
                log.warning("registry record %s %s no longer validates; skipped", row.record_type, row.record_key)
                continue
            self.registries.apply(record)
            if isinstance(record, AgencyFiling):
                self.filings.append(record)
            count += 1
        return count


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
