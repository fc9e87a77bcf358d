"""End-to-end stream throughput: ingest (kafka-python) → worker(s) on the embedded Tansu broker → findings stored.

    python bench/stream_throughput.py [--postings 20000] [--workers 1] [--database-url URL]

Prints postings/s from the first posting published to the last posting committed by the worker group
(its findings are stored before that), the ingest rate alone, p50/p99 publish→finding-stored latency,
and the offline `hrwatch detect` rate on the same postings for comparison. Checks that the store holds
exactly the finding ids the offline engine gives.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detectors import DetectionEngine
from hrwatch.settings import child_environment
from review.store import FindingStore
from schemas import parse_json
from streams.broker import EmbeddedBroker
from streams.ingest import Ingester, IngestReport, plan_runs, read_feed, wait_until_committed
from streams.topics import TopicNames, ensure_topics
from streams.worker import WorkerProcess


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postings", type=int, default=20000, help="approximate number of postings")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--rate", type=float, default=None,
                        help="publish postings at this rate (postings/s) to measure latency below saturation")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hrwatch-bench-") as tmp_name:
        tmp = Path(tmp_name)
        from corpus.generator import write_corpus

        t = time.perf_counter()
        # The generated corpus is ~78% postings; the rest are the registry records they refer to.
        write_corpus(str(tmp / "feed.jsonl"), str(tmp / "labels.jsonl"), int(args.postings / 0.78), args.seed, True)
        lines = list(read_feed(tmp / "feed.jsonl"))
        runs = plan_runs(lines, "auto")
        registry_lines = [line for is_registry, run in runs if is_registry for line in run]
        posting_lines = [line for is_registry, run in runs if not is_registry for line in run]
        print(f"feed: {len(registry_lines)} registry records, {len(posting_lines)} postings "
              f"(generated in {time.perf_counter() - t:.1f}s)")

        engine = DetectionEngine()
        expected: set[str] = set()
        for line in registry_lines:  # filings carry findings too (their notes)
            expected.update(f.id for f in engine.process(parse_json(line.value)))
        t = time.perf_counter()
        for line in posting_lines:
            expected.update(f.id for f in engine.process(parse_json(line.value)))
        offline = len(posting_lines) / (time.perf_counter() - t)
        print(f"offline detection (same engine, one process): {offline:,.0f} postings/s")

        db_url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
        with EmbeddedBroker(log_path=tmp / "tansu.log") as broker:
            names = TopicNames("bench")
            ensure_topics(broker.bootstrap, names.all(), args.partitions)
            workers = []
            for i in range(args.workers):
                env = child_environment(
                    kafka=broker.bootstrap, database_url=db_url, topic_namespace="bench", group_id="bench",
                    partitions=args.partitions, ready_file=tmp / f"w{i}.ready", data_dir=tmp / f"faust{i}",
                    session_timeout=6, heartbeat_interval=1, metrics_port=0,
                )
                workers.append(WorkerProcess(env, tmp / f"w{i}.ready", tmp / f"w{i}.log").start())
            try:
                for w in workers:
                    w.wait_ready(120)
                pids = [broker.pid or 0] + [w.pid for w in workers]
                with Ingester(broker.bootstrap, names) as ingester:
                    registry_report = ingester.publish(registry_lines, topic="auto")
                    wait_until_committed(broker.bootstrap, "bench", registry_report.produced, 600)
                    report = IngestReport()
                    cpu_before = {pid: cpu_seconds(pid) for pid in pids}
                    self_before = own_cpu_seconds()
                    ingester.publish(posting_lines, topic="postings", report=report, rate=args.rate)
                ingest_rate = report.sent / report.elapsed
                t_first = report.started
                wait_until_committed(broker.bootstrap, "bench", report.produced, 1800, poll=0.05)
                t_committed = time.time()
                cpu = {pid: cpu_seconds(pid) - cpu_before[pid] for pid in pids}
                ingest_cpu = own_cpu_seconds() - self_before
                store = FindingStore(db_url)
                stored = store.finding_ids()
                last = store.last_stored_at()
                latencies = store.latencies()
                store.close()
            finally:
                for w in workers:
                    w.stop()

        n = report.sent
        end_to_end = n / (t_committed - t_first)
        to_last_finding = n / (last.timestamp() - t_first) if last else float("nan")
        print(f"ingest alone: {ingest_rate:,.0f} postings/s (kafka-python, acks=all)")
        print(f"end to end ({args.workers} worker(s), {args.partitions} partitions, {os.cpu_count()} cores): "
              f"{end_to_end:,.0f} postings/s to the last offset committed, "
              f"{to_last_finding:,.0f} postings/s to the last finding stored ({n} postings)")
        print(f"publish → finding stored latency over {len(latencies)} postings with findings: "
              f"p50 {percentile(latencies, 0.5) * 1000:,.0f} ms, p99 {percentile(latencies, 0.99) * 1000:,.0f} ms, "
              f"mean {statistics.fmean(latencies) * 1000 if latencies else float('nan'):,.0f} ms")
        per_posting = {name: cpu[pid] / n * 1000 for name, pid in
                       [("broker", pids[0])] + [(f"worker{i}", pid) for i, pid in enumerate(pids[1:])]}
        per_posting["ingest (this process)"] = ingest_cpu / n * 1000
        print("CPU per posting: " + ", ".join(f"{k} {v:.2f} ms" for k, v in per_posting.items())
              + f"; offline detection alone {1000 / offline:.2f} ms")
        missing, extra = expected - stored, stored - expected
        print(f"findings stored: {len(stored)}; missing vs offline: {len(missing)}; extra: {len(extra)}")
        return 0 if not missing and not extra else 1


if __name__ == "__main__":
    sys.exit(main())
