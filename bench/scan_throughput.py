"""`hrwatch scan` on N stored postings in SQLite and PostgreSQL: wall time per phase, total, peak memory (main + workers).

    python bench/scan_throughput.py [--postings 1000000] [--db sqlite|postgres|both] [--workers 2]
                                    [--no-preload-findings] [--keep]

N postings are made from a pool of generated ones (the labelled corpus, realistic lengths, cached
under bench/.cache/): each is a pool posting under a new id and keeps its posting time, so the
registry records decide the same way (the scan date is just after the newest pool posting); 360
copies of 30 pool texts under random employers in the last 24 hours are the mass-posted templates
the cluster phase must find. They are bulk-loaded as checked by an older detector version,
so the scan re-detects every one. By default the findings the stream would already have stored
for them (the pool's findings, re-aimed at each copy) are loaded too, as in a real night where a
lexicon change adds few findings; --no-preload-findings makes every finding new (all through the
review queue's intake: the worst case). The scan runs as `hrwatch scan` in a child process; its
memory is sampled from /proc over the whole process tree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

POOL = 20_000
TEMPLATES = 30


def build_pool(seed: int) -> tuple[list[dict[str, Any]], list[bytes], dict[str, list[dict[str, Any]]]]:
    """Generated postings, the registry records beside them, and each posting's findings (engine over the feed)."""
    from detect_throughput import build_corpus

    from detectors import DetectionEngine, detector_version
    from schemas import parse_json

    path = build_corpus(POOL, seed)
    # Keyed by detector version: findings of older detectors would not be what the stream stores now.
    cache = path.with_suffix(f".findings-{detector_version().rsplit('+', 1)[-1]}.jsonl")
    postings, registry = [], []
    for line in path.read_bytes().splitlines():
        obj = orjson.loads(line)
        (postings if obj["type"] == "job_posting" else registry).append(obj if obj["type"] == "job_posting" else line)
    if not cache.exists():
        engine = DetectionEngine()
        with open(cache, "wb") as out:
            for line in path.read_bytes().splitlines():
                record = parse_json(line)
                for f in engine.process(record):
                    if f.subject_type == "job_posting":
                        out.write(orjson.dumps(f.to_dict()) + b"\n")
    findings: dict[str, list[dict[str, Any]]] = {}
    for line in cache.read_bytes().splitlines():
        f = orjson.loads(line)
        findings.setdefault(f["subject"]["id"], []).append(f)
    return postings, registry, findings


def scan_date(pool: list[dict[str, Any]]) -> dt.datetime:
    """Just after the newest pool posting: the night the scan runs."""
    newest = max(dt.datetime.fromisoformat(p["posted_at"]) for p in pool)
    return (newest.astimezone(dt.UTC) + dt.timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)


def synthesize(n: int, pool: list[dict[str, Any]], seed: int) -> Any:
    """Yield n (pool id, posting object): pool postings under new ids; mass-posted templates in the last 24 hours."""
    rng = random.Random(seed)
    as_of = scan_date(pool)
    employers = [p["employer"] for p in pool if p.get("employer")]
    template_texts = [pool[rng.randrange(len(pool))] for _ in range(TEMPLATES)]
    for i in range(n):
        if i % 1000 == 0 and i // 1000 < TEMPLATES * 12:  # 12 copies of each template, 12 employers, last 24 h
            base = template_texts[(i // 1000) % TEMPLATES]
            posted = as_of - dt.timedelta(minutes=1 + rng.randrange(24 * 60 - 1))
            employer = employers[rng.randrange(len(employers))]
        else:
            base = pool[i % len(pool)]
            posted, employer = None, base.get("employer")
        obj = dict(base)
        obj["id"] = f"b{i:08d}"
        if posted is not None:
            obj["posted_at"] = posted.isoformat()
        if employer:
            obj["employer"] = employer
        yield base["id"], obj


def load(url: str, n: int, seed: int, preload: bool) -> dict[str, float]:
    from detectors.findings import Evidence, finding_id
    from review.scan.postings import posting_row
    from review.store import FindingStore, StoredRegistryRecord
    from schemas import parse_record

    pool, registry, pool_findings = build_pool(seed)
    store = FindingStore(url)
    store.migrate()
    started = time.perf_counter()
    store.write_registry("bench", [
        StoredRegistryRecord(orjson.loads(r)["type"], orjson.loads(r).get("id") or orjson.loads(r)["uscc"],
                             "hr.filings.v1", 0, i, r) for i, r in enumerate(registry)
    ], {})
    now = dt.datetime.now(dt.UTC)
    batch: list[dict[str, Any]] = []
    found: list[Any] = []
    findings_loaded = 0
    from detectors import Finding

    for pool_id, obj in synthesize(n, pool, seed):
        batch.append(posting_row(parse_record(obj), "bench-old", now))
        if preload:
            for f in pool_findings.get(pool_id, ()):
                ev = tuple(Evidence(e["field"], e["start"], e["end"], e["excerpt"]) for e in f["evidence"])
                found.append(Finding(finding_id("job_posting", obj["id"], f["rule"], ev), "job_posting", obj["id"],
                                     f["category"], f["rule"], f["severity"], f["score"], ev, tuple(f["legal_basis"]),
                                     f["explanation"], "bench-old", f["detected_at"]))
        if len(batch) >= 5000:
            with store.engine.begin() as conn:
                store.write_in(conn, found, None, batch)
            findings_loaded += len(found)
            batch, found = [], []
    if batch:
        with store.engine.begin() as conn:
            store.write_in(conn, found, None, batch)
        findings_loaded += len(found)
    elapsed = time.perf_counter() - started
    store.close()
    return {"load_seconds": elapsed, "findings_preloaded": findings_loaded, "as_of": scan_date(pool)}


def _tree_rss(root: int) -> tuple[int, int]:
    """RSS (bytes) of `root` and of all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            rss[int(entry.name)] = int(fields[21]) * page
            children.setdefault(int(fields[1]), []).append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    below, stack = 0, list(children.get(root, ()))
    while stack:
        pid = stack.pop()
        below += rss.get(pid, 0)
        stack.extend(children.get(pid, ()))
    return rss.get(root, 0), below


def run_scan(url: str, workers: int, report_dir: Path, as_of: dt.datetime) -> dict[str, Any]:
    env = dict(os.environ, HRWATCH_DATABASE_URL=url)
    env.pop("HRWATCH_KAFKA", None)
    cmd = [sys.executable, "-m", "hrwatch.cli", "scan", "--as-of", as_of.strftime("%Y-%m-%dT%H:%M:%S"),
           "--no-publish", "--quiet", "--workers", str(workers), "--report-dir", str(report_dir)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak_main = peak_total = 0
    while proc.poll() is None:
        main, below = _tree_rss(proc.pid)
        peak_main, peak_total = max(peak_main, main), max(peak_total, main + below)
        time.sleep(0.5)  # sampling interval of the memory probe, not synchronisation
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"scan failed ({proc.returncode}):\n{out.decode()}\n{err.decode()[-3000:]}")
    from review.scan.models import ScanRunRow
    from review.store import FindingStore

    store = FindingStore(url)
    with store.engine.connect() as conn:
        row = conn.execute(ScanRunRow.__table__.select().order_by(ScanRunRow.id.desc()).limit(1)).mappings().one()
    store.close()
    return {"wall": wall, "peak_main": peak_main, "peak_total": peak_total, "summary": out.decode().strip(),
            "phases": orjson.loads(row["counts"]), "new_findings": row["new_findings"]}


def postgres_database(admin_url: str) -> tuple[str, str]:
    import psycopg

    name = f"hrwatch_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


def drop_postgres(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-preload-findings", dest="preload", action="store_false")
    parser.add_argument("--keep", action="store_true", help="keep the databases (paths printed)")
    args = parser.parse_args()
    from hrwatch.settings import load_settings

    print(f"scan benchmark: {args.postings:,} postings, {args.workers} workers, cores {len(os.sched_getaffinity(0))}, "
          f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="hrwatch-scan-bench-"))
    for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        cleanup = None
        if db == "sqlite":
            url = f"sqlite:///{tmp / 'bench.db'}"
        else:
            admin = load_settings().postgres_admin_url
            url, name = postgres_database(admin)
            cleanup = (admin, name)
        try:
            loaded = load(url, args.postings, args.seed, args.preload)
            print(f"[{db}] loaded {args.postings:,} postings ({loaded['findings_preloaded']:,} findings preloaded) in "
                  f"{loaded['load_seconds']:.0f} s", flush=True)
            result = run_scan(url, args.workers, tmp / f"reports-{db}", loaded["as_of"])
            phases = result["phases"]
            print(f"[{db}] {result['summary']}")
            for name_, p in phases.items():
                if "seconds" in p:
                    rate = f", {p['processed'] / p['seconds']:.0f}/s" if p.get("processed") and p["seconds"] else ""
                    split = (f"  (parent waited for workers {p['wait_s']} s, stored {p['store_s']} s)"
                             if "store_s" in p else "")
                    print(f"[{db}]   {name_:10s} {p['seconds']:8.1f} s  processed {p.get('processed', '-')}"
                          f"{rate}  new findings {p.get('new_findings', '-')}{split}")
            print(f"[{db}] total wall {result['wall']:.1f} s ({result['wall'] / 60:.1f} min; target < 10 min), "
                  f"peak RSS main {result['peak_main'] / 2**20:.0f} MiB, main + workers {result['peak_total'] / 2**20:.0f} MiB, "
                  f"load average now {os.getloadavg()[0]:.2f}", flush=True)
        finally:
            if cleanup and not args.keep:
                drop_postgres(*cleanup)
            elif args.keep:
                print(f"[{db}] kept: {url}")
    if not args.keep:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
