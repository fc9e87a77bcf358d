"""`hrwatch queue list|show|decide|adduser` against a SQLite store (the commands as the lead registers them)."""

from __future__ import annotations

import click
import orjson
import pytest
from click.testing import CliRunner

from hrwatch.cli_review import COMMANDS, ensure_demo_user
from review.queue import ReviewQueue
from tests.review import samples


@pytest.fixture
def run(sqlite_url: str, web_queue: ReviewQueue):  # type: ignore[no-untyped-def]
    group = click.Group("hrwatch", commands={c.name: c for c in COMMANDS})
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> click.testing.Result:
        return runner.invoke(
            group,
            list(args),
            env={"HRWATCH_DATABASE_URL": sqlite_url, "HRWATCH_KAFKA": None},
            input=input,
            catch_exceptions=False,
        )

    return invoke


def test_list_show_and_decide(run, web_queue: ReviewQueue) -> None:  # type: ignore[no-untyped-def]
    ids = samples.alert_ids(web_queue)
    listed = run("queue", "list", "--city", "苏州", "--json")
    assert listed.exit_code == 0
    rows = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert {r["subject"]["id"] for r in rows} == {"p-dup-a", "p-dup-b", "p-agency-1"}
    table = run("queue", "list")
    assert "6 of 6 alerts" in table.stderr and samples.ID_A not in table.stdout

    shown = run("queue", "show", str(ids["p-idcard"]), "--as", "rev")
    detail = orjson.loads(shown.stdout)
    assert detail["alert"]["subject"]["id"] == "p-idcard" and samples.ID_A not in shown.stdout

    decided = run("queue", "decide", str(ids["p-idcard"]), "dismiss", "--as", "rev", "--reason", "false_positive")
    assert decided.exit_code == 0 and "dismissed" in decided.stdout
    assert web_queue.events()[-1]["decision"] == "dismiss"  # waits in the outbox: no broker configured
    again = run("queue", "decide", str(ids["p-idcard"]), "confirm", "--as", "rev")
    assert again.exit_code == 1 and "invalid_transition" in again.stderr
    assert run("queue", "decide", "99999", "confirm", "--as", "rev").exit_code == 1
    assert "no active user" in run("queue", "decide", "1", "confirm", "--as", "nobody").stderr
    assert run("queue", "list", "--status", "dismissed", "--json").stdout.count("\n") == 1


def test_adduser_and_demo_user(run, web_queue: ReviewQueue) -> None:  # type: ignore[no-untyped-def]
    made = run("queue", "adduser", "lin", "--role", "auditor", input="long-enough-pw\nlong-enough-pw\n")
    assert made.exit_code == 0, made.output
    assert web_queue.authenticate("lin", "long-enough-pw") is not None
    assert run("queue", "adduser", "lin", "--role", "auditor", input="long-enough-pw\nlong-enough-pw\n").exit_code == 1
    name, password = ensure_demo_user(web_queue)
    assert web_queue.authenticate(name, password).role == "supervisor"  # type: ignore[union-attr]
    name, second = ensure_demo_user(web_queue)
    assert second != password and web_queue.authenticate(name, password) is None
