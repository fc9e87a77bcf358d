"""A real Prometheus (Debian's) scrapes a running pipeline; every dashboard query and every rule is evaluated through its API.

The pipeline is the deployment's processes as child processes, on the session's Tansu broker and a
PostgreSQL schema: `hrwatch worker`, `hrwatch serve` (queue and scan metrics on their own port),
`hrwatch share publish`, and the police partner's `hrwatch subscribe` (for receipts). Prometheus runs
deploy/prometheus/prometheus.yml with the test's targets, a 1 s scrape and evaluation interval and
the deployment's rule files. The feed goes in only once Prometheus scrapes, so counters rise under
its eyes (rate() and increase() need that), with invalid records among the valid ones, a decision or
three in the queue and unreadable messages for the share publisher.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from hrwatch.settings import child_environment
from review.queue import QueueFilter, ReviewQueue
from streams.broker import EmbeddedBroker, child_dies_with_parent
from streams.ingest import FeedLine, Ingester, wait_until_committed
from streams.topics import TopicNames, ensure_topics
from streams.worker import WorkerProcess
from tests.monitoring.promql import (
    PROMTOOL_BIN,
    PrometheusError,
    PrometheusServer,
    Query,
    dashboard_queries,
    rule_queries,
    rules,
    scrape_config_for,
    variable_queries,
)
from tests.streams.conftest import generated_feed

JOBS = ("hrwatch-worker", "hrwatch-review", "hrwatch-sharing")
# Alerts a healthy pipeline must not raise: their expressions must evaluate to nothing.
QUIET_ALERTS = {
    "HrwatchTargetDown",
    "HrwatchNoRecords",
    "HrwatchConsumerLagGrowing",
    "HrwatchDetectorErrors",
    "HrwatchIngestLatencyHigh",
    "HrwatchReviewStoreDown",
    "HrwatchReviewPastSla",
    "HrwatchReviewOutboxStuck",
    "HrwatchScanFailed",
    "HrwatchScanMissing",
    "HrwatchScanNeverCompleted",
}
# Alerts this run provokes on purpose: unreadable messages for the publisher, and 10 of ~90 postings invalid.
FIRING_ALERTS = {"HrwatchShareInvalidInput", "HrwatchDeadLetterSpike"}
# Fires for partners without a running subscriber (market, tax), never for police, whose receipts come back.
PER_PARTNER_ALERTS = {"HrwatchShareReceiptsMissing"}
WAIT = 240.0
# What the feed did, as Prometheus must end up seeing it (the fixture waits for each): exact counts where
# the test controls them. 10 dead letters, 2 unreadable findings, 3 decisions, a completed scan, police receipts.
SETTLED = (
    'sum(hrwatch_validation_failures_total{job="hrwatch-worker"}) == 10',
    'sum(hrwatch_validation_failures_total{reason="json"}) == 3',  # two truncated objects, one not UTF-8
    'sum(hrwatch_validation_failures_total{reason="schema"}) == 6',  # an array, five postings without a title
    'sum(hrwatch_validation_failures_total{reason="empty"}) == 1',
    'sum(hrwatch_share_invalid_input_total{job="hrwatch-sharing"}) == 2',
    'hrwatch_review_decisions_total{action="confirm"} == 2',
    'hrwatch_review_decisions_total{action="dismiss"} == 1',
    "hrwatch_review_outbox_pending_events == 0",
    "hrwatch_scan_last_success_timestamp_seconds > 0",
    'hrwatch_scan_runs{status="completed"} == 1',
    'sum(hrwatch_share_receipted_total{partner="police"}) > 0',
    'sum(hrwatch_records_in_total{job="hrwatch-worker"}) >= 130',
)


class Command:
    """An `hrwatch …` command as a child process, its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hrwatch.cli", *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=child_dies_with_parent,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def metrics_url(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while not (m := re.search(r"metrics at (http\S+)", self.output())):
            assert self.proc.poll() is None, f"exited with {self.proc.returncode}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no metrics URL within {timeout:.0f}s:\n{self.output()}"
            time.sleep(0.1)  # polling the condition "URL printed", bounded by the deadline
        return m.group(1)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@dataclass
class Pipeline:
    broker: EmbeddedBroker
    names: TopicNames
    group: str
    database_url: str
    tmp: Path
    prometheus: PrometheusServer | None = None
    config: Path | None = None
    targets: dict[str, list[str]] = field(default_factory=dict)
    commands: list[Command] = field(default_factory=list)
    worker: WorkerProcess | None = None

    def logs(self) -> str:
        parts = [f"--- worker ---\n{self.worker.log_tail()}" if self.worker else ""]
        parts += [f"--- {c.log.name} ---\n{c.output()[-3000:]}" for c in self.commands]
        if self.prometheus:
            parts.append(f"--- prometheus ---\n{self.prometheus.log_tail()}")
        return "\n".join(parts)


def host_port(url: str) -> str:
    m = re.match(r"http://([^/]+)/metrics$", url)
    assert m, url
    return m.group(1)


def noise_lines() -> list[FeedLine]:
    """Ten postings the worker must dead-letter: malformed JSON, not UTF-8, not an object, schema violations."""
    base = {
        "type": "job_posting",
        "source": "58同城",
        "title": "普工",
        "description": "招普工",
        "posted_at": "2026-11-20T09:00:00+08:00",
    }
    raws: list[tuple[bytes, str | None]] = [
        (b'{"type": "job_posting", "id": "bad-json-1", ', None),
        (b'{"type": "job_posting", "id": "bad-json-2"', None),
        (b"\xff\xfe not even utf-8", None),
        (b"[1, 2, 3]", None),
        (b"", None),
    ]
    for i in range(5):
        record = {k: v for k, v in base.items() if k != "title"} | {"id": f"bad-no-title-{i}"}
        raws.append((orjson.dumps(record), f"bad-no-title-{i}"))
    return [FeedLine(90000 + i, raw, "job_posting", key) for i, (raw, key) in enumerate(raws)]


def create_schema(postgres_url: str) -> str:
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema


def drop_schema(postgres_url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def wait_until(condition: Callable[[], bool], what: str, timeout: float, logs: Callable[[], str]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f}s: {what}\n{logs()}")
        time.sleep(0.5)  # polling the condition, bounded by the deadline


@pytest.fixture(scope="module")
def pipeline(
    kafka_broker: EmbeddedBroker, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    from sharing.keygen import generate

    tmp = tmp_path_factory.mktemp("monitoring")
    tag = uuid.uuid4().hex[:10]
    names, group = TopicNames(f"m{tag}"), f"m{tag}"
    schema = create_schema(postgres_url)
    p = Pipeline(kafka_broker, names, group, f"{postgres_url}?options=-csearch_path%3D{schema}", tmp)
    for partner in ("police", "market", "tax"):
        generate(partner, tmp / "keys")
        generate(partner, tmp / "keys", receipts=True)  # the subscriber signs its receipts (sharing/README.md)
    env = child_environment(
        kafka=kafka_broker.bootstrap,
        database_url=p.database_url,
        topic_namespace=names.namespace,
        group_id=group,
        partitions=2,
        session_timeout=6,
        heartbeat_interval=1,
        metrics_host="127.0.0.1",
        metrics_port=0,
        share_key_dir=tmp / "keys",
        share_group_id=f"{group}-pub",
        subscriber_group_id=f"{group}-police",
        subscriber_database_url=f"sqlite:///{tmp / 'police.db'}",
        share_resend_after=5,
    )
    try:
        ensure_topics(kafka_broker.bootstrap, names.all(), 2)
        # One at a time: each migrates the store on start.
        p.worker = WorkerProcess(
            {**env, "HRWATCH_READY_FILE": str(tmp / "worker.ready"), "HRWATCH_DATA_DIR": str(tmp / "faust")},
            tmp / "worker.ready",
            tmp / "worker.log",
        ).start()
        worker_url = p.worker.wait_ready(120)["metrics_url"]
        for name, args in (
            ("serve", ["serve", "--port", "0"]),
            ("publish", ["share", "publish"]),
            ("subscribe", ["subscribe", "--partner", "police"]),
        ):
            p.commands.append(Command(args, env, tmp / f"{name}.log"))
            p.commands[-1].metrics_url()
        serve, publish = p.commands[0], p.commands[1]
        p.targets = {
            "hrwatch-worker": [host_port(worker_url)],
            "hrwatch-review": [host_port(serve.metrics_url())],
            "hrwatch-sharing": [host_port(publish.metrics_url())],
        }
        p.config = tmp / "prometheus.yml"
        p.config.write_text(yaml.safe_dump(scrape_config_for(p.targets)), encoding="utf-8")
        p.prometheus = PrometheusServer(p.config, tmp).start()
        wait_until(lambda: targets_up(p.prometheus) == set(JOBS), "every target up", 60, p.logs)  # type: ignore[arg-type]
        feed(p)
        scan(p, env)
        for expr in SETTLED:
            wait_until(lambda e=expr: bool(p.prometheus.query(e)), f"Prometheus sees {expr}", WAIT, p.logs)  # type: ignore[union-attr,misc]
        yield p
    finally:
        if p.prometheus:
            p.prometheus.stop()
        for c in p.commands:
            c.stop()
        if p.worker:
            p.worker.stop()
        drop_schema(postgres_url, schema)


def targets_up(prom: PrometheusServer) -> set[str]:
    active = prom.api("targets")["activeTargets"]
    return {t["labels"]["job"] for t in active if t["health"] == "up"}


def feed(p: Pipeline) -> None:
    """Records (valid and not), unreadable findings for the publisher, and decisions in the queue."""
    from kafka import KafkaProducer

    lines = generated_feed(p.tmp, 120, 11)
    with Ingester(p.broker.bootstrap, p.names) as ingester:
        report = ingester.publish(lines, topic="auto", group=p.group, barrier_timeout=180)
        noise = ingester.publish(noise_lines(), topic="postings")
    produced = dict(report.produced)
    for tp, n in noise.produced.items():
        produced[tp] = max(produced.get(tp, 0), n)
    try:
        wait_until_committed(p.broker.bootstrap, p.group, produced, 180)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n{p.logs()}") from None
    producer = KafkaProducer(bootstrap_servers=p.broker.bootstrap, acks="all")
    for raw in (b"{not json", b'{"finding": "without an id"}'):
        producer.send(p.names.findings, key=b"garbage", value=raw).get(30)
    producer.close(10)
    queue = ReviewQueue.open(p.database_url)
    try:
        supervisor = queue.create_user("oncall", "correct-horse-battery", "supervisor")
        first, second, third = queue.list_alerts(QueueFilter(per_page=3)).items
        queue.decide(first.id, "confirm", supervisor)
        queue.decide(second.id, "confirm", supervisor)
        queue.decide(third.id, "dismiss", supervisor, reason="false_positive")
    finally:
        queue.close()


def scan(p: Pipeline, env: dict[str, str]) -> None:
    """`hrwatch scan` once, as cron runs it, so the scan panels and rules have a completed run to show."""
    result = subprocess.run(
        [sys.executable, "-m", "hrwatch.cli", "scan", "--workers", "1", "--quiet", "--report-dir", str(p.tmp / "scan")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"hrwatch scan exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"


def evaluate(prom: PrometheusServer, queries: list[Query]) -> dict[Query, list[dict[str, Any]]]:
    """Each query's result; any evaluation error fails at once, naming the query."""
    out = {}
    for q in queries:
        try:
            out[q] = prom.query(q.expr)
        except PrometheusError as exc:
            raise AssertionError(f"{q.where}: {q.expr}\n{exc}") from None
    return out


def wait_for_data(p: Pipeline, queries: list[Query], timeout: float = WAIT) -> dict[Query, list[dict[str, Any]]]:
    """Evaluate until every query returns data (the pipeline's numbers have reached Prometheus)."""
    assert p.prometheus is not None
    deadline = time.monotonic() + timeout
    while True:
        results = evaluate(p.prometheus, queries)
        empty = [q for q, r in results.items() if not r]
        if not empty:
            return results
        if time.monotonic() > deadline:
            listing = "\n".join(f"  {q.where}: {q.expr}" for q in empty)
            raise AssertionError(f"no data within {timeout:.0f}s from:\n{listing}\n{p.logs()}")
        time.sleep(1)  # one evaluation interval; polling the condition, bounded by the deadline


def test_every_dashboard_query_evaluates_and_returns_data(pipeline: Pipeline) -> None:
    queries = dashboard_queries()
    assert len(queries) >= 30
    results = wait_for_data(pipeline, queries)
    # Spot checks that the numbers are the pipeline's, not merely present.
    by_expr = {q.expr: r for q, r in results.items()}
    up = next(r for e, r in by_expr.items() if e.startswith("up{"))
    assert {s["metric"]["job"] for s in up} == set(JOBS) and all(s["value"][1] == "1" for s in up)
    dead = next(r for e, r in by_expr.items() if "hrwatch_validation_failures_total" in e)
    assert {s["metric"]["reason"] for s in dead} >= {"json", "schema", "empty"}


def test_template_variables_list_the_scraped_instances(pipeline: Pipeline) -> None:
    assert pipeline.prometheus is not None
    for query, label in variable_queries():
        (result,) = evaluate(pipeline.prometheus, [query]).values()
        values = {s["metric"].get(label) for s in result}
        assert values == {t for targets in pipeline.targets.values() for t in targets}, query.where


def test_every_rule_evaluates_and_the_alerts_match_a_healthy_pipeline(pipeline: Pipeline) -> None:
    prom = pipeline.prometheus
    assert prom is not None
    every_rule = rules()
    alert_names = {r["alert"] for r in every_rule if "alert" in r}
    assert alert_names == QUIET_ALERTS | FIRING_ALERTS | PER_PARTNER_ALERTS, "classify every alert in this test"
    recorded = [q for q, r in zip(rule_queries(), every_rule, strict=True) if "record" in r]
    wait_for_data(pipeline, recorded)
    firing = [q for q, r in zip(rule_queries(), every_rule, strict=True) if r.get("alert") in FIRING_ALERTS]
    wait_for_data(pipeline, firing)
    alerts = {r["alert"]: q for q, r in zip(rule_queries(), every_rule, strict=True) if "alert" in r}
    results = evaluate(prom, list(alerts.values()))
    for name in QUIET_ALERTS:
        assert results[alerts[name]] == [], f"{name} fires on a healthy pipeline: {results[alerts[name]]}"
    for name in PER_PARTNER_ALERTS:
        assert "police" not in {s["metric"].get("partner") for s in results[alerts[name]]}, name
    invalid = results[alerts["HrwatchShareInvalidInput"]]
    assert {s["metric"]["topic"] for s in invalid} == {pipeline.names.findings}

    # Prometheus' own evaluation of the rule files: every rule evaluated, none with an error.
    def evaluated() -> bool:
        groups = prom.api("rules")["groups"]
        return all(not r["lastEvaluation"].startswith("0001") for g in groups for r in g["rules"])

    wait_until(evaluated, "every rule evaluated once", 60, pipeline.logs)
    groups = prom.api("rules")["groups"]
    seen = {r["name"]: r for g in groups for r in g["rules"]}
    assert set(seen) == {r.get("alert") or r.get("record") for r in every_rule}
    for name, rule in seen.items():
        assert rule["health"] == "ok" and not rule.get("lastError"), f"{name}: {rule.get('lastError')}"


def test_promtool_accepts_the_test_configuration(pipeline: Pipeline) -> None:
    assert pipeline.config is not None
    result = subprocess.run(
        [PROMTOOL_BIN, "check", "config", str(pipeline.config)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
