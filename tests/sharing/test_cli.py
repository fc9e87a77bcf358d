"""`hrwatch share …` and `hrwatch subscribe` (click objects of hrwatch/cli_sharing.py, registered on `cli` by the lead)."""

from __future__ import annotations

import csv
import io
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from click.testing import CliRunner

from hrwatch.cli_sharing import share
from hrwatch.settings import child_environment
from review.store import FindingStore
from streams.broker import EmbeddedBroker, child_dies_with_parent
from streams.demo import scrape
from streams.topics import TopicNames
from tests.conftest import StreamNames
from tests.sharing.conftest import OfflinePublisher, finding, posting, review_event, store_subjects


def test_policy_check_prints_the_routing_table_or_every_problem(tmp_path: Path, key_dir: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(share, ["policy"], env={"HRWATCH_SHARE_POLICY": None})
    assert ok.exit_code == 0, ok.output
    assert "police.fraud_lures" in ok.output and "tax.annual_report_identity" in ok.output
    keys = runner.invoke(share, ["policy", "--keys"], env={"HRWATCH_SHARE_KEY_DIR": str(key_dir)})
    assert keys.exit_code == 0 and "police: signing key" in keys.output
    missing = runner.invoke(share, ["policy", "--keys"], env={"HRWATCH_SHARE_KEY_DIR": str(tmp_path)})
    assert missing.exit_code == 2 and "hrwatch share keygen tax" in missing.output
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'version = "x"\n[partners.police]\nname = "p"\nclassification = "c"\nfields = ["finding.idd"]\n',
        encoding="utf-8",
    )
    broken = runner.invoke(share, ["policy", "--file", str(bad)])
    assert broken.exit_code == 2
    assert "partners.police.fields: unknown field name(s) finding.idd" in broken.output


def test_keygen_writes_a_pair_where_asked(tmp_path: Path) -> None:
    result = CliRunner().invoke(share, ["keygen", "tax", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "tax.key").exists() and "key id:" in result.output
    again = CliRunner().invoke(share, ["keygen", "tax", "--dir", str(tmp_path)])
    assert again.exit_code == 1 and "--force" in again.output


def test_audit_csv_and_digest_from_the_store(
    sqlite_store: FindingStore, offline_on: Callable[[FindingStore], OfflinePublisher], tmp_path: Path
) -> None:
    store_subjects(sqlite_store.engine, [posting("p-scam"), posting("p-agency", agency=True)])
    pub = offline_on(sqlite_store)
    unlicensed = finding("fake_recruitment.unlicensed_agency", "p-agency")
    pub.findings(finding("fake_recruitment.task_scam", "p-scam", severity="critical"), unlicensed)
    pub.reviews(review_event("5", "confirm", [unlicensed["id"]]))
    env = {"HRWATCH_DATABASE_URL": str(sqlite_store.engine.url), "HRWATCH_SHARE_DIGEST_TIMEZONE": "Asia/Shanghai"}
    runner = CliRunner()
    out = runner.invoke(share, ["audit", "--csv", "-"], env=env)
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert sorted((r["partner"], r["route"]) for r in rows) == [
        ("market", "market.unlicensed_operation"),
        ("police", "police.fraud_lures"),
        ("tax", "tax.unlicensed_fee_collection"),
    ]
    table = runner.invoke(share, ["audit", "--partner", "police"], env=env)
    assert table.exit_code == 0 and "1 rows" in table.output
    # The offline publisher's clock is T0 (10:00 in Shanghai); the window is by sent_at.
    day = "2026-11-23"
    none = runner.invoke(share, ["audit", "--since", "2026-11-24"], env=env)
    assert "0 rows" in none.output
    digest = runner.invoke(share, ["digest", "--date", day, "--out", str(tmp_path / "d")], env=env)
    assert digest.exit_code == 0, digest.output
    for p in ("police", "market", "tax"):
        assert (tmp_path / "d" / f"digest-{p}-{day}.csv").exists()
        assert (tmp_path / "d" / f"digest-{p}-{day}.html").read_text(encoding="utf-8").startswith("<!doctype html>")
    assert "market: 1 shared, 1 new cases" in digest.output


class Command:
    """`hrwatch share publish` / `hrwatch subscribe` as a child process, its output in a file."""

    def __init__(self, code: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with open(log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code, *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=child_dies_with_parent,
            )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.poll() is None, f"exited with {self.proc.returncode} before {what}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {what} within {timeout:.0f}s:\n{self.output()}"
            time.sleep(0.1)  # polling the condition, bounded by the deadline

    def metrics_url(self) -> str:
        self.wait_for(lambda: "metrics at http" in self.output(), "metrics URL")
        return re.search(r"metrics at (http\S+)", self.output()).group(1)  # type: ignore[union-attr]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def test_publish_and_subscribe_commands_share_verify_receipt_and_stop_on_sigterm(
    kafka_broker: EmbeddedBroker, stream_names: StreamNames, tmp_path: Path, key_dir: Path, sqlite_store: FindingStore
) -> None:
    from kafka import KafkaProducer

    names = TopicNames(stream_names.namespace)
    store_subjects(sqlite_store.engine, [posting("p-scam")])
    env = child_environment(
        kafka=kafka_broker.bootstrap,
        topic_namespace=stream_names.namespace,
        share_key_dir=key_dir,
        database_url=str(sqlite_store.engine.url),
        share_group_id=f"{stream_names.group}-pub",
        subscriber_database_url=f"sqlite:///{tmp_path / 'police.db'}",
        subscriber_group_id=f"{stream_names.group}-police",
        metrics_port=0,
        session_timeout=6,
        heartbeat_interval=1,
    )
    publisher = Command("from hrwatch.cli_sharing import share; share()", ["publish"], env, tmp_path / "pub.log")
    subscriber = Command(
        "from hrwatch.cli_sharing import subscribe; subscribe()", ["--partner", "police"], env, tmp_path / "sub.log"
    )
    try:
        pub_metrics, sub_metrics = publisher.metrics_url(), subscriber.metrics_url()
        scam = finding("fake_recruitment.task_scam", "p-scam", severity="critical")
        producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap, acks="all")
        producer.send(names.findings, key=b"p-scam", value=orjson.dumps(scam)).get(30)
        producer.close(10)

        def stored() -> int:
            try:
                with sqlite3.connect(tmp_path / "police.db") as conn:
                    return int(conn.execute("SELECT count(*) FROM received_envelopes").fetchone()[0])
            except sqlite3.Error:
                return 0

        subscriber.wait_for(lambda: stored() == 1, "stored envelope")
        publisher.wait_for(
            lambda: scrape(pub_metrics).get("hrwatch_share_receipted_total{partner=police,status=accepted}") == 1,
            "receipt noted by the publisher",
        )
        shared = scrape(pub_metrics)
        assert shared["hrwatch_share_shared_total{partner=police,trigger=immediate}"] == 1
        received = scrape(sub_metrics)
        assert received["hrwatch_share_received_total{partner=police}"] == 1
        assert received.get("hrwatch_share_rejected_total", 0) == 0
    finally:
        codes = (publisher.stop(), subscriber.stop())
    assert codes == (0, 0), publisher.output() + subscriber.output()
    assert "share publisher (policy 2026-11-pilot) for police, market, tax" in publisher.output()
    assert "police: 1 envelopes stored, 0 rejected" in subscriber.output()
