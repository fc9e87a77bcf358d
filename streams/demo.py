"""`hrwatch demo`: embedded broker, one worker, a fresh SQLite store; replay the sample feed; summary; serve."""

from __future__ import annotations

import contextlib
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


def run_demo(
    settings: Any,
    count: int,
    *,
    serve: bool = True,
    echo: Callable[[str], None] = print,
    services: Callable[[contextlib.ExitStack, str, str], list[str]] | None = None,
) -> int:
    """Run the streaming demo; returns the exit code.

    `services(stack, bootstrap, database_url)` starts what the composition root adds when serving
    (the review UI, …) on the demo's broker and store, registers their shutdown on `stack`, and
    returns lines to print.
    """
    from hrwatch.settings import child_environment

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hrwatch-demo-")))
        echo("hrwatch demo — embedded broker, one worker, SQLite store; preparing the sample feed …")
        lines = sample_feed(tmp, count, settings.sample_seed)
        broker = stack.enter_context(EmbeddedBroker(binary=settings.tansu_bin, log_path=tmp / "tansu.log"))
        names = TopicNames()
        ensure_topics(broker.bootstrap, names.all(), settings.partitions)
        db_url = f"sqlite:///{tmp / 'demo.db'}"
        env = child_environment(
            kafka=broker.bootstrap, database_url=db_url, ready_file=tmp / "worker.ready", metrics_port=0,
            session_timeout=settings.session_timeout or 6.0, heartbeat_interval=settings.heartbeat_interval or 1.0,
            topic_namespace="", group_id=settings.group_id, data_dir=tmp / "faust",
        )
        worker = WorkerProcess(env, tmp / "worker.ready", tmp / "worker.log").start()
        stack.callback(worker.stop)
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
        if not serve:
            return 0
        for line in services(stack, broker.bootstrap, db_url) if services else ():
            echo(line)
        try:
            echo("serving until Ctrl-C …")
            while worker.alive():
                time.sleep(0.5)  # idle wait for Ctrl-C, or for the worker to stop on its own
            echo(f"the worker stopped (exit code {worker.stop()}); last lines of its log:\n{worker.log_tail()}")
            return 1
        except KeyboardInterrupt:
            echo("\nstopping …")
            return 0
    return 0


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
