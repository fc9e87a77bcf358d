"""`hrwatch demo`: embedded broker, one worker, a fresh SQLite store; replay the sample feed; summary; serve."""

from __future__ import annotations

import contextlib
import signal
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from review.store import FindingStore
from streams.broker import EmbeddedBroker
from streams.ingest import FeedLine, Ingester, IngestReport, read_feed, wait_until_committed
from streams.topics import TopicNames, ensure_topics
from streams.worker import WorkerProcess

DEV_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "eval_dev.jsonl"


def sample_feed(directory: Path, count: int, seed: int) -> list[FeedLine]:
    """The bundled sample: the dev sample (when shared/ is beside the repo) and `count` generated records."""
    lines: list[FeedLine] = []
    if DEV_SAMPLE.exists():
        lines.extend(read_feed(DEV_SAMPLE))
    if count > 0:
        from corpus.generator import write_corpus

        records, labels = directory / "sample.jsonl", directory / "sample.labels.jsonl"
        write_corpus(str(records), str(labels), count, seed, True)
        lines.extend(read_feed(records))
    return lines


def scrape(url: str) -> dict[str, float]:
    """Sample values of a /metrics page, keyed by `name{labels}` (counters summed per family as `name`)."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=10) as resp:
        text = resp.read().decode("utf-8")
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            out[f"{sample.name}{{{labels}}}"] = sample.value
            out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


# Exit codes: 0 after the summary (also when Ctrl-C ends serving), 1 when the worker died while serving,
# 130 (128 + SIGINT) when Ctrl-C came before the summary.
INTERRUPTED = 130


def embedded_timeouts(settings: Any) -> tuple[float, float]:
    """(session timeout, heartbeat) for consumers of the demo's embedded broker, whatever HRWATCH_KAFKA says.

    The long external-cluster defaults (45 s) made the share publisher's group join take ~20 s on Tansu,
    and a Ctrl-C in that time waited for the join to finish before the consumer could leave.
    """
    from streams.app import session_timeouts

    return session_timeouts(settings.model_copy(update={"kafka": None}))


def run_demo(
    settings: Any,
    count: int,
    *,
    serve: bool = True,
    echo: Callable[[str], None] = print,
    services: Callable[[contextlib.ExitStack, str, str], list[str]] | None = None,
) -> int:
    """Run the streaming demo; returns the exit code (see INTERRUPTED).

    `services(stack, bootstrap, database_url)` starts what the composition root adds when serving
    (the review UI, …) on the demo's broker and store, registers their shutdown on `stack`, and
    returns lines to print.

    Shutdown (Ctrl-C, or the end with --no-serve) unwinds in reverse order of start: the worker is
    sent SIGTERM first so that its faust shutdown overlaps the services' own, then the services stop,
    the worker is waited on, the store closes and the broker goes last (everything else talks to it).
    """
    from hrwatch.settings import child_environment

    summarised = False
    worker: WorkerProcess | None = None
    with contextlib.ExitStack() as stack:
        try:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hrwatch-demo-")))
            echo("hrwatch demo — embedded broker, one worker, SQLite store; preparing the sample feed …")
            lines = sample_feed(tmp, count, settings.sample_seed)
            broker = stack.enter_context(EmbeddedBroker(binary=settings.tansu_bin, log_path=tmp / "tansu.log"))
            names = TopicNames()
            ensure_topics(
                broker.bootstrap, names.all(), settings.partitions, replication_factor=settings.replication_factor
            )
            db_url = f"sqlite:///{tmp / 'demo.db'}"
            session, heartbeat = embedded_timeouts(settings)
            env = child_environment(
                kafka=broker.bootstrap, database_url=db_url, ready_file=tmp / "worker.ready", metrics_port=0,
                session_timeout=session, heartbeat_interval=heartbeat,
                topic_namespace="", group_id=settings.group_id, data_dir=tmp / "faust",
            )
            worker = WorkerProcess(env, tmp / "worker.ready", tmp / "worker.log").start()
            stack.callback(_stop_worker, worker, echo)
            info = worker.wait_ready(120)

            started = time.perf_counter()
            report = IngestReport()
            with Ingester(broker.bootstrap, names) as ingester:
                ingester.publish(lines, topic="auto", group=settings.group_id, barrier_timeout=600, report=report)
            wait_until_committed(broker.bootstrap, settings.group_id, report.produced, 600)
            elapsed = time.perf_counter() - started

            store = FindingStore(db_url)
            stack.callback(store.close)
            metrics = scrape(info["metrics_url"])
            echo(summary(report, store, metrics, elapsed))
            echo(f"\nmetrics:  {info['metrics_url']}")
            echo(f"broker:   {broker.bootstrap} (HRWATCH_KAFKA={broker.bootstrap} hrwatch ingest FILE)")
            echo(f"store:    {db_url}")
            summarised = True
            if not serve:
                return 0
            for line in services(stack, broker.bootstrap, db_url) if services else ():
                echo(line)
            echo("serving until Ctrl-C …")
            while worker.alive():
                time.sleep(0.5)  # idle wait for Ctrl-C, or for the worker to stop on its own
            echo(f"the worker stopped (exit code {worker.stop()}); last lines of its log:\n{worker.log_tail()}")
            return 1
        except KeyboardInterrupt:
            echo("\nstopping …")  # before the unwinding, which takes a few seconds
            return 0 if summarised else INTERRUPTED
        finally:
            if worker is not None:
                worker.terminate()  # its shutdown now overlaps the services'; the stack waits for it later
    raise AssertionError("unreachable")  # pragma: no cover - the with block always returns


def _stop_worker(worker: WorkerProcess, echo: Callable[[str], None]) -> None:
    """Wait for the worker's orderly stop (SIGKILL after 30 s); say so when it did not stop cleanly."""
    code = worker.stop()
    # -SIGTERM: it was stopped before faust took the signal over, so it had not processed anything yet.
    if worker.signalled and code not in (0, -signal.SIGTERM):
        echo(f"the worker did not stop cleanly (exit code {code}); last lines of its log:\n{worker.log_tail()}")


def summary(report: IngestReport, store: FindingStore, metrics: dict[str, float], elapsed: float) -> str:
    """Records in, findings by category and rule, dead letters, elapsed and rate."""
    by_rule = store.counts_by_rule()
    by_category: Counter[str] = Counter()
    for rule, n in by_rule.items():
        by_category[rule.split(".", 1)[0]] += n
    dead = int(metrics.get("hrwatch_validation_failures_total", 0))
    processed = int(metrics.get("hrwatch_records_in_total", 0))
    rate = report.sent / elapsed if elapsed > 0 else 0.0
    topics = ", ".join(f"{t} {n}" for t, n in sorted(report.by_topic.items()))
    lines = [
        f"records in: {report.sent} ({topics}), failed to publish: {report.failed}",
        f"processed by the worker: {processed}, dead letters: {dead}",
        f"findings: {sum(by_rule.values())}",
    ]
    for category, n in sorted(by_category.items()):
        lines.append(f"  {category}: {n}")
        for rule, m in sorted(by_rule.items()):
            if rule.startswith(category + "."):
                lines.append(f"    {rule}: {m}")
    lines.append(f"elapsed: {elapsed:.2f}s ({rate:.0f} records/s, publish → all findings stored)")
    return "\n".join(lines)
