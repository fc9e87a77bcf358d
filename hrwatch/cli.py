"""The `hrwatch` command line: detect, eval, generate, ingest, worker, demo; serve/queue, share/subscribe and scan are registered from cli_*.py."""

from __future__ import annotations

import contextlib
import faulthandler
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import IO, Any, TextIO

import click
import orjson

from detectors import DetectionEngine, DetectorError, Finding
from detectors.evaluation import evaluate, format_report
from hrwatch.cli_review import COMMANDS as REVIEW_COMMANDS
from hrwatch.cli_scan import COMMANDS as SCAN_COMMANDS
from hrwatch.cli_sharing import COMMANDS as SHARING_COMMANDS
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
        self.failed = 0  # records a detector raised on: reported, never silently skipped
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
            try:
                found = self.engine.process(record)
            except DetectorError as exc:
                self.failed += 1
                print(f"line {lineno}: {exc}", file=errors)
                continue
            for f in found:
                self.by_rule[f.rule] += 1
                self.by_category[f.category] += 1
            yield record.subject_id, found

    def summary(self) -> str:
        elapsed = time.perf_counter() - self.started
        rate = self.records / elapsed if elapsed > 0 else 0.0
        lines = [
            f"records: {self.records} ({', '.join(f'{k} {v}' for k, v in sorted(self.by_type.items()))}),"
            f" invalid: {self.invalid},"
            + (f" detector failures: {self.failed}," if self.failed else "")
            + f" findings: {sum(self.by_rule.values())},"
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
def migrate() -> None:
    """Bring the store's schema (HRWATCH_DATABASE_URL) to the newest Alembic revision, then exit.

    Every hrwatch process also migrates at start (under a lock); a deployment runs this first so that a
    failed migration shows as one failed job rather than as crash-looping workers.
    """
    from sqlalchemy import text

    from hrwatch.settings import load_settings
    from review.store import FindingStore

    store = FindingStore.from_settings(load_settings())
    try:
        store.migrate()
        with store.engine.connect() as connection:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        store.close()
    click.echo(f"store schema at revision {revision}")


@cli.command()
@click.option("--log-level", default="WARNING", show_default=True, help="faust/worker log level")
def worker(log_level: str) -> None:
    """Run the stream processor against HRWATCH_KAFKA (or an embedded broker when unset) until Ctrl-C."""
    from hrwatch.settings import load_settings
    from streams.worker import run_worker

    sys.exit(run_worker(load_settings(), log_level=log_level, announce=lambda m: click.echo(m, err=True)))


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--topic", type=click.Choice(["auto", "postings", "filings", "registrations"]), default="auto",
              show_default=True, help="auto: route each record by its type (a mixed feed)")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None, help="default: by file extension")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="auto mode: publish registry records first and wait until the workers stored them")
@click.option("--wait-timeout", default=300.0, show_default=True, help="seconds to wait for the workers")
@click.option("--progress/--no-progress", default=True, show_default=True)
def ingest(file: str, topic: str, fmt: str | None, wait: bool, wait_timeout: float, progress: bool) -> None:
    """Publish FILE (JSONL or CSV) to the input topics on HRWATCH_KAFKA (acks=all, batched).

    A mixed feed (--topic auto) goes out registry records first; postings follow once the worker
    group has stored those, so every posting is checked against the registries of the whole file.
    """
    from tqdm import tqdm

    from hrwatch.settings import load_settings
    from streams.ingest import BarrierTimeout, Ingester, read_feed, summarize
    from streams.topics import TOPIC_ALIASES, TopicNames, ensure_topics

    settings = load_settings()
    if not settings.kafka:
        raise click.ClickException(
            "HRWATCH_KAFKA is not set: point it at a cluster, or at the embedded broker `hrwatch worker` prints"
        )
    names = TopicNames(settings.topic_namespace)
    record_type = TOPIC_ALIASES.get(topic)
    try:
        lines = list(read_feed(file, fmt, record_type))
        ensure_topics(settings.kafka, names.all(), settings.partitions, replication_factor=settings.replication_factor)
        with tqdm(total=len(lines), unit="rec", disable=not progress, file=sys.stderr) as bar, \
                Ingester(settings.kafka, names) as ingester:
            report = ingester.publish(lines, topic=topic, group=settings.group_id if wait else None,
                                      barrier_timeout=wait_timeout, progress=bar.update)
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from None
    except BarrierTimeout as exc:
        raise click.ClickException(str(exc)) from None
    for err in report.errors[:20]:
        click.echo(f"failed: {err}", err=True)
    click.echo(summarize(report))
    if report.failed:
        sys.exit(1)


@cli.command()
@click.option("--count", default=None, type=int, help="generated records to replay (default HRWATCH_SAMPLE_SIZE)")
@click.option("--serve/--no-serve", default=True, show_default=True, help="keep serving after the summary until Ctrl-C")
def demo(count: int | None, serve: bool) -> None:
    """Embedded broker + worker + SQLite store; replay the sample feed, print a summary, serve until Ctrl-C.

    Exit code 0 after the summary (Ctrl-C while serving included), 130 on Ctrl-C before it, 1 if the worker dies.
    """
    from hrwatch.settings import load_settings
    from streams.demo import run_demo
    from streams.worker import skip_exit_collection

    settings = load_settings()
    n = settings.sample_size if count is None else count
    code = run_demo(settings, n, serve=serve, echo=click.echo, services=_demo_services(settings))
    skip_exit_collection()  # everything is stopped; spare the exit a full GC over the heap (~2 s)
    sys.exit(code)


def _demo_services(settings: Any) -> Callable[[contextlib.ExitStack, str, str], list[str]]:
    """The review UI (and its hr.reviews.v1 publisher) on the demo's broker and store."""

    def start(stack: contextlib.ExitStack, bootstrap: str, database_url: str) -> list[str]:
        from hrwatch.cli_review import build_app, ensure_demo_user, make_publisher, share_partners, start_metrics
        from review.queue import ReviewQueue
        from review.web import ReviewServer
        from streams.demo import embedded_timeouts

        session, heartbeat = embedded_timeouts(settings)  # short, as for the worker: a Ctrl-C waits on group joins
        local = settings.model_copy(update={
            "kafka": bootstrap, "database_url": database_url, "session_timeout": session, "heartbeat_interval": heartbeat,
        })
        queue = ReviewQueue.from_settings(local, share_partners=share_partners(local))
        stack.callback(queue.close)
        user, password = ensure_demo_user(queue)
        server = ReviewServer(build_app(local, queue, make_publisher(local)), settings.review_host, 0).start()
        stack.callback(server.stop)
        metrics = start_metrics(local.model_copy(update={"metrics_port": 0}), queue)
        stack.callback(metrics.stop)
        lines = [f"review UI: {server.url}/queue   login: {user} / {password}", f"review metrics: {metrics.url}"]
        lines.extend(_demo_sharing(stack, local, bootstrap, queue))
        return lines

    return start


def _demo_sharing(stack: contextlib.ExitStack, settings: Any, bootstrap: str, queue: Any) -> list[str]:
    """The share publisher with throwaway partner keys, so the demo shows findings reaching partners."""
    import shutil
    import tempfile
    from pathlib import Path

    from sharing.keygen import generate
    from sharing.metrics import ShareMetrics
    from sharing.wiring import build_publisher, policy_of
    from streams.metrics import MetricsServer

    key_dir = Path(tempfile.mkdtemp(prefix="hrwatch-demo-keys-"))
    stack.callback(shutil.rmtree, key_dir, True)
    partners = sorted(policy_of(settings).partners)
    for partner in partners:
        generate(partner, key_dir)
        generate(partner, key_dir, receipts=True)  # the partner's receipt pair, so `hrwatch subscribe` can answer
    local = settings.model_copy(update={"share_key_dir": key_dir})
    metrics = ShareMetrics()
    publisher = build_publisher(local, bootstrap, queue.engine, metrics=metrics).start()
    stack.callback(publisher.stop)
    server = MetricsServer(metrics, settings.metrics_host, 0).start()
    stack.callback(server.stop)
    return [
        f"sharing:  publishing to hr.share.<partner>.v1 for {', '.join(partners)} (demo keys in {key_dir})",
        f"          HRWATCH_KAFKA={bootstrap} HRWATCH_SHARE_KEY_DIR={key_dir} hrwatch subscribe --partner police",
        f"sharing metrics: {server.url}",
    ]


for _command in (*REVIEW_COMMANDS, *SHARING_COMMANDS, *SCAN_COMMANDS):
    cli.add_command(_command)


def main() -> None:
    # Where is a stuck process? `kill -USR1 PID` prints every thread's stack to stderr (operators, tests).
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    cli(prog_name="hrwatch")


if __name__ == "__main__":
    main()
