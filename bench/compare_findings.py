"""Check that a performance change leaves findings unchanged: same ids, rules, scores, evidence and analysis.

    git worktree add --detach /tmp/base main        # the code to compare against
    python bench/compare_findings.py --base /tmp/base [FILE.jsonl ...]

Each tree runs in its own process (its `detectors` and `schemas` first on sys.path) over the same
files, with a fixed clock, applying registry records as `hrwatch detect` does; every record's
findings are written one line each and the two dumps compared line by line. Without files, the dev
set, both holdouts and a generated corpus (`--generate N` records, seed 7) are used.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
DEFAULT_FILES = ("/work/shared/data/eval_dev.jsonl", "eval/holdout_a.jsonl", "eval/holdout_b.jsonl")


def dump(tree: str, out: str, files: list[str]) -> None:
    """Write one JSON line per input line: its findings (or its parse error); runs inside `tree`."""
    sys.path.insert(0, tree)
    import detectors

    if not str(Path(detectors.__file__).resolve()).startswith(str(Path(tree).resolve())):
        raise SystemExit(f"imported detectors from {detectors.__file__}, not from {tree}")
    from detectors import DetectionEngine
    from schemas import RecordError, parse_json

    with open(out, "w", encoding="utf-8") as fh:
        for path in files:
            engine = DetectionEngine(clock=lambda: "2026-01-01T00:00:00Z")
            with open(path, "rb") as lines:
                for n, line in enumerate(lines):
                    row: dict[str, object] = {"file": path, "line": n}
                    try:
                        record = parse_json(line)
                    except RecordError as exc:
                        row["error"] = str(exc)
                    else:
                        row["findings"] = [
                            f.to_dict() | {"legal_basis": list(f.legal_basis)} for f in engine.process(record)
                        ]
                        for f in row["findings"]:  # type: ignore[attr-defined]
                            f.pop("detector_version")  # hashes the code, so differs by design
                    fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*")
    parser.add_argument("--base", help="a checkout of the code to compare against (required)")
    parser.add_argument("--tree", default=str(HERE), help="the code under test (default: this checkout)")
    parser.add_argument("--generate", type=int, default=20_000, help="records of generated corpus to add (0: none)")
    parser.add_argument("--dump", nargs=2, metavar=("TREE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dump:
        dump(args.dump[0], args.dump[1], args.files)
        return 0
    if not args.base:
        parser.error("--base is required")
    with tempfile.TemporaryDirectory() as tmp:
        files = args.files or [str(HERE / f) for f in DEFAULT_FILES]
        if not args.files and args.generate:
            corpus = Path(tmp) / "generated.jsonl"
            subprocess.run(
                [sys.executable, "-m", "hrwatch.cli", "generate", "-n", str(args.generate), "--seed", "7",
                 str(corpus), str(Path(tmp) / "labels.jsonl")],
                check=True, cwd=HERE, capture_output=True,
            )  # fmt: skip
            files.append(str(corpus))
        dumps = []
        for name, tree in (("base", args.base), ("tree", args.tree)):
            out = str(Path(tmp) / f"{name}.jsonl")
            subprocess.run([sys.executable, __file__, "--dump", tree, out, *files], check=True, cwd=tmp)
            dumps.append(Path(out).read_text("utf-8").splitlines())
        base, tree = dumps
        findings = sum(len(json.loads(line).get("findings", ())) for line in base)
        differ = [(a, b) for a, b in zip(base, tree, strict=False) if a != b]
        if not differ and len(base) == len(tree):
            print(f"identical: {len(base)} records, {findings} findings ({', '.join(files)})")
            return 0
        print(f"DIFFERENT: {len(differ)} of {len(base)} records (line counts {len(base)} and {len(tree)})")
        for a, b in differ[:5]:
            print(f"base: {a[:2000]}\ntree: {b[:2000]}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
