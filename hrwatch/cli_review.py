"""`hrwatch queue list|show|decide|adduser` and `hrwatch serve`: the alert queue from the command line, and its web UI."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson

from hrwatch.settings import Settings, load_settings
from review.auth import new_password
from review.lifecycle import ACTIONS, DISMISS_REASONS, ROLES, SEVERITY_RANK, STATUSES
from review.queue import Actor, QueueError, QueueFilter, ReviewQueue

DEMO_USER = "demo"


def share_partners(settings: Settings) -> tuple[str, ...]:
    """The sharing policy's partners: whom the queue's `share` action may name (review/ does not read the policy)."""
    from sharing.policy import PolicyError
    from sharing.wiring import policy_of

    try:
        return tuple(policy_of(settings).partners)
    except PolicyError as exc:
        raise click.ClickException(str(exc)) from None


def open_queue(settings: Settings) -> ReviewQueue:
    """The queue on the configured database, migrated to the newest schema."""
    queue = ReviewQueue.from_settings(settings, share_partners=share_partners(settings))
    queue.migrate()
    return queue


def ensure_demo_user(queue: ReviewQueue, username: str = DEMO_USER, password: str | None = None) -> tuple[str, str]:
    """Create (or reset) the demo login, a supervisor, with a fresh random password; returns (username, password)."""
    password = password or new_password()
    queue.ensure_user(username, password, "supervisor")
    return username, password


def reviews_topic(settings: Settings) -> str:
    from streams.topics import REVIEWS, TopicNames

    return TopicNames(settings.topic_namespace).name(REVIEWS)


def make_publisher(settings: Settings) -> Any:
    """A Kafka publisher for hr.reviews.v1 when HRWATCH_KAFKA is set; else None (events wait in the outbox)."""
    if not settings.kafka:
        return None
    from review.events import KafkaReviewPublisher

    return KafkaReviewPublisher(settings.kafka, reviews_topic(settings))


def build_app(settings: Settings, queue: ReviewQueue, publisher: Any = None) -> Any:
    from review.web import WebConfig, create_app

    secret = settings.review_secret_key.get_secret_value() if settings.review_secret_key else ""
    config = WebConfig(
        secret_key=secret,
        cookie_secure=settings.review_cookie_secure,
        session_hours=settings.review_session_hours,
        max_body_bytes=settings.review_max_body_bytes,
    )
    return create_app(queue, config, publisher)


def start_metrics(settings: Settings, queue: ReviewQueue) -> Any:
    """/metrics of the queue backlog and the scan runs, on HRWATCH_METRICS_HOST/PORT.

    A port of its own rather than a route of the web app: every page of the app but login and health
    needs a session, and an unauthenticated /metrics there would be the one exception. Here it can be
    firewalled to Prometheus alone, as the worker's and the share publisher's are. It carries counts
    by status, severity and action only, never a subject or a person.
    """
    from review.metrics import ReviewMetrics
    from streams.metrics import MetricsServer

    return MetricsServer(ReviewMetrics(queue.engine), settings.metrics_host, settings.metrics_port).start()


def _fail(exc: QueueError) -> click.ClickException:
    return click.ClickException(f"{exc.code}: {exc.message}")


def _actor(queue: ReviewQueue, username: str | None) -> Actor:
    if username is None:
        return Actor(None, "cli", "auditor", "command line", "cli")
    actor = queue.actor_named(username)
    if actor is None:
        raise click.ClickException(f"no active user {username!r} (create one with `hrwatch queue adduser`)")
    return actor.at("cli")


@click.group(name="queue")
def queue_group() -> None:
    """The alert queue: list, show and decide alerts (for scripting; the web UI is `hrwatch serve`)."""


@queue_group.command(name="list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([*STATUSES, "all"]),
    help="repeatable; default: new and in_review",
)
@click.option("--category", type=click.Choice(["fake_recruitment", "discrimination", "personal_data"]))
@click.option("--rule")
@click.option("--severity", type=click.Choice(list(SEVERITY_RANK)))
@click.option("--city")
@click.option("--source")
@click.option("--agency", help="agency or employer name contains")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="queued on or after (China time)")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="queued on or before (China time)")
@click.option("--sort", type=click.Choice(["severity", "age", "newest", "due"]), default="severity", show_default=True)
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON Lines, one alert per line")
def list_cmd(
    statuses: tuple[str, ...],
    category: str | None,
    rule: str | None,
    severity: str | None,
    city: str | None,
    source: str | None,
    agency: str | None,
    since: Any,
    until: Any,
    sort: str,
    limit: int,
    as_json: bool,
) -> None:
    """List alerts, most severe and oldest first (titles masked)."""
    status: tuple[str, ...] = ("new", "in_review") if not statuses else (() if "all" in statuses else statuses)
    queue = open_queue(load_settings())
    try:
        f = QueueFilter(
            status=status,
            category=category,
            rule=rule,
            severity=severity,
            city=city,
            source=source,
            agency=agency,
            date_from=since.date() if since else None,
            date_to=until.date() if until else None,
            sort=sort,
            per_page=limit,
        )
        page = queue.list_alerts(f)
    except QueueError as exc:
        raise _fail(exc) from None
    finally:
        queue.close()
    now = queue.clock()
    for a in page.items:
        if as_json:
            sys.stdout.buffer.write(orjson.dumps(a.to_dict(now)) + b"\n")
        else:
            _state, sla = a.sla(now)
            click.echo(
                f"{a.id:>7}  {a.severity:8s} {a.status:10s} {','.join(a.rules)[:48]:48s} "
                f"{(a.city or '-'):6s} {(a.source or '-'):8s} {sla:12s} {a.masked_title[:40]}"
            )
    if not as_json:
        click.echo(f"{len(page.items)} of {page.total} alerts", err=True)


@queue_group.command(name="show")
@click.argument("alert_id", type=click.IntRange(1))
@click.option("--as", "username", help="who is looking (recorded in the audit trail); default 'cli'")
def show_cmd(alert_id: int, username: str | None) -> None:
    """Print one alert as JSON: masked subject, findings, highlights and history (audited as a view)."""
    queue = open_queue(load_settings())
    try:
        detail = queue.detail(alert_id, _actor(queue, username))
        sys.stdout.buffer.write(orjson.dumps(detail.to_dict(queue.clock()), option=orjson.OPT_INDENT_2) + b"\n")
    except QueueError as exc:
        raise _fail(exc) from None
    finally:
        queue.close()


@queue_group.command(name="decide")
@click.argument("alert_id", type=click.IntRange(1))
@click.argument("action", type=click.Choice(list(ACTIONS)))
@click.option("--as", "username", required=True, help="the reviewer or supervisor deciding")
@click.option("--reason", type=click.Choice(DISMISS_REASONS), help="required for dismiss")
@click.option("--partner", "partners", multiple=True, help="for share: a partner of the sharing policy; repeatable")
@click.option("--note")
def decide_cmd(
    alert_id: int, action: str, username: str, reason: str | None, partners: tuple[str, ...], note: str | None
) -> None:
    """Take a lifecycle action on an alert; decisions go to hr.reviews.v1 (now if HRWATCH_KAFKA is set)."""
    settings = load_settings()
    queue = open_queue(settings)
    try:
        summary = queue.decide(alert_id, action, _actor(queue, username), reason=reason, note=note, partners=partners)
        click.echo(f"alert {summary.id}: {summary.status}")
        publisher = make_publisher(settings)
        if publisher is not None:
            from review.events import EventRelay

            relay = EventRelay(queue, publisher)
            relay.stop()  # one flush, then close
            if relay.last_error:
                click.echo(f"event kept in the outbox, not published yet: {relay.last_error}", err=True)
    except QueueError as exc:
        raise _fail(exc) from None
    finally:
        queue.close()


@queue_group.command(name="adduser")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", "display_name", help="display name")
@click.password_option(prompt="password", help="at least 10 characters (prompted when not given)")
def adduser_cmd(username: str, role: str, display_name: str | None, password: str) -> None:
    """Create a queue account (password stored as an argon2id hash)."""
    queue = open_queue(load_settings())
    try:
        queue.create_user(username, password, role, display_name=display_name)
    except QueueError as exc:
        raise _fail(exc) from None
    finally:
        queue.close()
    click.echo(f"created {role} {username}")


@click.command(name="serve")
@click.option("--host", help="default: HRWATCH_REVIEW_HOST")
@click.option("--port", type=click.IntRange(0, 65535), help="default: HRWATCH_REVIEW_PORT (0 = any free port)")
@click.option("--demo-user", is_flag=True, help="create (or reset) the 'demo' supervisor and print its password")
def serve_cmd(host: str | None, port: int | None, demo_user: bool) -> None:
    """Serve the alert-queue web UI and REST API until Ctrl-C."""
    from review.web import ReviewServer

    settings = load_settings()
    queue = open_queue(settings)
    publisher = make_publisher(settings)
    server = ReviewServer(
        build_app(settings, queue, publisher),
        host or settings.review_host,
        settings.review_port if port is None else port,
    )
    metrics = start_metrics(settings, queue)
    click.echo(f"review UI: {server.url}/queue   (health: {server.url}/healthz); metrics at {metrics.url}")
    if demo_user:
        name, password = ensure_demo_user(queue)
        click.echo(f"demo login: {name} / {password}")
    if publisher is None:
        click.echo("HRWATCH_KAFKA unset: decisions wait in the outbox until a broker is configured", err=True)
    try:
        server.run()
    finally:
        metrics.stop()
        queue.close()


COMMANDS = (queue_group, serve_cmd)
