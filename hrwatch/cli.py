"""The `hrwatch` command line: detect, eval, generate, demo (later: ingest, worker, serve, scan, subscribe)."""

from __future__ import annotations

import contextlib
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TextIO

import click
import orjson

from detectors import DetectionEngine, Finding
from detectors.evaluation import evaluate, format_report
from schemas import RecordError, parse_json


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """hrwatch: supervision of the human-resources services market (虚假招聘、就业歧视、泄露个人信息)."""


def _open_input(path: str) -> contextlib.AbstractContextManager[IO[bytes]]:
    """The input stream for FILE, or stdin (left open) for '-'; unreadable input is a clean error."""
    if path == "-":
        return contextlib.nullcontext(sys.stdin.buffer)
    try:
        return open(path, "rb")
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None


class DetectionRun:
    """Offline detection over a JSONL stream: counts records, invalid lines and findings."""

    def __init__(self) -> None:
        self.engine = DetectionEngine()
        self.records = 0
        self.invalid = 0
        self.by_type: Counter[str] = Counter()
        self.by_rule: Counter[str] = Counter()
        self.by_category: Counter[str] = Counter()
        self.started = time.perf_counter()

    def run(self, stream: IO[bytes], errors: TextIO) -> Iterator[tuple[str, list[Finding]]]:
        for lineno, line in enumerate(stream, 1):
            if not line.strip():
                continue
            try:
                record = parse_json(line)
            except RecordError as exc:
                self.invalid += 1
                print(f"line {lineno}: {exc}", file=errors)
                continue
            self.records += 1
            self.by_type[record.type] += 1
            found = self.engine.process(record)
            for f in found:
                self.by_rule[f.rule] += 1
                self.by_category[f.category] += 1
            yield record.subject_id, found

    def summary(self) -> str:
        elapsed = time.perf_counter() - self.started
        rate = self.records / elapsed if elapsed > 0 else 0.0
        lines = [
            f"records: {self.records} ({', '.join(f'{k} {v}' for k, v in sorted(self.by_type.items()))}),"
            f" invalid: {self.invalid}, findings: {sum(self.by_rule.values())},"
            f" elapsed: {elapsed:.2f}s ({rate:.0f} records/s)"
        ]
        for cat, n in sorted(self.by_category.items()):
            lines.append(f"  {cat}: {n}")
            for rule, m in sorted(self.by_rule.items()):
                if rule.startswith(cat + "."):
                    lines.append(f"    {rule}: {m}")
        return "\n".join(lines)


@cli.command()
@click.argument("file", default="-")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True)
@click.option("--quiet", is_flag=True, help="no summary on stderr")
def detect(file: str, fmt: str, quiet: bool) -> None:
    """Detect offline: JSONL records in (FILE or - for stdin), JSONL findings out. No broker needed."""
    run = DetectionRun()
    out = sys.stdout.buffer
    with _open_input(file) as stream:
        if fmt == "table":
            click.echo(f"{'subject':24s} {'rule':40s} {'sev':8s} {'score':>5s}  evidence")
        for _subject, found in run.run(stream, sys.stderr):
            for f in found:
                if fmt == "jsonl":
                    out.write(orjson.dumps(f.to_dict()) + b"\n")
                else:
                    ev = "; ".join(f"{e.field}[{e.start}:{e.end}] {e.excerpt}" for e in f.evidence)
                    click.echo(f"{f.subject_id:24s} {f.rule:40s} {f.severity:8s} {f.score:5.2f}  {ev}")
    out.flush()
    if not quiet:
        print(run.summary(), file=sys.stderr)


@cli.command(name="eval")
@click.argument("records", type=click.Path(exists=True, dir_okay=False))
@click.argument("labels", type=click.Path(exists=True, dir_okay=False))
@click.option("--errors/--no-errors", default=False, help="list every record whose rules differ from its label")
def eval_cmd(records: str, labels: str, errors: bool) -> None:
    """Evaluate detectors on labelled RECORDS: per-category and per-rule precision/recall."""
    run = DetectionRun()
    predicted: dict[str, list[str]] = {}
    with open(records, "rb") as stream:
        for subject, found in run.run(stream, sys.stderr):
            predicted.setdefault(subject, []).extend(f.rule for f in found)
    with open(labels, "rb") as fh:
        label_rows = [orjson.loads(line) for line in fh if line.strip()]
    ev = evaluate(predicted, label_rows)
    click.echo(format_report(ev))
    if errors:
        for e in ev.errors:
            click.echo(f"  {e['id']}: missed {e['missed']} extra {e['extra']}")


@cli.command()
@click.argument("records", type=click.Path(dir_okay=False))
@click.argument("labels", type=click.Path(dir_okay=False))
@click.option("-n", "--count", default=10000, show_default=True)
@click.option("--seed", default=0, show_default=True)
@click.option("--realistic-length/--short", default=True, show_default=True)
def generate(records: str, labels: str, count: int, seed: int, realistic_length: bool) -> None:
    """Write a labelled synthetic corpus (Faker zh_CN) of COUNT records to RECORDS and LABELS."""
    from corpus.generator import write_corpus

    write_corpus(records, labels, count, seed, realistic_length)
    click.echo(f"wrote {count} records to {records} and labels to {labels}")


@cli.command()
@click.option("--count", default=None, type=int, help="generated records to replay (default HRWATCH_SAMPLE_SIZE)")
def demo(count: int | None) -> None:
    """Run the detectors over the bundled sample feed and print a summary (the streaming demo comes with issue 3)."""
    import tempfile

    from corpus.generator import write_corpus
    from hrwatch.settings import load_settings

    settings = load_settings()
    n = settings.sample_size if count is None else count
    with tempfile.TemporaryDirectory() as tmp:
        recs, labs = Path(tmp) / "sample.jsonl", Path(tmp) / "labels.jsonl"
        write_corpus(str(recs), str(labs), n, settings.sample_seed, True)
        run = DetectionRun()
        with open(recs, "rb") as stream:
            for _ in run.run(stream, sys.stderr):
                pass
    click.echo("hrwatch demo — offline detection over the generated sample feed")
    click.echo(run.summary())


def main() -> None:
    cli(prog_name="hrwatch")


if __name__ == "__main__":
    main()
