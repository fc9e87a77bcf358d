"""Detection quality gates: the hand-labelled dev set and a generated corpus, per category precision/recall."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus import generate
from detectors import DetectionEngine
from detectors.evaluation import Evaluation, evaluate, format_report
from schemas import parse_record

DEV_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CATEGORIES = ("discrimination", "fake_recruitment", "personal_data")


def _evaluate(records: list[dict], labels: list[dict]) -> Evaluation:
    engine = DetectionEngine()
    predicted: dict[str, list[str]] = {}
    for raw in records:
        record = parse_record(raw)
        predicted.setdefault(record.subject_id, []).extend(f.rule for f in engine.process(record))
    return evaluate(predicted, labels)


def _assert_gates(ev: Evaluation, precision: float, recall: float, clean_fp: int) -> None:
    report = format_report(ev)
    for cat in CATEGORIES:
        score = ev.categories[cat]
        assert score.precision >= precision, f"{cat} precision {score.precision:.3f}\n{report}"
        assert score.recall >= recall, f"{cat} recall {score.recall:.3f}\n{report}"
    assert len(ev.clean_with_findings) <= clean_fp, report


def test_dev_set_meets_the_issue_targets() -> None:
    records_path = DEV_DATA / "eval_dev.jsonl"
    if not records_path.exists():
        pytest.skip(f"hand-labelled dev data not found at {records_path} (it lives in shared/, beside the repo)")
    records = [json.loads(line) for line in records_path.read_text("utf-8").splitlines() if line.strip()]
    labels = [json.loads(line) for line in (DEV_DATA / "eval_dev.labels.jsonl").read_text("utf-8").splitlines() if line]
    _assert_gates(_evaluate(records, labels), precision=0.95, recall=0.90, clean_fp=1)


def test_generated_corpus_meets_the_same_targets() -> None:
    # Written by a different hand from the detectors, with its own phrasings and evasions.
    pairs = list(generate(3000, seed=2024))
    ev = _evaluate([r for r, _ in pairs], [label for _, label in pairs])
    _assert_gates(ev, precision=0.95, recall=0.90, clean_fp=3)
    for rule, score in ev.rules.items():
        assert score.recall >= 0.75, f"{rule} recall {score.recall:.3f}\n{format_report(ev)}"
