"""`hrwatch scan` as a process: SIGKILL at a checkpoint then rerun equals an uninterrupted run; SIGTERM; exit codes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hrwatch.cli import cli
from hrwatch.settings import child_environment
from review.scan.models import PostingRow, ScanCheckpointRow, ScanFindingRow, ScanLockRow, ScanRunRow
from review.scan.state import LOCK_NAME
from review.store import FindingStore
from tests.conftest import throwaway_schema
from tests.review import scan_data

pytestmark = pytest.mark.timeout(600)
AS_OF = "2026-11-23T02:00:00"
EXTRA = 500  # postings to re-detect: 50 checkpoints of 10


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two identical stores (loaded with the scan scenario and EXTRA old-version postings)."""
    with contextlib.ExitStack() as schemas:
        if request.param == "sqlite":
            urls = [f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"]
        else:
            postgres_url = request.getfixturevalue("postgres_url")
            urls = [schemas.enter_context(throwaway_schema(postgres_url)) for _ in range(2)]
        for url in urls:
            store = FindingStore(url)
            store.migrate()
            scan_data.load(store, extra=EXTRA)
            store.close()
        yield urls[0], urls[1]


def _env(url: str, **extra: object) -> dict[str, str]:
    return child_environment(database_url=url, kafka=None, scan_chunk_size=10, scan_workers=2, **extra)


def _scan(url: str, tmp_path: Path, *args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "hrwatch.cli", "scan", "--as-of", AS_OF, "--no-publish", "--quiet",
           "--report-dir", str(tmp_path / "reports"), *args]
    return subprocess.Popen(cmd, env=_env(url), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_checkpoint(store: FindingStore, proc: subprocess.Popen[bytes], at_least: int, timeout: float = 240) -> int:
    """Poll (no sleep-as-synchronisation: a condition with a deadline) until re-detection committed `at_least` postings."""
    deadline = time.monotonic() + timeout
    table = ScanCheckpointRow.__table__
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the scan ended before the checkpoint: {proc.communicate()}"
        try:
            with store.engine.connect() as conn:
                row = conn.execute(sa.select(table.c.processed, table.c.done).where(table.c.phase == "redetect")).first()
        except sa.exc.OperationalError:  # the table is created by the child's migration
            row = None
        if row is not None and row.processed >= at_least and not row.done:
            return int(row.processed)
        time.sleep(0.005)
    raise AssertionError("the scan did not reach the checkpoint in time")


def _outcome(url: str) -> tuple[set[str], set[str], set[str], list[tuple[int, str, int]]]:
    store = FindingStore(url)
    try:
        with store.engine.connect() as conn:
            findings = set(conn.execute(sa.text("SELECT id FROM findings")).scalars())
            new = set(conn.execute(sa.select(ScanFindingRow.finding_id)).scalars())
            versions = set(conn.execute(sa.select(PostingRow.detector_version)).scalars())
            runs = [tuple(r) for r in conn.execute(sa.select(ScanRunRow.id, ScanRunRow.status, ScanRunRow.pass_id)
                                                   .order_by(ScanRunRow.id))]
    finally:
        store.close()
    return findings, new, versions, runs  # type: ignore[return-value]


def test_sigkill_midway_then_rerun_gives_the_same_findings(two_stores: tuple[str, str], tmp_path: Path) -> None:
    killed_url, clean_url = two_stores
    store = FindingStore(killed_url)
    proc = _scan(killed_url, tmp_path)
    try:
        done = _wait_for_checkpoint(store, proc, at_least=100)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(60)
    assert proc.returncode == -signal.SIGKILL
    assert done < EXTRA
    with store.engine.connect() as conn:  # the killed run left its lock and a half-done phase
        assert conn.execute(sa.select(sa.func.count()).select_from(ScanLockRow)).scalar() == 1
    store.close()
    rerun = _scan(killed_url, tmp_path)
    out, err = rerun.communicate(timeout=500)
    assert rerun.returncode == 0, (out, err)
    assert b"run 2 (pass 1," in out
    clean = _scan(clean_url, tmp_path)
    out2, err2 = clean.communicate(timeout=500)
    assert clean.returncode == 0, (out2, err2)

    k_findings, k_new, k_versions, k_runs = _outcome(killed_url)
    c_findings, c_new, c_versions, c_runs = _outcome(clean_url)
    assert k_findings == c_findings and k_new == c_new
    assert len(k_findings) > EXTRA // 2  # re-detection found plenty: the comparison is not vacuous
    # Every posting re-detected by the running version (one version per store; not compared between the two
    # stores, since the detectors' version is a hash of their files, which may be edited while a suite runs).
    assert len(k_versions) == len(c_versions) == 1 and scan_data.OLD_VERSION not in k_versions
    assert [(s, p) for _i, s, p in k_runs] == [("interrupted", 1), ("completed", 1)]
    assert [(s, p) for _i, s, p in c_runs] == [("completed", 1)]


def test_sigterm_stops_with_exit_3_and_the_next_run_resumes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = FindingStore(url)
    store.migrate()
    scan_data.load(store, extra=EXTRA)
    proc = _scan(url, tmp_path)
    try:
        _wait_for_checkpoint(store, proc, at_least=50)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3, (out, err)
    assert b"scan interrupted" in out
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ScanLockRow)).scalar() == 0  # released
        status = conn.execute(sa.select(ScanRunRow.status)).scalar()
    assert status == "interrupted"
    store.close()
    rerun = _scan(url, tmp_path)
    out, err = rerun.communicate(timeout=500)
    assert rerun.returncode == 0 and b"run 2 (pass 1," in out, (out, err)


def test_cli_exit_codes_and_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = FindingStore(url)
    store.migrate()
    scan_data.load(store)
    now = sa.func.now()
    with store.engine.begin() as conn:  # a live holder on this host: this test process
        conn.execute(sa.insert(ScanLockRow).values(name=LOCK_NAME, run_id=7, host=socket.gethostname(),
                                                    pid=os.getpid(), acquired_at=now, heartbeat_at=now))
    runner = CliRunner()
    env = {"HRWATCH_DATABASE_URL": url, "HRWATCH_KAFKA": None}
    locked = runner.invoke(cli, ["scan", "--quiet", "--no-publish", "--workers", "1"], env=env)
    assert locked.exit_code == 75, locked.output
    assert "holds the lock" in locked.output
    with store.engine.begin() as conn:
        conn.execute(sa.delete(ScanLockRow))
    bad = runner.invoke(cli, ["scan", "--phases", "licences,nonsense"], env=env)
    assert bad.exit_code == 2 and "nonsense" in bad.output
    reports = tmp_path / "reports"
    ok = runner.invoke(cli, ["scan", "--quiet", "--no-publish", "--workers", "1", "--as-of", AS_OF,
                             "--report-dir", str(reports)], env=env)
    assert ok.exit_code == 0, ok.output
    assert "scan completed: run 1 (pass 1, as of 2026-11-23 02:00Z)" in ok.output
    names = sorted(p.name for p in reports.iterdir())
    assert names == ["scan-20261123-pass1-run1-findings.csv", "scan-20261123-pass1-run1-phases.csv",
                     "scan-20261123-pass1-run1.html"]
    store.close()
