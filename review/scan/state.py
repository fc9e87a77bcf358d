"""The scan's state in the store: the lock row, run rows (pass, as-of date, status), per-phase checkpoints."""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, delete, insert, select, update

from review.scan.models import ScanCheckpointRow, ScanLockRow, ScanRunRow

LOCK_NAME = "nightly"
UNFINISHED = ("running", "interrupted", "failed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC.
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _process_alive(pid: int) -> bool:
    """Whether a process of this host still runs (a zombie does not count: it was killed and not yet reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass(frozen=True, slots=True)
class RunInfo:
    """The run this process is, and the pass it belongs to (a resumed pass keeps its as-of date)."""

    run_id: int
    pass_id: int
    as_of: dt.datetime
    since: dt.datetime
    resumed_from: int | None


class LockHeld(RuntimeError):
    """Another scan holds the lock (exit code 75: try again later)."""


class ScanState:
    """Lock, runs and checkpoints over one store engine."""

    def __init__(self, engine: Engine, *, stale_after: float = 900.0) -> None:
        self.engine = engine
        self.stale_after = stale_after
        self.host = socket.gethostname()[:200]
        self.pid = os.getpid()

    # -- the lock -------------------------------------------------------------------------------

    def acquire(self, run_id: int = 0) -> None:
        """Take the lock (for `run_id`, set later by `start_run`), or take it over from a dead holder; LockHeld if one is alive."""
        now = utcnow()
        lock = ScanLockRow.__table__
        with self.engine.begin() as conn:
            row = conn.execute(select(lock).where(lock.c.name == LOCK_NAME)).mappings().first()
            mine = {"run_id": run_id, "host": self.host, "pid": self.pid, "acquired_at": now, "heartbeat_at": now}
            if row is None:
                conn.execute(insert(lock).values(name=LOCK_NAME, **mine))
                return
            stale = aware(row["heartbeat_at"]) < now - dt.timedelta(seconds=self.stale_after)  # type: ignore[operator]
            dead = row["host"] == self.host and not _process_alive(row["pid"])
            if not (stale or dead):
                raise LockHeld(
                    f"another scan (run {row['run_id']}, pid {row['pid']} on {row['host']}) holds the lock since "
                    f"{aware(row['acquired_at']):%Y-%m-%d %H:%M:%S}Z"
                )
            # Compare-and-swap: two scans taking over the same dead holder cannot both win.
            taken = conn.execute(
                update(lock).where(lock.c.name == LOCK_NAME, lock.c.run_id == row["run_id"], lock.c.pid == row["pid"])
                .values(**mine)
            ).rowcount
            if taken != 1:
                raise LockHeld("another scan took the lock over at the same time")

    def heartbeat(self, conn: Connection, run_id: int) -> None:
        now = utcnow()
        lock = ScanLockRow.__table__
        conn.execute(update(lock).where(*self._mine()).values(heartbeat_at=now))
        conn.execute(update(ScanRunRow).where(ScanRunRow.id == run_id).values(heartbeat_at=now))

    def release(self) -> None:
        with self.engine.begin() as conn:
            lock = ScanLockRow.__table__
            conn.execute(delete(lock).where(*self._mine()))

    def _mine(self) -> tuple[Any, ...]:
        lock = ScanLockRow.__table__
        return (lock.c.name == LOCK_NAME, lock.c.host == self.host, lock.c.pid == self.pid)

    # -- runs -----------------------------------------------------------------------------------

    def start_run(self, phases: list[str], version: str, live_days: int, *, as_of: dt.datetime | None,
                  restart: bool) -> RunInfo:
        """A new run row: resuming the newest unfinished pass (unless `restart`), else a new pass as of now."""
        now = utcnow()
        runs = ScanRunRow.__table__
        with self.engine.begin() as conn:
            # A run still marked running whose process is gone was killed: it is interrupted.
            conn.execute(update(runs).where(runs.c.status == "running").values(status="interrupted", finished_at=now))
            latest = conn.execute(select(runs).order_by(runs.c.id.desc()).limit(1)).mappings().first()
            resume = (
                latest is not None and latest["status"] in UNFINISHED and not restart
                and (as_of is None or aware(latest["as_of"]) == as_of.astimezone(dt.UTC))
            )
            if resume:
                assert latest is not None
                pass_id, since, run_as_of = latest["pass_id"], aware(latest["since"]), aware(latest["as_of"])
            else:
                run_as_of = (as_of or now).astimezone(dt.UTC)
                previous = conn.execute(
                    select(runs.c.as_of).where(runs.c.status == "completed", runs.c.as_of <= run_as_of)
                    .order_by(runs.c.as_of.desc()).limit(1)
                ).scalar()
                since = aware(previous) or run_as_of - dt.timedelta(days=live_days)
                pass_id = None
            run_id = conn.execute(
                insert(runs).values(
                    pass_id=pass_id, status="running", phases=",".join(phases), as_of=run_as_of, since=since,
                    detector_version=version, host=self.host, pid=self.pid, started_at=now, heartbeat_at=now,
                    postings_scanned=0, new_findings=0, record_errors=0, counts="{}",
                ).returning(runs.c.id)
            ).scalar_one()
            if pass_id is None:
                pass_id = run_id
                conn.execute(update(runs).where(runs.c.id == run_id).values(pass_id=pass_id))
            conn.execute(update(ScanLockRow.__table__).where(*self._mine()).values(run_id=run_id))
        assert run_as_of is not None and since is not None
        return RunInfo(run_id, pass_id, run_as_of, since, latest["id"] if resume and latest else None)

    def finish_run(self, run_id: int, status: str, *, scanned: int, new_findings: int, record_errors: int,
                   counts: dict[str, Any], error: str | None = None, report: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(ScanRunRow).where(ScanRunRow.id == run_id).values(
                status=status, finished_at=utcnow(), postings_scanned=scanned, new_findings=new_findings,
                record_errors=record_errors, counts=orjson.dumps(counts).decode(), error=error, report=report,
            ))

    def run(self, run_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(ScanRunRow.__table__).where(ScanRunRow.id == run_id)).mappings().one()
            return dict(row)

    # -- checkpoints ----------------------------------------------------------------------------

    def checkpoint(self, pass_id: int, phase: str) -> dict[str, Any]:
        """The phase's checkpoint row (created empty on first use)."""
        table = ScanCheckpointRow.__table__
        with self.engine.begin() as conn:
            row = conn.execute(select(table).where(table.c.pass_id == pass_id, table.c.phase == phase)).mappings().first()
            if row is None:
                empty = {"pass_id": pass_id, "phase": phase, "cursor": None, "done": False, "processed": 0,
                         "new_findings": 0, "record_errors": 0, "elapsed_ms": 0, "updated_at": utcnow()}
                conn.execute(insert(table).values(**empty))
                return empty
            return dict(row)

    def advance(self, conn: Connection, pass_id: int, phase: str, *, cursor: Any = None, done: bool = False,
                processed: int = 0, new_findings: int = 0, record_errors: int = 0, elapsed_ms: int = 0) -> None:
        """Move the phase's checkpoint forward, in the caller's transaction (the one that stored the chunk)."""
        table = ScanCheckpointRow.__table__
        values: dict[str, Any] = {
            "done": done, "updated_at": utcnow(),
            "processed": table.c.processed + processed, "new_findings": table.c.new_findings + new_findings,
            "record_errors": table.c.record_errors + record_errors, "elapsed_ms": table.c.elapsed_ms + elapsed_ms,
        }
        if cursor is not None:
            values["cursor"] = orjson.dumps(cursor).decode()
        conn.execute(update(table).where(table.c.pass_id == pass_id, table.c.phase == phase).values(**values))

    def checkpoints(self, pass_id: int) -> list[dict[str, Any]]:
        table = ScanCheckpointRow.__table__
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(table).where(table.c.pass_id == pass_id)).mappings()]
