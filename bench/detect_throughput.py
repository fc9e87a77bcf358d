"""Offline detection throughput on generated postings of realistic length: postings/s, characters/s, peak memory.

    python bench/detect_throughput.py [--postings 50000] [--seed 1]

The corpus is generated first (cached under bench/.cache/), then a fresh process that has done
nothing else reads it and runs the same path as `hrwatch detect` (JSON parse, schema validation,
typed model, registries, every detector) on one core, so its peak RSS is the detector's own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The code of this checkout, not whatever `pip install -e` points at (another worktree, say).
sys.path.insert(0, str(ROOT))
CACHE = ROOT / "bench" / ".cache"
TEXT_FIELDS = ("title", "description", "requirements", "benefits")


def build_corpus(postings: int, seed: int) -> Path:
    from corpus.generator import generate

    path = CACHE / f"postings-{postings}-seed{seed}.jsonl"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    count = 0
    with open(tmp, "w", encoding="utf-8") as out:
        # Generate until `postings` postings are written; the filings and registrations that the
        # generator interleaves are kept, since the registry rules need them.
        for record, _label in generate(postings * 2, seed=seed, realistic_length=True):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            if record["type"] == "job_posting":
                count += 1
                if count >= postings:
                    break
    tmp.rename(path)
    return path


def run(path: Path) -> dict[str, float]:
    """Detect over every line of `path`; called in a fresh process."""
    import detectors
    from detectors import DetectionEngine
    from schemas import RecordError, parse_json

    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    lines = path.read_bytes().splitlines()
    engine = DetectionEngine()
    engine.detect(parse_json(lines[-1]))  # warm the lexicons and normalisation tables
    postings = chars = findings = invalid = 0
    lengths = []
    started = time.perf_counter()
    for line in lines:
        try:
            record = parse_json(line)
        except RecordError:
            invalid += 1
            continue
        findings += len(engine.process(record))
        if record.type == "job_posting":
            postings += 1
            n = sum(len(v) for k in TEXT_FIELDS if isinstance(v := record.raw.get(k), str))
            chars += n
            lengths.append(n)
    elapsed = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "records": len(lines),
        "postings": postings,
        "invalid": invalid,
        "findings": findings,
        "elapsed_s": elapsed,
        "postings_per_s": postings / elapsed,
        "chars_per_s": chars / elapsed,
        "median_chars": statistics.median(lengths),
        "peak_rss_mib": peak_kib / 1024,
        "code": str(Path(detectors.__file__).resolve().parent.parent),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        print(json.dumps(run(args.run)))
        return 0
    t0 = time.perf_counter()
    path = build_corpus(args.postings, args.seed)
    print(f"corpus: {path} ({time.perf_counter() - t0:.1f}s to build or load)")
    out = subprocess.run([sys.executable, __file__, "--run", str(path)], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"code:          {r['code']}")
    print(f"records:       {r['records']} ({r['postings']} postings, median {r['median_chars']:.0f} chars of text)")
    print(f"findings:      {r['findings']}   invalid: {r['invalid']}")
    print(f"elapsed:       {r['elapsed_s']:.2f} s on one core")
    print(f"throughput:    {r['postings_per_s']:,.0f} postings/s   (target >= 2,000)")
    print(f"               {r['chars_per_s']:,.0f} characters/s (target >= 1,000,000)")
    print(f"peak memory:   {r['peak_rss_mib']:.0f} MiB RSS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
