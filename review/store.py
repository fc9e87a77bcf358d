"""The store interface the stream workers write through: idempotent finding upserts and the registry record log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Insert, case, create_engine, event, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from detectors import Finding
from review.models import FindingRow, RegistryRecordRow, RegistryWatermarkRow
from review.scan.postings import upsert_postings

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x68727761  # "hrwa": the advisory lock key held while migrating


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a subject record was read from, and the timestamp its message was published with."""

    topic: str
    partition: int
    offset: int
    ingested_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredRegistryRecord:
    """A registry record (JSON object) at its log position."""

    record_type: str
    record_key: str
    topic: str
    partition: int
    offset: int
    body: bytes


def database_url(url: str | URL, password: str | None = None) -> URL:
    """The SQLAlchemy URL with the psycopg 3 driver for PostgreSQL and the password (if any) filled in."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if password is not None:
        parsed = parsed.set(password=password)
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets tests and the demo read while a worker writes; NORMAL is durable across a process crash.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | URL, password: str | None = None) -> Engine:
    """An engine for the store; SQLite files get WAL mode and a busy timeout (two workers may share one)."""
    parsed = database_url(url, password)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


class FindingStore:
    """Findings (idempotent on finding id) and registry state, in any SQLAlchemy database (SQLite, PostgreSQL)."""

    def __init__(self, url: str | URL, *, password: str | None = None, engine: Engine | None = None) -> None:
        self.engine = engine if engine is not None else make_engine(url, password)
        self.dialect = self.engine.dialect.name

    @classmethod
    def from_settings(cls, settings: Any) -> FindingStore:
        """The store named by HRWATCH_DATABASE_URL (and HRWATCH_DATABASE_PASSWORD)."""
        secret = getattr(settings, "database_password", None)
        return cls(settings.database_url, password=secret.get_secret_value() if secret else None)

    def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic `upgrade head`); safe to run on every start."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        for attempt in range(5):
            try:
                with self.engine.begin() as connection:
                    if self.dialect == "postgresql":
                        # Workers starting together migrate one after the other.
                        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                    cfg.attributes["connection"] = connection
                    command.upgrade(cfg, "head")
                return
            except DBAPIError:
                # SQLite has no advisory lock: a worker that lost the race finds the schema there next time.
                if attempt == 4:
                    raise

    def close(self) -> None:
        self.engine.dispose()

    # -- findings ---------------------------------------------------------------------------------

    def write(
        self,
        findings: Iterable[Finding],
        sources: Mapping[tuple[str, str], Provenance] | None = None,
        postings: Sequence[Mapping[str, Any]] = (),
    ) -> list[str]:
        """Insert findings not stored yet (and upsert `postings` rows), in one transaction; returns the new finding ids.

        `sources` maps (subject type, subject id) to where the subject came from. A finding already
        stored (same id: same subject, rule and evidence) is left as it is, so redelivery is harmless.
        `postings` are rows of `review.scan.postings.posting_row`: every posting a worker checked,
        clean ones too, for the nightly scan.
        """
        with self.engine.begin() as conn:
            return self.write_in(conn, findings, sources, postings)

    def write_postings(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Bulk upsert of `postings` rows (bulk loads, the scan benchmark); returns how many were given."""
        with self.engine.begin() as conn:
            return upsert_postings(conn, rows)

    def write_in(
        self,
        conn: Connection,
        findings: Iterable[Finding],
        sources: Mapping[tuple[str, str], Provenance] | None = None,
        postings: Sequence[Mapping[str, Any]] = (),
    ) -> list[str]:
        """`write` inside a transaction the caller holds (the scan commits findings with its checkpoint)."""
        upsert_postings(conn, postings)
        now = dt.datetime.now(dt.UTC)
        rows: dict[str, dict[str, Any]] = {}
        for f in findings:
            src = (sources or {}).get((f.subject_type, f.subject_id))
            rows[f.id] = {
                "id": f.id,
                "subject_type": f.subject_type,
                "subject_id": f.subject_id,
                "category": f.category,
                "rule": f.rule,
                "severity": f.severity,
                "score": f.score,
                "detector_version": f.detector_version,
                "detected_at": f.detected_at,
                "body": orjson.dumps(f.to_dict()).decode(),
                "source_topic": src.topic if src else None,
                "source_partition": src.partition if src else None,
                "source_offset": src.offset if src else None,
                "ingested_at": src.ingested_at if src else None,
                "stored_at": now,
            }
        if not rows:
            return []
        table = FindingRow.__table__
        stmt = self._insert_ignoring_conflicts(table, ["id"]).returning(table.c.id)
        return list(conn.execute(stmt, list(rows.values())).scalars())

    def finding_ids(self) -> set[str]:
        with Session(self.engine) as s:
            return set(s.scalars(select(FindingRow.id)))

    def count_findings(self, subject_type: str | None = None) -> int:
        q = select(func.count()).select_from(FindingRow)
        if subject_type is not None:
            q = q.where(FindingRow.subject_type == subject_type)
        with Session(self.engine) as s:
            return int(s.scalar(q) or 0)

    def counts_by_rule(self) -> dict[str, int]:
        with Session(self.engine) as s:
            return {r: int(n) for r, n in s.execute(select(FindingRow.rule, func.count()).group_by(FindingRow.rule))}

    def findings(self) -> Iterator[dict[str, Any]]:
        """Every stored finding as its finding.v1 object."""
        with Session(self.engine) as s:
            for body in s.scalars(select(FindingRow.body).order_by(FindingRow.id)):
                yield orjson.loads(body)

    def latencies(self) -> list[float]:
        """Seconds from the subject's publication to its first finding being stored, one per subject."""
        with Session(self.engine) as s:
            q = (
                select(func.min(FindingRow.stored_at), func.min(FindingRow.ingested_at))
                .where(FindingRow.ingested_at.is_not(None))
                .group_by(FindingRow.subject_type, FindingRow.subject_id)
            )
            return [
                (_aware(stored) - _aware(ingested)).total_seconds()
                for stored, ingested in s.execute(q)
                if stored is not None and ingested is not None
            ]

    def last_stored_at(self) -> dt.datetime | None:
        with Session(self.engine) as s:
            value = s.scalar(select(func.max(FindingRow.stored_at)))
            return _aware(value) if value is not None else None

    # -- registry state ---------------------------------------------------------------------------

    def write_registry(
        self, cluster_id: str, records: Iterable[StoredRegistryRecord], watermarks: Mapping[tuple[str, int], int]
    ) -> None:
        """Store registry records (first write per identity wins) and advance partition watermarks, atomically."""
        now = dt.datetime.now(dt.UTC)
        rows = {
            (r.record_type, r.record_key): {
                "record_type": r.record_type,
                "record_key": r.record_key,
                "cluster_id": cluster_id,
                "topic": r.topic,
                "partition": r.partition,
                "offset": r.offset,
                "body": r.body.decode("utf-8"),
                "stored_at": now,
            }
            for r in records
        }
        marks = [
            {"cluster_id": cluster_id, "topic": t, "partition": p, "next_offset": n}
            for (t, p), n in sorted(watermarks.items())
        ]
        with self.engine.begin() as conn:
            if rows:
                stmt = self._insert_ignoring_conflicts(RegistryRecordRow.__table__, ["record_type", "record_key"])
                conn.execute(stmt, list(rows.values()))
            for mark in marks:
                conn.execute(self._raise_watermark(), mark)

    def registry_watermarks(self, cluster_id: str) -> dict[tuple[str, int], int]:
        with Session(self.engine) as s:
            q = select(RegistryWatermarkRow).where(RegistryWatermarkRow.cluster_id == cluster_id)
            return {(w.topic, w.partition): w.next_offset for w in s.scalars(q)}

    def registry_records(
        self, cluster_id: str | None = None, topic: str | None = None, partition: int | None = None,
        start: int = 0, end: int | None = None,
    ) -> list[StoredRegistryRecord]:
        """Registry records, all of them (cluster_id None) or one partition's offsets [start, end), in log order."""
        q = select(RegistryRecordRow)
        if cluster_id is not None:
            q = q.where(
                RegistryRecordRow.cluster_id == cluster_id,
                RegistryRecordRow.topic == topic,
                RegistryRecordRow.partition == partition,
                RegistryRecordRow.offset >= start,
            )
            if end is not None:
                q = q.where(RegistryRecordRow.offset < end)
        q = q.order_by(RegistryRecordRow.stored_at, RegistryRecordRow.topic, RegistryRecordRow.partition,
                       RegistryRecordRow.offset)
        with Session(self.engine) as s:
            return [
                StoredRegistryRecord(r.record_type, r.record_key, r.topic, r.partition, r.offset, r.body.encode())
                for r in s.scalars(q)
            ]

    # -- dialect helpers --------------------------------------------------------------------------

    def _insert_ignoring_conflicts(self, table: Any, keys: list[str]) -> Insert:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table).on_conflict_do_nothing(index_elements=keys)
        if self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            return sqlite_insert(table).on_conflict_do_nothing(index_elements=keys)
        raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {self.dialect}")

    def _raise_watermark(self) -> Insert:
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        elif self.dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert  # type: ignore[assignment]
        else:
            raise NotImplementedError(f"the store supports SQLite and PostgreSQL, not {self.dialect}")
        stmt = dialect_insert(RegistryWatermarkRow)
        current = RegistryWatermarkRow.next_offset
        higher = case((stmt.excluded.next_offset > current, stmt.excluded.next_offset), else_=current)
        return stmt.on_conflict_do_update(
            index_elements=["cluster_id", "topic", "partition"], set_={"next_offset": higher}
        )


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
