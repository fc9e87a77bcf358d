"""Instructions per record for detection (callgrind): a figure that, unlike wall time, holds on a busy machine.

    python bench/detect_instructions.py [--records 600] [--skip 40] [--postings 50000] [--seed 1]

Runs the same path as bench/detect_throughput.py (parse_json, registries, every detector) under
`valgrind --tool=callgrind` over records skip+1 … skip+records of the throughput corpus (build it
first with bench/detect_throughput.py). Collection is switched on only inside the measured loop
(it is driven by itertools.accumulate, whose C function is the toggle), so start-up and the lazy
building of lexicons on the first `skip` records are not counted. Takes minutes: valgrind runs
Python ~50× slower.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import deque
from itertools import accumulate, islice
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's code, not the editable install's


def measured(path: Path, skip: int, records: int) -> None:
    """Warm up on `skip` records, then process `records` more inside accumulate_next."""
    from detectors import DetectionEngine
    from schemas import parse_json

    with open(path, "rb") as fh:
        lines = list(islice(fh, skip + records))
    engine = DetectionEngine()
    for line in lines[:skip]:
        engine.detect(parse_json(line))
    deque(accumulate(lines[skip:], lambda _, line: engine.process(parse_json(line)), initial=None), maxlen=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=600)
    parser.add_argument("--skip", type=int, default=40)
    parser.add_argument("--postings", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        measured(args.run, args.skip, args.records)
        return 0
    corpus = ROOT / "bench" / ".cache" / f"postings-{args.postings}-seed{args.seed}.jsonl"
    if not corpus.exists():
        raise SystemExit(f"{corpus} missing: run bench/detect_throughput.py --postings {args.postings} first")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--collect-atstart=no", "--toggle-collect=accumulate_next",
             f"--callgrind-out-file={out}", sys.executable, __file__, "--run", str(corpus),
             "--skip", str(args.skip), "--records", str(args.records)],
            check=True, capture_output=True,
        )  # fmt: skip
        totals = next(int(line.split()[1]) for line in out.read_text().splitlines() if line.startswith("totals:"))
    with open(corpus, "rb") as fh:
        kinds = [line.count(b'"type": "job_posting"') > 0 for line in islice(fh, args.skip, args.skip + args.records)]
    postings = sum(kinds)
    print(f"code:          {ROOT}")
    print(f"records:       {args.skip + 1}-{args.skip + args.records} of {corpus.name} ({postings} postings)")
    print(f"instructions:  {totals / args.records:,.0f} per record, {totals / max(postings, 1):,.0f} per posting")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
