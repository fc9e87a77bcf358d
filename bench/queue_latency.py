"""Queue page and REST API latency (p50/p99) with 100,000 alerts in PostgreSQL; prints intake rate and a table.

    python bench/queue_latency.py [--alerts 100000] [--requests 200] [--keep]

Makes a throwaway database with HRWATCH_POSTGRES_ADMIN_URL's login (dropped at the end unless
--keep), fills it through the same `ReviewQueue.record` the stream workers call, then serves the
web app with uvicorn on 127.0.0.1 in a child process (as `hrwatch serve` would) and times real
HTTP requests from this one, sequentially, after a warm-up.
The alerts come from the synthetic corpus and the real detectors: distinct postings, each also
republished under other ids, sources and cities (which the grouping folds into cases), with
queue times spread over 30 days.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime as dt
import http.client
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import psycopg

from corpus.generator import generate
from detectors import DetectionEngine
from detectors.findings import Evidence, finding_id
from hrwatch.settings import load_settings
from review.queue import ReviewQueue
from review.store import make_engine
from review.web import ReviewServer, WebConfig, create_app
from schemas import parse_record

SOURCES = ("智联招聘", "BOSS直聘", "前程无忧", "58同城", "猎聘", "抖音直播带岗", "快手", "微信公众号")
CITIES = ("北京", "上海", "广州", "深圳", "成都", "武汉", "西安", "苏州", "杭州", "郑州", "南京", "重庆")
PASSWORD = "bench-password-123"


def distinct_alerts(wanted: int, seed: int) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(posting, its finding.v1 objects) for `wanted` distinct corpus postings with findings."""
    engine = DetectionEngine()
    out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for record, _label in generate(wanted * 6, seed=seed):
        found = engine.process(parse_record(record))
        if found and record["type"] == "job_posting":
            out.append((record, [f.to_dict() for f in found]))
            if len(out) >= wanted:
                break
    return out


def republished(
    base: list[tuple[dict[str, Any], list[dict[str, Any]]]], total: int
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """`total` postings: the distinct ones, then copies under new ids on other sources and in other cities."""
    for i in range(total):
        record, findings = base[i % len(base)]
        copy_no = i // len(base)
        if copy_no == 0:
            yield record, findings
            continue
        rec = copy.deepcopy(record)
        rec["id"] = f"{record['id']}-r{copy_no}"
        rec["source"] = SOURCES[(i + copy_no) % len(SOURCES)]
        rec.setdefault("location", {})["city"] = CITIES[(i * 7 + copy_no) % len(CITIES)]
        moved = []
        for f in findings:
            g = copy.deepcopy(f)
            g["subject"]["id"] = rec["id"]
            evidence = tuple(Evidence(e["field"], e["start"], e["end"], e["excerpt"]) for e in g["evidence"])
            g["id"] = finding_id("job_posting", rec["id"], g["rule"], evidence)
            moved.append(g)
        yield rec, moved


def fill(queue: ReviewQueue, total: int, distinct: int, clock: list[dt.datetime]) -> float:
    """Record `total` alerts in worker-sized batches; returns alerts per second."""
    base = distinct_alerts(distinct, seed=11)
    print(f"corpus: {len(base)} distinct postings with findings; recording {total} alerts …", flush=True)
    batch: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    started = time.perf_counter()
    step = dt.timedelta(days=30) / max(total // 500, 1)
    done = 0
    for pair in republished(base, total):
        batch.append(pair)
        if len(batch) == 500:
            queue.record(batch)
            done += len(batch)
            batch.clear()
            clock[0] += step
            if done % 20_000 == 0:
                print(f"  {done} alerts, {done / (time.perf_counter() - started):.0f}/s", flush=True)
    if batch:
        queue.record(batch)
    return total / (time.perf_counter() - started)


class Client:
    """One keep-alive HTTP/1.1 connection (http.client: httpx adds ~40 ms per request here) with the session cookie."""

    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
        self.headers: dict[str, str] = {}
        self.cookie = ""

    def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        json: Any = None,
        form: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        if params:
            path += "?" + urllib.parse.urlencode(params)
        headers = dict(self.headers)
        body = None
        if json is not None:
            body, headers["Content-Type"] = orjson.dumps(json), "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.conn.request(method, path, body=body, headers=headers)
        answer = self.conn.getresponse()
        data = answer.read()
        cookie = answer.getheader("set-cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        if answer.status >= 400:
            raise RuntimeError(f"{method} {path}: {answer.status} {data[:200]!r}")
        return answer.status, data

    def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, bytes]:
        return self.request("GET", path, params)

    def post(self, path: str, **kwargs: Any) -> tuple[int, bytes]:
        return self.request("POST", path, **kwargs)


def timed(call: Callable[[int], object], n: int, warmup: int = 10) -> list[float]:
    for i in range(warmup):
        call(i)
    out = []
    for i in range(n):
        t = time.perf_counter()
        call(warmup + i)
        out.append((time.perf_counter() - t) * 1000)
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(round(p / 100 * (len(ordered) - 1)), len(ordered) - 1)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alerts", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=6_000, help="distinct corpus postings before copies")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per endpoint")
    parser.add_argument("--keep", action="store_true", help="keep the database (its URL is printed)")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # child process mode: serve this database
    parser.add_argument("--port-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.port_file)

    # SIGTERM (a CI timeout) still drops the throwaway database: turn it into SystemExit for `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    admin = load_settings().postgres_admin_url
    name = f"hrwatch_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    clock = [dt.datetime.now(dt.UTC) - dt.timedelta(days=30)]
    queue = ReviewQueue(make_engine(url), clock=lambda: clock[0])
    try:
        queue.migrate()
        rate = fill(queue, args.alerts, min(args.distinct, args.alerts), clock)
        clock[0] = dt.datetime.now(dt.UTC)
        with queue.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        counts = queue.counts()
        with queue.engine.connect() as conn:
            cases = conn.exec_driver_sql("SELECT count(*), max(alert_count) FROM review_cases").one()
        print(f"intake: {sum(counts.values())} alerts at {rate:.0f} alerts/s; {cases[0]} cases (largest {cases[1]})")
        queue.create_user("bench", PASSWORD, "supervisor")
        report(queue, args.requests, url)
    finally:
        queue.close()
        if args.keep:
            print(f"kept: {url}")
        else:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


def serve(url: str, port_file: Path) -> int:
    """Child process: the web app on a free port; writes its URL to `port_file` once it listens."""
    queue = ReviewQueue(make_engine(url))
    server = ReviewServer(create_app(queue, WebConfig(secret_key="bench", login_attempts=1000)), "127.0.0.1", 0)
    port_file.with_suffix(".tmp").write_text(server.url)
    port_file.with_suffix(".tmp").rename(port_file)
    server.run()
    return 0


@contextlib.contextmanager
def server_process(url: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "url"
        child = subprocess.Popen([sys.executable, __file__, "--serve", url, "--port-file", str(port_file)])
        try:
            deadline = time.monotonic() + 60
            while not port_file.exists():
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the web server process did not start")
                time.sleep(0.05)  # polling interval while waiting on the condition "server wrote its URL"
            base = port_file.read_text()
            while True:  # it listens once the URL is written; wait for the app's start-up to finish
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if child.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the web server process did not answer /healthz")
                time.sleep(0.05)
            yield base
        finally:
            child.terminate()
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def report(queue: ReviewQueue, n: int, url: str) -> None:
    with server_process(url) as base:
        client = Client(base)
        page = client.get("/login")[1].decode()
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/login", form={"username": "bench", "password": PASSWORD, "csrf_token": token})
        client.headers["X-CSRF-Token"] = orjson.loads(client.get("/api/session")[1])["csrf_token"]
        listing = orjson.loads(client.get("/api/alerts", params={"per_page": 500, "sort": "newest"})[1])["items"]
        ids = [a["id"] for a in listing]
        some_rule = listing[0]["rules"][0]
        cases: list[tuple[str, Callable[[int], object]]] = [
            ("page  /queue (default: open, severity+age)", lambda i: client.get("/queue")),
            (
                "page  /queue city+category filter",
                lambda i: client.get("/queue", params={"city": CITIES[i % len(CITIES)], "category": "discrimination"}),
            ),
            (
                "page  /queue rule+source, newest, page 20",
                lambda i: client.get(
                    "/queue",
                    params={
                        "rule": some_rule,
                        "source": SOURCES[i % len(SOURCES)],
                        "sort": "newest",
                        "page": 20,
                        "status": "all",
                    },
                ),
            ),
            (
                "page  /queue agency contains + dates",
                lambda i: client.get(
                    "/queue",
                    params={
                        "agency": "人力",
                        "date_from": (dt.date.today() - dt.timedelta(days=10)).isoformat(),
                        "status": "all",
                    },
                ),
            ),
            ("page  /alerts/{id}", lambda i: client.get(f"/alerts/{ids[i % len(ids)]}")),
            ("api   GET /api/alerts (default)", lambda i: client.get("/api/alerts")),
            (
                "api   GET /api/alerts severity+city, due order",
                lambda i: client.get(
                    "/api/alerts", params={"severity": "critical", "city": CITIES[i % len(CITIES)], "sort": "due"}
                ),
            ),
            ("api   GET /api/alerts/{id}", lambda i: client.get(f"/api/alerts/{ids[i % len(ids)]}")),
            (
                "api   POST /api/alerts/{id}/decision (start)",
                lambda i: client.post(f"/api/alerts/{ids[i % len(ids)]}/decision", json={"action": "start"}),
            ),
        ]
        print(f"\n{'request':52s} {'n':>5s} {'p50 ms':>8s} {'p99 ms':>8s} {'mean':>8s}")
        for label, call in cases:
            count = min(n, len(ids) - 10) if "decision" in label else n
            values = timed(call, count)
            print(
                f"{label:52s} {len(values):5d} {percentile(values, 50):8.1f} {percentile(values, 99):8.1f}"
                f" {statistics.fmean(values):8.1f}",
                flush=True,
            )
        print(
            "\n(one client, sequential requests over one keep-alive HTTP/1.1 connection to uvicorn on 127.0.0.1 in another process)"
        )


if __name__ == "__main__":
    raise SystemExit(main())
