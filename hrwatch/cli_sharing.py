"""`hrwatch subscribe --partner X` and `hrwatch share keygen|policy|publish|audit|digest` (the lead registers them on `cli`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from hrwatch.settings import Settings, load_settings


def _fail(message: str) -> click.ClickException:
    return click.ClickException(message)


def _bootstrap(settings: Settings) -> str:
    if not settings.kafka:
        raise _fail("HRWATCH_KAFKA must name the broker (the one `hrwatch worker` or `hrwatch demo` prints)")
    return settings.kafka


@contextlib.contextmanager
def _until_signalled() -> Iterator[threading.Event]:
    """An event set by SIGTERM or Ctrl-C; the previous SIGTERM handler is restored afterwards."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGTERM, previous)


def _wait(stop: threading.Event) -> None:
    try:
        while not stop.wait(0.5):  # wakes for Ctrl-C, which Python delivers to the main thread only
            pass
    except KeyboardInterrupt:
        stop.set()


def _store_engine(settings: Settings) -> Any:
    from review.store import FindingStore

    store = FindingStore.from_settings(settings)
    store.migrate()
    return store.engine


def _metrics_server(metrics: Any, settings: Settings) -> Any:
    from streams.metrics import MetricsServer

    return MetricsServer(metrics, settings.metrics_host, settings.metrics_port).start()


@click.command("subscribe")
@click.option("--partner", required=True, help="this partner's name (police, market, tax, …)")
@click.option(
    "--database-url", default=None, help="the partner's own database (default HRWATCH_SUBSCRIBER_DATABASE_URL)"
)
def subscribe(partner: str, database_url: str | None) -> None:
    """A partner's consumer: verify envelopes, store them in the partner's database, send receipts; until Ctrl-C."""
    from review.store import make_engine
    from sharing.keygen import PARTNER_NAME, KeyFileError
    from sharing.metrics import ShareMetrics
    from sharing.topics import receipts_topic, share_topic
    from sharing.wiring import build_subscriber, subscriber_database_url
    from streams.topics import TopicNames, ensure_topics

    if not PARTNER_NAME.match(partner):
        raise _fail(f"--partner {partner!r}: lower-case letters, digits and _ only")
    settings = load_settings()
    bootstrap = _bootstrap(settings)
    url = database_url or subscriber_database_url(settings, partner)
    engine = make_engine(url)
    metrics = ShareMetrics()
    try:
        subscriber = build_subscriber(settings, bootstrap, partner, engine, metrics=metrics)
    except KeyFileError as exc:
        raise _fail(str(exc)) from None
    names = TopicNames(settings.topic_namespace)
    ensure_topics(bootstrap, [share_topic(names, partner), receipts_topic(names)], settings.partitions, replication_factor=settings.replication_factor)
    server = _metrics_server(metrics, settings)
    click.echo(f"{partner} subscriber on {subscriber.topic} ({bootstrap}); storing in {url}; metrics at {server.url}")
    try:
        with _until_signalled() as stop:
            subscriber.start()
            _wait(stop)
    finally:
        subscriber.stop()
        server.stop()
        counts = subscriber.counts()
        click.echo(f"{partner}: {counts['received']} envelopes stored, {counts['rejected']} rejected")
        engine.dispose()


@click.group("share")
def share() -> None:
    """Sharing findings with partner departments (公安、市场监管、税务): keys, policy, publisher, audit log, digests."""


@share.command("keygen")
@click.argument("partner")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="where to write <partner>.key and <partner>.pub (default HRWATCH_SHARE_KEY_DIR)",
)
@click.option("--force", is_flag=True, help="replace an existing key pair")
@click.option(
    "--receipts", is_flag=True, help="the partner's own receipt-signing pair (run at the partner; .pub goes to hrwatch)"
)
def keygen(partner: str, directory: Path | None, force: bool, receipts: bool) -> None:
    """Make the Ed25519 key pair of a partner channel: keep <partner>.key, give <partner>.pub to the partner."""
    from sharing.keygen import generate

    target = directory or load_settings().share_key_dir
    try:
        private_path, public_path, kid = generate(partner, target, force=force, receipts=receipts)
    except (ValueError, FileExistsError) as exc:
        raise _fail(str(exc)) from None
    if receipts:
        click.echo(f"private key (stays with {partner}, signs its receipts): {private_path}")
        click.echo(f"public key (give to hrwatch, verifies {partner}'s receipts): {public_path}")
    else:
        click.echo(f"private key (stays here, signs {partner}'s envelopes): {private_path}")
        click.echo(f"public key (give to {partner}): {public_path}")
    click.echo(f"key id: {kid}")


@share.command("policy")
@click.option(
    "--file",
    "path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="policy file to check (default HRWATCH_SHARE_POLICY, else the bundled one)",
)
@click.option(
    "--keys/--no-keys", default=False, help="also check every partner's signing key and receipt-verifying key"
)
def policy_command(path: Path | None, keys: bool) -> None:
    """Validate the routing policy and print its routing table; every problem is listed with its entry and field."""
    from sharing.keygen import KeyFileError
    from sharing.policy import PolicyError, load_policy
    from sharing.wiring import key_ring

    settings = load_settings()
    try:
        policy = load_policy(path or settings.share_policy)
    except PolicyError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(policy.table())
    if keys:
        ring = key_ring(settings)
        problems = []
        for partner in policy.partners:
            try:
                click.echo(f"{partner}: signing key {ring.signer(partner).key_id}")
                click.echo(f"{partner}: receipt keys {', '.join(ring.public_keys(partner, receipts=True))}")
            except KeyFileError as exc:
                problems.append(str(exc))
        if problems:
            click.echo("\n".join(problems), err=True)
            sys.exit(2)


@share.command("publish")
def publish() -> None:
    """Run the share publisher: hr.findings.v1 and hr.reviews.v1 in, hr.share.<partner>.v1 out; until Ctrl-C."""
    from sharing.keygen import KeyFileError
    from sharing.metrics import ShareMetrics
    from sharing.policy import PolicyError
    from sharing.wiring import build_publisher
    from streams.topics import ensure_topics

    settings = load_settings()
    bootstrap = _bootstrap(settings)
    engine = _store_engine(settings)
    metrics = ShareMetrics()
    try:
        publisher = build_publisher(settings, bootstrap, engine, metrics=metrics)
    except (PolicyError, KeyFileError) as exc:
        raise _fail(str(exc)) from None
    ensure_topics(bootstrap, publisher.all_topics(), settings.partitions, replication_factor=settings.replication_factor)
    server = _metrics_server(metrics, settings)
    partners = ", ".join(publisher.policy.partners)
    click.echo(
        f"share publisher (policy {publisher.policy.version}) for {partners} on {bootstrap}; metrics at {server.url}"
    )
    try:
        with _until_signalled() as stop:
            publisher.start()
            _wait(stop)
    finally:
        publisher.stop()
        server.stop()
        engine.dispose()


def _day_start(value: str | None, tz: str) -> dt.datetime | None:
    if not value:
        return None
    from zoneinfo import ZoneInfo

    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _fail(f"{value!r} is not a date or time (YYYY-MM-DD or RFC 3339)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(tz))


@share.command("audit")
@click.option("--partner", default=None)
@click.option("--since", default=None, help="YYYY-MM-DD or RFC 3339 (local to HRWATCH_SHARE_DIGEST_TIMEZONE if naive)")
@click.option("--until", default=None, help="exclusive, same forms as --since")
@click.option("--rule", default=None)
@click.option("--subject", "subject_id", default=None, help="a posting or filing id")
@click.option("--finding", "finding_id", default=None)
@click.option("--include-unsent", is_flag=True, help="also rows claimed but not yet acknowledged by the broker")
@click.option("--csv", "csv_path", default=None, help="write CSV to this file ('-' = stdout) instead of a table")
def audit(
    partner: str | None,
    since: str | None,
    until: str | None,
    rule: str | None,
    subject_id: str | None,
    finding_id: str | None,
    include_unsent: bool,
    csv_path: str | None,
) -> None:
    """The share audit log: what was shared with whom, when, under which route and legal basis."""
    from sharing.audit import AuditQuery, entries, write_csv

    settings = load_settings()
    tz = settings.share_digest_timezone
    query = AuditQuery(
        partner, _day_start(since, tz), _day_start(until, tz), rule, subject_id, finding_id, include_unsent
    )
    rows = entries(_store_engine(settings), query)
    if csv_path == "-":
        write_csv(rows, sys.stdout)
    elif csv_path:
        with open(csv_path, "w", encoding="utf-8", newline="") as fh:
            n = write_csv(rows, fh)
        click.echo(f"{n} audit rows written to {csv_path}")
    else:
        n = 0
        for e in rows:
            n += 1
            click.echo(
                f"{e.shared_at or '(unsent)'}  {e.partner:<8} {e.rule:<36} {e.subject_type}:{e.subject_id}  "
                f"route={e.route} trigger={e.trigger} basis={e.legal_basis} receipt={e.receipt_status or '-'}"
            )
        click.echo(f"{n} rows")


@share.command("digest")
@click.option("--partner", default=None, help="one partner (default: every partner in the policy)")
@click.option("--date", "day", default=None, help="YYYY-MM-DD (default: today in HRWATCH_SHARE_DIGEST_TIMEZONE)")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="directory for digest-<partner>-<date>.csv and .html",
)
def digest(partner: str | None, day: str | None, out_dir: Path) -> None:
    """Daily digest per partner (counts, top agencies, new cases) as CSV and HTML."""
    from zoneinfo import ZoneInfo

    from sharing.policy import PolicyError
    from sharing.reports import daily_digest, write_digest
    from sharing.wiring import policy_of

    settings = load_settings()
    tz = settings.share_digest_timezone
    try:
        the_day = dt.date.fromisoformat(day) if day else dt.datetime.now(ZoneInfo(tz)).date()
    except ValueError:
        raise _fail(f"--date {day!r} is not YYYY-MM-DD") from None
    try:
        policy = policy_of(settings)
    except PolicyError as exc:
        raise _fail(str(exc)) from None
    partners = [partner] if partner else list(policy.partners)
    engine = _store_engine(settings)
    for p in partners:
        d = daily_digest(engine, p, the_day, tz)
        title = f"{policy.partners[p].title} — {the_day.isoformat()}" if p in policy.partners else None
        csv_path, html_path = write_digest(d, out_dir, title)
        click.echo(f"{p}: {d.total} shared, {len(d.new_cases)} new cases → {csv_path}, {html_path}")


# Registered on the main `cli` group by hrwatch/cli.py, like cli_review.COMMANDS.
COMMANDS = (subscribe, share)
