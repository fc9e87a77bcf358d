"""Daily digest per partner from the share log: counts, top agencies, new cases; as CSV and as an HTML page."""

from __future__ import annotations

import csv
import datetime as dt
import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, tuple_
from sqlalchemy.orm import Session

from detectors.findings import SEVERITIES
from sharing.models import ShareLogRow

_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True, slots=True)
class NewCase:
    """A subject (posting, filing) first shared with the partner on the digest's day."""

    subject_type: str
    subject_id: str
    organisation: str
    rules: tuple[str, ...]
    severity: str
    first_shared_at: str


@dataclass
class Digest:
    partner: str
    day: dt.date
    timezone: str
    total: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    by_severity: Counter[str] = field(default_factory=Counter)
    by_trigger: Counter[str] = field(default_factory=Counter)
    by_receipt: Counter[str] = field(default_factory=Counter)
    top_agencies: list[tuple[str, str, int]] = field(default_factory=list)  # (name, uscc, findings)
    new_cases: list[NewCase] = field(default_factory=list)


def day_bounds(day: dt.date, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """The day's start and end (exclusive) in the given time zone, as UTC instants."""
    tz = ZoneInfo(timezone)
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


def daily_digest(engine: Engine, partner: str, day: dt.date, timezone: str = "Asia/Shanghai", top: int = 10) -> Digest:
    """What was shared with `partner` on `day` (local to `timezone`)."""
    start, end = day_bounds(day, timezone)
    digest = Digest(partner, day, timezone)
    agencies: Counter[tuple[str, str]] = Counter()
    subjects: dict[tuple[str, str], list[ShareLogRow]] = {}
    with Session(engine) as s:
        rows = list(
            s.scalars(
                select(ShareLogRow).where(
                    ShareLogRow.partner == partner, ShareLogRow.sent_at >= start, ShareLogRow.sent_at < end
                )
            )
        )
        for r in rows:
            digest.total += 1
            digest.by_rule[r.rule] += 1
            digest.by_severity[r.severity] += 1
            digest.by_trigger[r.trigger] += 1
            digest.by_receipt[r.receipt_status or "pending"] += 1
            agencies[(r.organisation or "(unknown)", r.organisation_uscc or "")] += 1
            subjects.setdefault((r.subject_type, r.subject_id), []).append(r)
        earlier: set[tuple[str, str]] = set()
        keys = sorted(subjects)
        for i in range(0, len(keys), 500):
            q = (
                select(ShareLogRow.subject_type, ShareLogRow.subject_id)
                .where(
                    ShareLogRow.partner == partner,
                    ShareLogRow.sent_at < start,
                    tuple_(ShareLogRow.subject_type, ShareLogRow.subject_id).in_(keys[i : i + 500]),
                )
                .distinct()
            )
            earlier.update((t, sid) for t, sid in s.execute(q))
    digest.top_agencies = [
        (name, uscc, n) for (name, uscc), n in sorted(agencies.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    ]
    for key in keys:
        if key in earlier:
            continue
        group = subjects[key]
        first = min(group, key=lambda r: r.sent_at or start)  # sent_at is set: the query asked for a range of it
        digest.new_cases.append(
            NewCase(
                key[0],
                key[1],
                first.organisation or "",
                tuple(sorted({r.rule for r in group})),
                max((r.severity for r in group), key=lambda v: _SEVERITY_RANK.get(v, -1)),
                _local(first.sent_at, timezone),
            )
        )
    digest.new_cases.sort(key=lambda c: (-_SEVERITY_RANK.get(c.severity, -1), c.first_shared_at, c.subject_id))
    return digest


def _local(value: dt.datetime | None, timezone: str) -> str:
    if value is None:
        return ""
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds")


def write_csv(digest: Digest, out: IO[str]) -> None:
    """One CSV: `section,key,detail,count` rows for totals, rules, severities, triggers, receipts, top agencies, new cases."""
    w = csv.writer(out)
    w.writerow(["section", "key", "detail", "count"])
    w.writerow(["total", digest.partner, digest.day.isoformat(), digest.total])
    for section, counter in (
        ("rule", digest.by_rule),
        ("severity", digest.by_severity),
        ("trigger", digest.by_trigger),
        ("receipt", digest.by_receipt),
    ):
        for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            w.writerow([section, key, "", n])
    for name, uscc, n in digest.top_agencies:
        w.writerow(["top_agency", name, uscc, n])
    for c in digest.new_cases:
        w.writerow(
            [
                "new_case",
                f"{c.subject_type}:{c.subject_id}",
                f"{c.organisation} | {c.severity} | {' '.join(c.rules)} | {c.first_shared_at}",
                len(c.rules),
            ]
        )


def render_html(digest: Digest, title: str | None = None) -> str:
    """A self-contained HTML page of the digest (escaped; no scripts, no external resources)."""
    e = html.escape
    heading = title or f"{digest.partner} — {digest.day.isoformat()}"

    def table(head: list[str], rows: list[list[object]]) -> str:
        if not rows:
            return "<p>none</p>"
        th = "".join(f"<th>{e(h)}</th>" for h in head)
        body = "".join("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>" for row in rows)
        return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    def counts(counter: Counter[str]) -> list[list[object]]:
        return [[k, n] for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]

    parts = [
        "<!doctype html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>共享日报 {e(heading)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #999;padding:.25em .6em;text-align:left}</style></head><body>",
        f"<h1>共享日报 · daily share digest: {e(heading)}</h1>",
        f"<p>{digest.total} findings shared on {e(digest.day.isoformat())} ({e(digest.timezone)}).</p>",
        "<h2>By rule</h2>",
        table(["rule", "count"], counts(digest.by_rule)),
        "<h2>By severity</h2>",
        table(["severity", "count"], counts(digest.by_severity)),
        "<h2>Shared because</h2>",
        table(["trigger", "count"], counts(digest.by_trigger)),
        "<h2>Receipts</h2>",
        table(["receipt", "count"], counts(digest.by_receipt)),
        "<h2>Top agencies</h2>",
        table(["agency / employer", "USCC", "findings"], [[n, u, c] for n, u, c in digest.top_agencies]),
        "<h2>New cases</h2>",
        table(
            ["subject", "organisation", "severity", "rules", "first shared"],
            [
                [f"{c.subject_type}:{c.subject_id}", c.organisation, c.severity, ", ".join(c.rules), c.first_shared_at]
                for c in digest.new_cases
            ],
        ),
        "</body></html>",
    ]
    return "\n".join(parts)


def write_digest(digest: Digest, directory: Path, title: str | None = None) -> tuple[Path, Path]:
    """digest-<partner>-<day>.csv and .html in `directory`; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"digest-{digest.partner}-{digest.day.isoformat()}"
    csv_path, html_path = directory / f"{stem}.csv", directory / f"{stem}.html"
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        write_csv(digest, fh)
    html_path.write_text(render_html(digest, title), encoding="utf-8")
    return csv_path, html_path
