"""The stream pipeline on the real broker: same findings as `hrwatch detect`, dead letters, SIGKILL, two workers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from streams.demo import scrape as scrape_metrics
from streams.ingest import FeedLine
from tests.streams.conftest import (
    TEST_MAX_RECORD_BYTES,
    StreamHarness,
    detect_findings,
    dev_feed,
    generated_feed,
    wait_for,
)

POSTING = {
    "type": "job_posting", "id": "bad-0", "source": "test", "title": "普工",
    "description": "包吃住。", "posted_at": "2025-09-04T10:00:00+08:00",
}


def noise_lines() -> list[FeedLine]:
    """Malformed JSON, schema-invalid records and an oversized message, each of which must be dead-lettered."""
    oversized = dict(POSTING, id="bad-oversized", description="很长的描述。" * (TEST_MAX_RECORD_BYTES // 10))
    no_title = {k: v for k, v in POSTING.items() if k != "title"} | {"id": "bad-no-title"}
    bad_unit = dict(POSTING, id="bad-unit", salary={"min": 1, "unit": "week"})
    bad_filing = {"type": "agency_filing", "id": "bad-filing", "filing_type": "licence_bribe",
                  "agency": {"name": "某公司", "uscc": "914403051817210921"}, "filed_at": "2024-01-01T09:00:00+08:00"}
    raws = [
        (b'{"type": "job_posting", "id": "bad-json", ', None, None),
        (b"\xff\xfe not even utf-8", None, None),
        (b"[1, 2, 3]", None, None),
        (orjson.dumps(no_title), "job_posting", "bad-no-title"),
        (orjson.dumps(bad_unit), "job_posting", "bad-unit"),
        (orjson.dumps(bad_filing), "agency_filing", "914403051817210921"),
        (orjson.dumps(oversized), "job_posting", "bad-oversized"),
    ]
    return [FeedLine(90000 + i, raw, kind, key) for i, (raw, kind, key) in enumerate(raws)]


def interleave(clean: list[FeedLine], noise: list[FeedLine]) -> list[FeedLine]:
    step = max(1, len(clean) // (len(noise) + 1))
    out = list(clean)
    for i, line in enumerate(noise, 1):
        out.insert(min(len(out), i * step + i), line)
    return out


def assert_store_matches(h: StreamHarness, expected: dict[str, dict[str, Any]]) -> None:
    store = h.store()
    try:
        stored = {f["id"]: f for f in store.findings()}
        assert store.count_findings() == len(stored)
    finally:
        store.close()
    missing, extra = set(expected) - set(stored), set(stored) - set(expected)

    def describe(ids: set[str], source: dict[str, dict[str, Any]]) -> str:
        return "; ".join(sorted(f"{source[i]['subject']['id']} {source[i]['rule']}" for i in ids)[:20])

    versions = {f["detector_version"] for f in (*expected.values(), *stored.values())}
    assert not missing and not extra, (
        f"detector versions seen: {sorted(versions)}\n"
        f"missing {len(missing)}: {describe(missing, expected)}\nextra {len(extra)}: {describe(extra, stored)}\n"
        f"{h.logs()}"
    )


def test_stream_gives_the_findings_of_detect_and_dead_letters_the_rest(harness: StreamHarness, tmp_path: Path) -> None:
    clean = dev_feed() + generated_feed(tmp_path, 600, seed=21)
    expected = detect_findings(clean, tmp_path)
    assert len(expected) > 50, "the detectors find too little in the feed for this comparison to mean much"
    noise = noise_lines()
    feed = interleave(clean, noise)

    worker = harness.start_worker()
    report = harness.publish(feed)
    assert report.failed == 0, report.errors
    assert report.sent == len(feed)
    harness.wait_processed(report.produced)

    assert_store_matches(harness, expected)
    # Every finding went to hr.findings.v1 as well (at least once).
    on_topic = {orjson.loads(m.value)["id"] for m in harness.read_topic(harness.topics.findings)}
    assert on_topic == set(expected)

    letters = harness.dead_letters()
    by_raw = {d["raw_bytes"]: d for d in letters}
    assert set(by_raw) == {line.value for line in noise}
    reasons = Counter(by_raw[line.value]["reason"] for line in noise)
    assert reasons == {"json": 2, "schema": 4, "oversize": 1}
    for d in letters:
        assert d["topic"].startswith(harness.names.namespace + ".hr.")
        assert d["partition"] >= 0 and d["offset"] >= 0 and d["error"]
    assert by_raw[noise[3].value]["error"].endswith("field title: required field is missing")

    def scrape() -> dict[str, float]:
        return scrape_metrics(worker.info["metrics_url"])

    metrics = scrape()
    assert metrics["hrwatch_findings_total"] == len(expected)  # new finding ids only
    # A redelivered batch (rebalance) would count again in these; there is none with one worker.
    assert metrics["hrwatch_validation_failures_total"] >= len(noise)
    assert metrics["hrwatch_ingest_to_finding_seconds_count"] >= len(clean)
    assert metrics["hrwatch_records_in_total"] >= len(feed)

    # Lag from the fetch high watermarks: present for the worker's partitions, and 0 once it caught up.
    def lags() -> list[float]:
        return [v for k, v in scrape().items() if k.startswith("hrwatch_consumer_lag{")]

    wait_for(lambda: len(lags()) >= 12 and not any(lags()), 30, lambda: f"lag gauges: {lags()}")


def test_wrong_topic_records_are_dead_lettered(harness: StreamHarness) -> None:
    filing = next(line for line in dev_feed() if line.record_type == "agency_filing")
    harness.start_worker()
    report = harness.publish([filing], topic="postings")
    harness.wait_processed(report.produced)
    (letter,) = harness.dead_letters()
    assert letter["reason"] == "wrong_topic" and letter["raw_bytes"] == filing.value
    assert letter["key"] == filing.key.encode()


def test_sigkill_mid_stream_loses_nothing_and_duplicates_nothing(harness: StreamHarness, tmp_path: Path) -> None:
    clean = generated_feed(tmp_path, 3000, seed=33)
    expected = detect_findings(clean, tmp_path)
    first = harness.start_worker()
    report = harness.publish(clean)
    store = harness.store()
    try:
        # Kill as soon as the first postings batch is stored: the rest of the stream is still unprocessed.
        wait_for(lambda: store.count_findings("job_posting") > 0, 120, lambda: f"no findings\n{harness.logs()}")
        first.kill()
        stored_at_kill = store.count_findings()
    finally:
        store.close()
    assert stored_at_kill < len(expected), "the worker finished before it was killed; use a longer feed"
    harness.start_worker()
    harness.wait_processed(report.produced, timeout=180)
    assert_store_matches(harness, expected)


def test_two_workers_share_partitions_and_survive_one_killed(harness: StreamHarness, tmp_path: Path) -> None:
    clean = generated_feed(tmp_path, 3000, seed=44)
    expected = detect_findings(clean, tmp_path)
    workers = [harness.start_worker(), harness.start_worker()]
    report = harness.publish(clean)
    postings = f"hrwatch_records_in_total{{topic={harness.topics.postings}}}"

    def both_consuming_postings() -> bool:
        return all(scrape_metrics(w.info["metrics_url"]).get(postings, 0) > 0 for w in workers)

    wait_for(both_consuming_postings, 120, lambda: f"the workers do not share the postings\n{harness.logs()}")
    workers[0].kill()
    harness.wait_processed(report.produced, timeout=180)
    assert_store_matches(harness, expected)
