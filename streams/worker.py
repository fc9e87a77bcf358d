"""`hrwatch worker`: broker (external or embedded), topics, store migration, metrics server, then the faust worker."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from review.store import FindingStore
from streams.broker import EmbeddedBroker
from streams.metrics import MetricsServer, StreamMetrics
from streams.topics import INPUT_TOPIC_BY_TYPE, TopicNames, ensure_topics

log = logging.getLogger(__name__)


def cluster_id_of(bootstrap: str) -> str:
    """The Kafka cluster id; registry watermarks in the store are kept per cluster (a new embedded log restarts at 0)."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="hrwatch-admin")
    try:
        return str(admin.describe_cluster()["cluster_id"])
    finally:
        admin.close()


def write_ready_file(path: Path, info: dict[str, Any]) -> None:
    """Atomically write `info` as JSON to `path` (readers never see half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info), encoding="utf-8")
    os.replace(tmp, path)


def skip_exit_collection() -> None:
    """Call when the process is about to end and everything is closed: a faster exit, nothing else changes.

    CPython's finalisation runs full garbage collections over the whole heap (detector lexicons, faust,
    FastAPI, …): measured 1.5–3 s on the loaded 2-core machine, most of what was left of a Ctrl-C's wait
    once the services had stopped. `gc.freeze()` moves every object out of the collector's sight; the
    memory goes back to the OS with the process, and atexit handlers and stream flushing still run.
    """
    gc.freeze()


def run_worker(settings: Any, *, log_level: str = "WARNING", announce: Callable[[str], None] = print) -> int:
    """Run one worker until SIGINT/SIGTERM; returns the exit code. Meant to end its process (`hrwatch worker`)."""
    try:
        return _run_worker(settings, log_level, announce)
    finally:
        skip_exit_collection()


def _run_worker(settings: Any, log_level: str, announce: Callable[[str], None]) -> int:
    import faust

    from streams.app import create_app

    with contextlib.ExitStack() as stack:
        if settings.kafka:
            bootstrap = settings.kafka
        else:
            broker = stack.enter_context(EmbeddedBroker(binary=settings.tansu_bin))
            bootstrap = broker.bootstrap
            announce(f"embedded broker (Tansu, in-memory log) on {bootstrap}: HRWATCH_KAFKA={bootstrap} hrwatch ingest …")
        names = TopicNames(settings.topic_namespace)
        ensure_topics(bootstrap, names.all(), settings.partitions, replication_factor=settings.replication_factor)
        cluster_id = cluster_id_of(bootstrap)
        store = FindingStore.from_settings(settings)
        stack.callback(store.close)
        store.migrate()
        metrics = StreamMetrics()
        metrics.start_series(names.input(t) for t in INPUT_TOPIC_BY_TYPE)
        server = MetricsServer(metrics, settings.metrics_host, settings.metrics_port).start()
        stack.callback(server.stop)
        datadir = settings.data_dir
        if datadir is None:
            datadir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hrwatch-worker-")))
        info = {
            "pid": os.getpid(), "bootstrap": bootstrap, "cluster_id": cluster_id, "group": settings.group_id,
            "metrics_url": server.url, "postings_topic": names.postings,
        }

        def on_ready() -> None:
            if settings.ready_file:
                write_ready_file(Path(settings.ready_file), info)
            announce(f"worker {os.getpid()} of group {settings.group_id} on {bootstrap}; metrics at {server.url}")

        app = create_app(
            settings.model_copy(update={"data_dir": datadir}),
            bootstrap=bootstrap, store=store, cluster_id=cluster_id, metrics=metrics, on_ready=on_ready,
        )
        worker = faust.Worker(app, loglevel=log_level, quiet=True, redirect_stdouts=False)
        worker.spinner = None  # it draws on stdout even when that is a log file
        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    return 0


class WorkerProcess:
    """`hrwatch worker` as a child process (demo, tests, bench): started, waited on until ready, stopped or killed."""

    def __init__(self, env: dict[str, str], ready_file: Path, log_path: Path | None = None) -> None:
        self.env = env
        self.ready_file = ready_file
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._terminated = False

    def start(self) -> WorkerProcess:
        from streams.broker import child_dies_with_parent

        self.ready_file.unlink(missing_ok=True)
        self._terminated = False
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hrwatch.cli", "worker", "--log-level", "WARNING"],
                env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                preexec_fn=child_dies_with_parent,
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()  # type: ignore[union-attr]
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def wait_ready(self, timeout: float = 60.0) -> dict[str, Any]:
        """Block until the worker wrote its ready file; fails fast (with its log) if it exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_file.exists():
                self.info = json.loads(self.ready_file.read_text(encoding="utf-8"))
                return self.info
            if self.process is None or self.process.poll() is not None:
                code = self.process.returncode if self.process else None
                raise RuntimeError(f"worker exited with code {code} before it was ready:\n{self.log_tail()}")
            time.sleep(0.05)  # polling the condition "ready file written", bounded by the deadline
        raise TimeoutError(f"worker not ready within {timeout:.0f}s:\n{self.log_tail()}")

    def log_tail(self, limit: int = 4000) -> str:
        if not self.log_path or not self.log_path.exists():
            return "(no log)"
        return self.log_path.read_bytes()[-limit:].decode("utf-8", "replace")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no commit, as when a machine dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    @property
    def signalled(self) -> bool:
        """True once this object sent the worker SIGTERM (its exit is then expected)."""
        return self._terminated

    def terminate(self) -> None:
        """Send SIGTERM once and return at once, so the worker's shutdown overlaps the caller's own; `stop()` waits."""
        proc = self.process
        if proc is not None and not self._terminated and proc.poll() is None:
            # Once: the worker's shutdown is already under way (faust would ignore a second SIGTERM anyway).
            proc.send_signal(signal.SIGTERM)
            self._terminated = True

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (faust commits what it processed and leaves the group), SIGKILL after `timeout`."""
        proc = self.process
        if proc is None:
            return None
        if proc.poll() is None:
            self.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode
