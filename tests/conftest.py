"""Shared fixtures: one real Tansu broker per session, unique topic names per test, and a leak check.

The leak check fails any test that leaves an environment variable changed or a child process
running (a worker, a broker) — it kills the process first, so one bad test does not spoil the rest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hrwatch.settings import load_settings
from review.store import FindingStore
from streams.broker import BrokerError, EmbeddedBroker

_SESSION_CHILDREN: set[int] = set()
# pytest itself sets this one around every test phase.
_PYTEST_OWN = {"PYTEST_CURRENT_TEST"}


def child_processes() -> set[int]:
    """Live (not zombie) processes whose parent is this test process, from /proc."""
    me = os.getpid()
    found: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name, which is in parentheses and may contain spaces.
        fields = stat.rsplit(")", 1)[1].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == me and state != "Z":
            found.add(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def no_leaked_environment_or_processes() -> Iterator[None]:
    """Fail the test if it changed os.environ or left a child process running."""
    env_before = {k: v for k, v in os.environ.items() if k not in _PYTEST_OWN}
    children_before = child_processes()
    yield
    problems = []
    env_after = {k: v for k, v in os.environ.items() if k not in _PYTEST_OWN}
    if env_after != env_before:
        changed = sorted(k for k in env_before.keys() | env_after.keys() if env_before.get(k) != env_after.get(k))
        for key in changed:
            if key in env_before:
                os.environ[key] = env_before[key]
            else:
                del os.environ[key]
        problems.append(f"environment variables changed and not restored: {changed}")
    leaked = child_processes() - children_before - _SESSION_CHILDREN
    if leaked:
        for pid in leaked:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        problems.append(f"child processes left running (now killed): {sorted(leaked)}")
    if problems:
        pytest.fail("; ".join(problems))


@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[EmbeddedBroker]:
    """A real Tansu broker on 127.0.0.1 and a free port, for the whole session; fails (never skips) if it cannot start."""
    broker = EmbeddedBroker()
    try:
        broker.start()
    except BrokerError as exc:
        pytest.fail(f"the embedded Tansu broker did not start: {exc}")
    pid = broker.pid
    assert pid is not None
    _SESSION_CHILDREN.add(pid)
    try:
        yield broker
    finally:
        broker.stop()
        _SESSION_CHILDREN.discard(pid)


@dataclass(frozen=True)
class StreamNames:
    """A topic namespace and consumer group that no other test uses."""

    namespace: str
    group: str


@pytest.fixture
def stream_names() -> StreamNames:
    tag = uuid.uuid4().hex[:10]
    return StreamNames(namespace=f"t{tag}", group=f"g{tag}")


# Throwaway PostgreSQL databases and stores, shared by the streams, review and sharing tests.
# HRWATCH_POSTGRES_ADMIN_URL: a login that may CREATE DATABASE.
POSTGRES_ADMIN_URL = load_settings().postgres_admin_url


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL server the store tests use; fails (never skips) when it does not answer."""
    import psycopg

    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_ADMIN_URL} is needed for the store tests and did not answer: {exc}")
    return POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A database created for this test run, dropped at the end."""
    import psycopg

    name = f"hrwatch_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def throwaway_schema(postgres_url: str) -> Iterator[str]:
    """A schema of its own in the database at `postgres_url` (search_path set in the URL), dropped with everything in it."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{postgres_url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def postgres_schema_url(postgres_url: str) -> Iterator[str]:
    """A schema of its own in the run's database, dropped with everything in it."""
    with throwaway_schema(postgres_url) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FindingStore]:
    """A migrated, empty store on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    s = FindingStore(url)
    s.migrate()
    try:
        yield s
    finally:
        s.close()
