"""The scan report of a pass: HTML (phases, new findings, record errors) and CSV files, written per run."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from jinja2 import Environment
from sqlalchemy import select

from review.models import FindingRow
from review.scan.models import ScanFindingRow, ScanRecordErrorRow
from review.scan.state import RunInfo, ScanState

if TYPE_CHECKING:
    from review.scan.runner import ScanOutcome
    from review.store import FindingStore

HTML_FINDINGS = 2000  # the CSV has them all
_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>hrwatch scan {{ outcome.pass_id }} — {{ info.as_of.strftime('%Y-%m-%d') }}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}th{background:#f4f4f4}
.completed{color:#176b2c}.failed,.interrupted{color:#a40000}</style></head><body>
<h1>Nightly scan — pass {{ outcome.pass_id }}, run {{ outcome.run_id }}</h1>
<p>Status: <strong class="{{ outcome.status }}">{{ outcome.status }}</strong> (exit code {{ outcome.exit_code }}).
As of {{ info.as_of.isoformat() }}; licence changes since {{ info.since.isoformat() }}.
Detector version {{ run.detector_version }}.{% if info.resumed_from %} Resumes run {{ info.resumed_from }}.{% endif %}</p>
{% if error %}<pre>{{ error }}</pre>{% endif %}
<p>Postings scanned: {{ outcome.postings_scanned }}; new findings: {{ outcome.new_findings }}
({{ unpublished }} not published to hr.findings.v1); record errors: {{ outcome.record_errors }}.</p>
<h2>Phases</h2><table><tr><th>phase</th><th>done</th><th>processed</th><th>new findings</th><th>record errors</th><th>seconds (this run)</th><th>details</th></tr>
{% for name, p in phases %}<tr><td>{{ name }}</td><td>{{ 'yes' if p.get('done') else '' }}</td><td>{{ p.get('processed', '') }}</td>
<td>{{ p.get('new_findings', '') }}</td><td>{{ p.get('record_errors', '') }}</td><td>{{ p.get('seconds', '') }}</td>
<td>{{ details(p) }}</td></tr>{% endfor %}</table>
<h2>New findings ({{ outcome.new_findings }}{% if outcome.new_findings > findings|length %}, first {{ findings|length }}: see the CSV{% endif %})</h2>
<table><tr><th>phase</th><th>rule</th><th>severity</th><th>score</th><th>subject</th><th>explanation</th></tr>
{% for f in findings %}<tr><td>{{ f.phase }}</td><td>{{ f.rule }}</td><td>{{ f.severity }}</td><td>{{ f.score }}</td>
<td>{{ f.subject_type }} {{ f.subject_id }}</td><td>{{ f.explanation }}</td></tr>{% endfor %}</table>
{% if errors %}<h2>Record errors</h2><table><tr><th>phase</th><th>subject</th><th>error</th></tr>
{% for e in errors %}<tr><td>{{ e.phase }}</td><td>{{ e.subject_id }}</td><td>{{ e.error }}</td></tr>{% endfor %}</table>{% endif %}
</body></html>
"""
_KEYS = {"processed", "new_findings", "record_errors", "seconds", "done"}
FINDING_COLUMNS = ["finding_id", "phase", "rule", "category", "severity", "score", "subject_type", "subject_id",
                   "published", "explanation"]


def _details(p: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in p.items() if k not in _KEYS)


def write_report(store: FindingStore, state: ScanState, info: RunInfo, outcome: ScanOutcome, directory: Path,
                 error: str | None) -> list[Path]:
    """Write scan-<pass>-<date>-run<run>.html, …-findings.csv and …-phases.csv; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"scan-{info.as_of:%Y%m%d}-pass{info.pass_id}-run{info.run_id}"
    sf, fr, er = ScanFindingRow.__table__, FindingRow.__table__, ScanRecordErrorRow.__table__
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(sf.c.finding_id, sf.c.phase, sf.c.published_at, fr.c.body)
            .join(fr, fr.c.id == sf.c.finding_id).where(sf.c.pass_id == info.pass_id)
            .order_by(sf.c.phase, fr.c.rule, fr.c.subject_id, sf.c.finding_id)
        ).all()
        errors = [dict(r) for r in conn.execute(
            select(er).where(er.c.pass_id == info.pass_id).order_by(er.c.phase, er.c.subject_id).limit(500)
        ).mappings()]
    findings = []
    for fid, phase, published_at, body in rows:
        obj = orjson.loads(body)
        findings.append({
            "finding_id": fid, "phase": phase, "rule": obj["rule"], "category": obj["category"],
            "severity": obj["severity"], "score": obj["score"], "subject_type": obj["subject"]["type"],
            "subject_id": obj["subject"]["id"], "published": "yes" if published_at else "no",
            "explanation": obj.get("explanation", ""),
        })
    csv_path = directory / f"{stem}-findings.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, FINDING_COLUMNS)
        writer.writeheader()
        writer.writerows(findings)
    phases_path = directory / f"{stem}-phases.csv"
    with open(phases_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["phase", "done", "processed", "new_findings", "record_errors", "seconds", "details"])
        for name, p in outcome.phases.items():
            writer.writerow([name, p.get("done", ""), p.get("processed", ""), p.get("new_findings", ""),
                             p.get("record_errors", ""), p.get("seconds", ""), _details(p)])
    env = Environment(autoescape=True)
    html = env.from_string(_TEMPLATE).render(
        outcome=outcome, info=info, run=state.run(info.run_id), error=error, phases=list(outcome.phases.items()),
        findings=findings[:HTML_FINDINGS], errors=errors, details=_details,
        unpublished=sum(f["published"] == "no" for f in findings),
    )
    html_path = directory / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    return [html_path, csv_path, phases_path]
