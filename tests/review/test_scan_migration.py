"""Migration 0004 (postings and the scan's tables) on SQLite and PostgreSQL: matches the models, goes down and up."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import review.queue_models  # noqa: F401  (every table of the store is in Base for the comparison)
import sharing.models  # noqa: F401
from review.models import Base
from review.scan.models import PostingRow
from review.store import MIGRATIONS, FindingStore
from schemas import parse_record
from tests.review import scan_data

SCAN_TABLES = {"postings", "scan_runs", "scan_checkpoints", "scan_findings", "scan_record_errors", "scan_lock"}


def _alembic(store: FindingStore, action: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def _names(diff: object) -> list[str]:
    """Table names a compare_metadata entry mentions (entries are tuples, or lists of tuples for column changes)."""
    out: list[str] = []
    items = diff if isinstance(diff, list) else [diff]
    for item in items:
        for part in item:
            name = getattr(part, "name", None) if not isinstance(part, str) else part
            table = getattr(getattr(part, "table", None), "name", None)
            out += [x for x in (name, table) if isinstance(x, str)]
    return out


def _tables(store: FindingStore) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names())


def test_0004_matches_the_models_and_goes_down_and_up(store: FindingStore) -> None:
    assert SCAN_TABLES <= _tables(store)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == ScriptDirectory.from_config(cfg).get_current_head()
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # Later migrations' tables may belong to models this test does not import; 0004's must match exactly.
    mine = [d for d in diffs if SCAN_TABLES & set(_names(d))]
    assert mine == [], f"models and migration 0004 differ: {mine}"
    _alembic(store, "downgrade", "0003")
    assert not SCAN_TABLES & _tables(store)
    assert {"findings", "subjects", "share_log"} <= _tables(store)
    store.migrate()
    assert SCAN_TABLES <= _tables(store)


def test_postings_upsert_is_idempotent_and_keeps_the_last_check(store: FindingStore) -> None:
    records = [parse_record(p) for p in scan_data.postings()]
    now = dt.datetime.now(dt.UTC)
    from review.scan.postings import posting_row

    rows = [posting_row(r, "v1", now) for r in records]
    assert store.write_postings(rows + rows[:3]) == len(records)  # duplicates within one batch are one row
    store.write_postings([posting_row(records[0], "v2", now)])
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(PostingRow)).scalar() == len(records)
        row = conn.execute(sa.select(PostingRow.__table__).where(PostingRow.id == records[0].id)).mappings().one()
    assert row["detector_version"] == "v2"
    assert row["agency_uscc"] == scan_data.AGENCY_EXPIRES["uscc"] and row["agency_licence"] == "330100202301"
    posted = row["posted_at"]
    assert (posted if posted.tzinfo else posted.replace(tzinfo=dt.UTC)) == records[0].posted_at
