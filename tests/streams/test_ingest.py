"""`hrwatch ingest`: JSONL and CSV to the right topics with the keys of DESIGN.md; sent/failed counts."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from hrwatch.cli import cli
from schemas import parse_record
from streams.ingest import csv_row_to_record, plan_runs, read_feed
from tests.conftest import StreamNames
from tests.streams.conftest import StreamHarness

CSV = """type,id,source,title,description,employer.name,employer.uscc,salary.min,salary.max,salary.unit,posted_at
job_posting,c-1,csv,普工,包吃住,某某厂,91440300MA5FXXXX01,4500,6000,month,2025-09-04T10:00:00+08:00
job_posting,c-2,csv,保安,,某某物业,,abc,,,2025-09-04T10:00:00+08:00
"""


def test_csv_rows_become_typed_records(tmp_path: Path) -> None:
    path = tmp_path / "postings.csv"
    path.write_text(CSV, encoding="utf-8")
    first, second = read_feed(path)
    record = orjson.loads(first.value)
    assert record["salary"] == {"min": 4500, "max": 6000, "unit": "month"}
    assert record["employer"] == {"name": "某某厂", "uscc": "91440300MA5FXXXX01"}
    assert parse_record(record).id == "c-1" and first.key == "c-1"
    # An unconvertible number stays text, so the worker dead-letters it naming the field.
    assert orjson.loads(second.value)["salary"] == {"min": "abc"}


def test_csv_lists_split_on_separators() -> None:
    row = {"id": "f-1", "filing_type": "license_grant", "agency.name": "某公司", "agency.uscc": "9144",
           "license.scope": "职业中介|劳务派遣", "filed_at": "2024-01-01T09:00:00+08:00"}
    assert csv_row_to_record(row, "agency_filing")["license"]["scope"] == ["职业中介", "劳务派遣"]


def test_a_mixed_feed_is_published_registry_records_first(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    rows = [{"type": "job_posting", "id": "p-1"}, {"type": "agency_filing", "id": "f-1", "agency": {"uscc": "U1"}},
            {"type": "job_posting", "id": "p-2"}, {"type": "business_registration", "uscc": "U2"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n{oops\n", encoding="utf-8")
    runs = plan_runs(read_feed(path), "auto")
    assert [(flag, [line.key for line in run]) for flag, run in runs] == [
        (True, ["U1", "U2"]), (False, ["p-1", "p-2", None]),
    ]


def test_ingest_command_publishes_with_keys_and_counts(
    harness: StreamHarness, stream_names: StreamNames, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "postings.csv"
    path.write_text(CSV, encoding="utf-8")
    monkeypatch.setenv("HRWATCH_KAFKA", harness.broker.bootstrap)
    monkeypatch.setenv("HRWATCH_TOPIC_NAMESPACE", stream_names.namespace)
    result = CliRunner().invoke(cli, ["ingest", str(path), "--topic", "postings", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "sent: 2, failed: 0" in result.output
    messages = harness.read_topic(harness.topics.postings)
    assert sorted(m.key for m in messages) == [b"c-1", b"c-2"]


def test_ingest_without_a_broker_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    monkeypatch.delenv("HRWATCH_KAFKA", raising=False)
    result = CliRunner().invoke(cli, ["ingest", str(path), "--no-progress"])
    assert result.exit_code != 0 and "HRWATCH_KAFKA is not set" in result.output
