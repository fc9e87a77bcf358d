"""Migrations 0003 and 0005 on SQLite and PostgreSQL: matching sharing/models.py, append-only audit tables, down and up again."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError

import review.queue_models  # noqa: F401  (the tables of 0002, so the comparison sees every table)
from review.models import Base
from review.store import MIGRATIONS, FindingStore
from sharing.models import ShareLogRow, ShareRetractionRow, ShareReviewRow

SHARING_TABLES = {"share_log", "share_held", "share_reviews"}


def _head() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def _tables(store: FindingStore) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names())


def _downgrade(store: FindingStore, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_0003_follows_0002_matches_the_models_and_goes_down_and_up(store: FindingStore) -> None:
    assert SHARING_TABLES | {"findings", "subjects", "alerts"} <= _tables(store)
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == _head()
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == [], f"models and migrations differ: {diffs}"
    _downgrade(store, "0002")
    assert not SHARING_TABLES & _tables(store)
    assert {"findings", "subjects", "alerts"} <= _tables(store)
    store.migrate()
    assert SHARING_TABLES <= _tables(store)
    store.migrate()  # a no-op the second time


def test_the_share_log_keeps_its_rows_and_their_content(store: FindingStore) -> None:
    now = dt.datetime.now(dt.UTC)
    row = {c.name: "x" for c in ShareLogRow.__table__.columns}
    row.update(
        finding_id="f" * 64,
        partner="police",
        envelope_id="e" * 32,
        created_at=now,
        sent_at=None,
        receipt_status=None,
        receipted_at=None,
        alert_id=None,
        review_event_id=None,
    )
    table = ShareLogRow.__table__
    with store.engine.begin() as conn:
        conn.execute(table.insert(), row)
        conn.execute(table.update().values(sent_at=now, receipt_status="accepted", receipted_at=now))
    for change in (table.update().values(route="other"), table.update().values(envelope="{}"), table.delete()):
        with pytest.raises(DBAPIError, match="share_log"), store.engine.begin() as conn:
            conn.execute(change)
    with store.engine.connect() as conn:
        kept = conn.execute(sa.select(table.c.route, table.c.receipt_status)).all()
    assert kept == [("x", "accepted")]


def test_0005_adds_retractions_after_0004_and_goes_down_and_up(store: FindingStore) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(cfg).get_revision("0005")
    assert script is not None and script.down_revision == "0004"
    assert "share_retractions" in _tables(store)
    _downgrade(store, "0004")
    assert "share_retractions" not in _tables(store)
    assert "reason" not in {c["name"] for c in sa.inspect(store.engine).get_columns("share_reviews")}
    assert SHARING_TABLES <= _tables(store)
    store.migrate()
    assert "share_retractions" in _tables(store)
    assert "reason" in {c["name"] for c in sa.inspect(store.engine).get_columns(ShareReviewRow.__tablename__)}
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_retractions_keep_their_rows_and_their_content(store: FindingStore) -> None:
    now = dt.datetime.now(dt.UTC)
    row = {c.name: "x" for c in ShareRetractionRow.__table__.columns if c.name != "seq"}
    row.update(
        notice_id="n" * 32,
        finding_id="f" * 64,
        partner="police",
        retraction_id=None,
        decided_at=now,
        created_at=now,
        sent_at=None,
        receipt_status=None,
        receipted_at=None,
    )
    table = ShareRetractionRow.__table__
    with store.engine.begin() as conn:
        conn.execute(table.insert(), row)
        conn.execute(table.insert(), {**row, "notice_id": "m" * 32, "kind": "reinstatement"})
        conn.execute(table.update().values(sent_at=now, receipt_status="accepted", receipted_at=now))
    for change in (table.update().values(reason="other"), table.update().values(envelope="{}"), table.delete()):
        with pytest.raises(DBAPIError, match="share_retractions"), store.engine.begin() as conn:
            conn.execute(change)
    with store.engine.connect() as conn:
        kept = conn.execute(sa.select(table.c.seq, table.c.kind, table.c.receipt_status).order_by(table.c.seq)).all()
    assert [(k, r) for _s, k, r in kept] == [("x", "accepted"), ("reinstatement", "accepted")]
    assert kept[0][0] < kept[1][0]  # seq orders a pair's notices
