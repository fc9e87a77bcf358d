"""`hrwatch detect` and `hrwatch eval` as a user runs them: JSONL in, findings out, bad lines reported and counted."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from hrwatch.cli import cli
from schemas import load_schema

FILING = {
    "type": "agency_filing", "id": "f-1", "filing_type": "license_grant",
    "agency": {"name": "某某人力资源有限公司", "uscc": "914403051817210921", "license_no": "L-1"},
    "license": {"number": "L-1", "scope": ["劳务派遣"], "valid_from": "2024-01-01", "valid_until": "2029-01-01"},
    "filed_at": "2024-01-01T09:00:00+08:00",
}
POSTING = {
    "type": "job_posting", "id": "p-1", "source": "test", "title": "仓储主管",
    "description": "负责仓库管理。要求：限男性，35岁以下。入职需交押金500元。",
    "employer": {"name": "某某供应链有限公司", "uscc": "91440306MAMMKFEH5G"},
    "posted_at": "2025-09-04T10:00:00+08:00",
}


@pytest.fixture
def feed(tmp_path: Path) -> Path:
    path = tmp_path / "feed.jsonl"
    lines = [json.dumps(FILING, ensure_ascii=False), "{broken", json.dumps(POSTING, ensure_ascii=False), "",
             json.dumps({**POSTING, "id": "p-2", "salary": {"unit": "week"}}, ensure_ascii=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_detect_writes_valid_findings_and_reports_bad_lines(feed: Path) -> None:
    result = CliRunner().invoke(cli, ["detect", str(feed)])
    assert result.exit_code == 0, result.output
    findings = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert findings, "the posting breaks several rules"
    schema = load_schema("finding")
    for f in findings:
        jsonschema.validate(f, schema)
        assert f["subject"] == {"type": "job_posting", "id": "p-1"}
        for ev in f["evidence"]:
            text = POSTING[ev["field"]] if ev["field"] in POSTING else None
            if isinstance(text, str):
                assert 0 <= ev["start"] < ev["end"] <= len(text)
    assert {f["category"] for f in findings} >= {"discrimination", "fake_recruitment"}
    assert "line 2:" in result.stderr and "not valid JSON" in result.stderr
    assert "line 5:" in result.stderr and "salary.unit" in result.stderr and "'p-2'" in result.stderr
    assert "invalid: 2" in result.stderr


def test_same_input_gives_same_finding_ids(feed: Path) -> None:
    runs = [CliRunner().invoke(cli, ["detect", str(feed), "--quiet"]).stdout for _ in range(2)]
    ids = [[json.loads(line)["id"] for line in out.splitlines()] for out in runs]
    assert ids[0] == ids[1] and len(set(ids[0])) == len(ids[0])


def test_detect_reads_stdin_and_prints_a_table(feed: Path) -> None:
    result = CliRunner().invoke(cli, ["detect", "-", "--format", "table"], input=feed.read_bytes())
    assert result.exit_code == 0
    assert "discrimination.gender" in result.stdout and "p-1" in result.stdout


def test_unreadable_input_is_the_only_failure(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["detect", str(tmp_path / "missing.jsonl")])
    assert result.exit_code != 0 and "cannot read" in result.output


def test_eval_prints_precision_and_recall(feed: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "\n".join(json.dumps(x) for x in [
            {"id": "f-1", "categories": [], "rules": []},
            {"id": "p-1", "categories": ["discrimination"], "rules": ["discrimination.gender", "discrimination.age"]},
        ]),
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["eval", str(feed), str(labels), "--errors"])
    assert result.exit_code == 0, result.output
    assert "discrimination.gender" in result.stdout and "clean records: 1" in result.stdout


def test_a_failing_detector_is_reported_not_fatal(feed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from detectors.rules import all_detectors

    broken = type(next(d for d in all_detectors() if "job_posting" in d.record_types))

    def explode(self, ctx):  # type: ignore[no-untyped-def]
        raise KeyError("missing_setting")

    monkeypatch.setattr(broken, "detect", explode)
    result = CliRunner().invoke(cli, ["detect", str(feed)])
    assert result.exit_code == 0, result.output
    assert f"line 3: record 'p-1': detector {broken.__name__} failed: KeyError" in result.stderr
    assert "detector failures: 1" in result.stderr
