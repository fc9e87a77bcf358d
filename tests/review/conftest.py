"""Fixtures for the queue tests: SQLite and PostgreSQL stores (schema per test), a settable clock, sample data."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from review.queue import Actor, ReviewQueue
from review.store import make_engine
from tests.review import samples

PASSWORD = "correct-horse-battery"


class Clock:
    """The queue's notion of now, moved by tests (SLA, age ordering) instead of sleeping."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite store, copied for each test (migrating once per session keeps the suite quick)."""
    path = tmp_path_factory.mktemp("template") / "queue.db"
    queue = ReviewQueue.open(f"sqlite:///{path}")
    queue.migrate()
    queue.close()
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    target = tmp_path / "queue.db"
    shutil.copyfile(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty, unmigrated store: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{request.getfixturevalue('tmp_path') / 'empty.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


@pytest.fixture
def queue(database_url: str, clock: Clock) -> Iterator[ReviewQueue]:
    """A migrated, empty queue on SQLite and on PostgreSQL (migrated from empty every time)."""
    q = ReviewQueue(make_engine(database_url), clock=clock)
    q.migrate()
    try:
        yield q
    finally:
        q.close()


@pytest.fixture
def sqlite_queue(sqlite_url: str, clock: Clock) -> Iterator[ReviewQueue]:
    q = ReviewQueue(make_engine(sqlite_url), clock=clock)
    try:
        yield q
    finally:
        q.close()


class People:
    def __init__(self, queue: ReviewQueue) -> None:
        self.reviewer: Actor = queue.create_user("rev", PASSWORD, "reviewer", display_name="审核员甲")
        self.reviewer2: Actor = queue.create_user("rev2", PASSWORD, "reviewer", display_name="审核员乙")
        self.supervisor: Actor = queue.create_user("sup", PASSWORD, "supervisor", display_name="主管")
        self.auditor: Actor = queue.create_user("aud", PASSWORD, "auditor", display_name="审计员")


@pytest.fixture
def people(queue: ReviewQueue) -> People:
    return People(queue)


@pytest.fixture
def loaded(queue: ReviewQueue) -> dict[str, int]:
    """The samples recorded; alert id by subject id."""
    return samples.load(queue)


@pytest.fixture
def web_queue(sqlite_queue: ReviewQueue) -> ReviewQueue:
    """A SQLite queue with the samples and the four people (the web and API tests' store)."""
    People(sqlite_queue)
    samples.load(sqlite_queue)
    return sqlite_queue
