"""The hrwatch Grafana dashboard as code: `python deploy/grafana/dashboard.py` writes dashboards/hrwatch.json.

Plain dicts in Grafana's dashboard JSON model (schemaVersion 39), so no extra dependency; the JSON is
committed too (Grafana provisions it from the file) and tests/monitoring checks that it is this
script's output, so the two never drift. Every panel's description tells the on-call person what
the panel means and what to do when it looks wrong.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "dashboards" / "hrwatch.json"
DS = {"type": "prometheus", "uid": "${datasource}"}
# Selector of the dashboard's job/instance variables; `job` is narrowed per row by a fixed job name.
SEL = 'instance=~"$instance"'
WORKER = f'job="hrwatch-worker", {SEL}'
REVIEW = f'job="hrwatch-review", {SEL}'
SHARING = f'job="hrwatch-sharing", {SEL}'
RUNBOOK = "deploy/prometheus/README.md"


class Layout:
    """Places panels left to right, 24 grid units per row; hands out unique ids."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self.x = self.y = self.row_height = 0
        self.next_id = 1

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append(
            {
                "type": "row",
                "id": self._id(),
                "title": title,
                "collapsed": False,
                "gridPos": {"x": 0, "y": self.y, "w": 24, "h": 1},
                "panels": [],
            }
        )
        self.y += 1

    def add(self, panel: dict[str, Any], w: int, h: int) -> None:
        if self.x + w > 24:
            self._newline()
        panel["id"] = self._id()
        panel["gridPos"] = {"x": self.x, "y": self.y, "w": w, "h": h}
        self.panels.append(panel)
        self.x += w
        self.row_height = max(self.row_height, h)

    def _newline(self) -> None:
        self.y += self.row_height
        self.x = self.row_height = 0

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1


def target(expr: str, legend: str = "", ref: str = "A", *, instant: bool = False) -> dict[str, Any]:
    return {
        "refId": ref,
        "datasource": DS,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
        "editorMode": "code",
    }


def thresholds(*steps: tuple[float | None, str]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"value": v, "color": c} for v, c in steps]}


def overrides(per_query: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Field overrides for one query of a panel (refId → unit, thresholds), when its numbers differ in kind."""
    out = []
    for ref, props in per_query.items():
        properties = [{"id": "unit", "value": props["unit"]}] if "unit" in props else []
        if "steps" in props:
            properties.append({"id": "thresholds", "value": thresholds(*props["steps"])})
        out.append({"matcher": {"id": "byFrameRefID", "options": ref}, "properties": properties})
    return out


def panel(
    kind: str,
    title: str,
    description: str,
    targets: list[dict[str, Any]],
    *,
    unit: str = "short",
    steps: tuple[tuple[float | None, str], ...] = ((None, "green"),),
    stack: bool = False,
    mappings: list[dict[str, Any]] | None = None,
    decimals: int | None = None,
    options: dict[str, Any] | None = None,
    per_query: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": unit, "thresholds": thresholds(*steps), "mappings": mappings or []}
    if decimals is not None:
        defaults["decimals"] = decimals
    if kind == "timeseries":
        defaults["custom"] = {
            "drawStyle": "line",
            "lineWidth": 1,
            "fillOpacity": 20 if stack else 10,
            "stacking": {"mode": "normal" if stack else "none", "group": "A"},
            "showPoints": "never",
            "spanNulls": False,
            "thresholdsStyle": {"mode": "off" if len(steps) == 1 else "dashed"},
        }
        defaults["color"] = {"mode": "palette-classic"}
    else:
        defaults["color"] = {"mode": "thresholds"}
    opts: dict[str, Any] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
    if kind == "timeseries":
        opts = {
            "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
    elif kind == "stat":
        opts.update({"colorMode": "background", "graphMode": "area", "textMode": "value_and_name"})
    elif kind == "bargauge":
        opts.update({"displayMode": "gradient", "orientation": "horizontal", "showUnfilled": True})
    opts.update(options or {})
    refs = "ABCDEFGH"
    for i, t in enumerate(targets):
        t["refId"] = refs[i]
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": overrides(per_query or {})},
        "options": opts,
    }


def ingest(d: Layout) -> None:
    d.row("Ingest and detection (workers)")
    d.add(
        panel(
            "timeseries",
            "Throughput: records consumed per second, by worker and topic",
            "Records the workers read from the input topics (valid and invalid). A flat zero while producers "
            "are publishing means the workers are stuck: check the 'Consumer lag' panel and the worker logs "
            "(`docker compose logs worker`). Alert: HrwatchNoRecords.",
            [
                target(
                    f"sum by (instance, topic) (rate(hrwatch_records_in_total{{{WORKER}}}[$__rate_interval]))",
                    "{{instance}} {{topic}}",
                )
            ],
            unit="suffix: rec/s",
            stack=True,
        ),
        12,
        8,
    )
    d.add(
        panel(
            "timeseries",
            "Dead letters per second, by topic and reason",
            "Messages that failed validation (json, schema, oversize, empty, wrong_topic) or made a detector "
            "fail (detector_error) and went to hr.deadletter.v1 with their bytes. A spike after a producer "
            "release means the producer sends malformed records: read a few from hr.deadletter.v1 (the "
            "`error` field names the field) and contact that producer. detector_error is our bug: open an "
            "issue with the raw record. Alert: HrwatchDeadLetterSpike.",
            [
                target(
                    f"sum by (topic, reason) (rate(hrwatch_validation_failures_total{{{WORKER}}}[$__rate_interval]))",
                    "{{topic}} {{reason}}",
                )
            ],
            unit="suffix: msg/s",
            steps=((None, "green"), (1, "red")),
        ),
        8,
        8,
    )
    d.add(
        panel(
            "stat",
            "Dead-letter ratio (5 min)",
            "Share of consumed records that were dead-lettered over the last 5 minutes (recording rule "
            "hrwatch:dead_letter_ratio:rate5m). Above 5% for a topic the alert fires; see the panel on the "
            "left for the reason.",
            [
                target(
                    'max by (topic) (hrwatch:dead_letter_ratio:rate5m{job="hrwatch-worker"})', "{{topic}}", instant=True
                )
            ],
            unit="percentunit",
            decimals=2,
            steps=((None, "green"), (0.01, "yellow"), (0.05, "red")),
        ),
        4,
        8,
    )

    d.add(
        panel(
            "timeseries",
            "Findings per minute, by category",
            "New findings stored (a redelivered record adds none). A category dropping to zero while "
            "records still flow usually means a detector data file failed to load or a rule was disabled: "
            "compare with `hrwatch detect` on a recent sample.",
            [
                target(
                    f"sum by (category) (rate(hrwatch_findings_total{{{WORKER}}}[$__rate_interval])) * 60",
                    "{{category}}",
                )
            ],
            unit="suffix: /min",
            stack=True,
        ),
        8,
        8,
    )
    d.add(
        panel(
            "bargauge",
            "Findings by severity (dashboard time range)",
            "New findings in the selected time range by severity. A jump in critical findings is worth a "
            "look in the review queue (sort by severity) and the share panels (critical fraud lures go to "
            "the police immediately).",
            [
                target(
                    f"sum by (severity) (increase(hrwatch_findings_total{{{WORKER}}}[$__range]))",
                    "{{severity}}",
                    instant=True,
                )
            ],
            decimals=0,
        ),
        8,
        8,
    )
    d.add(
        panel(
            "table",
            "Top rules (dashboard time range)",
            "The ten rules that fired most in the selected range. One rule suddenly dominating is either "
            "a campaign (many similar postings: check the review queue's cases) or a false-positive "
            "regression after a detector change.",
            [
                target(
                    f"topk(10, sum by (category, rule, severity) (increase(hrwatch_findings_total{{{WORKER}}}"
                    "[$__range])))",
                    instant=True,
                )
            ],
            decimals=0,
            options={"showHeader": True, "sortBy": [{"displayName": "Value", "desc": True}]},
        ),
        8,
        8,
    )

    d.add(
        panel(
            "timeseries",
            "Ingest → finding latency p50 / p99",
            "Time from a record's publication to its findings being stored (every valid record). When the "
            "workers keep up this is well under a second; minutes mean a backlog is being drained: check "
            "'Consumer lag' and scale the workers (they scale by partitions). Alert: "
            "HrwatchIngestLatencyHigh (p99 over 60 s for 15 min).",
            [
                target('max(hrwatch:ingest_to_finding_seconds:p50_5m{job="hrwatch-worker"})', "p50 (5 min)"),
                target('max(hrwatch:ingest_to_finding_seconds:p99_5m{job="hrwatch-worker"})', "p99 (5 min)"),
                target(
                    f"histogram_quantile(0.99, sum by (instance, le) (rate(hrwatch_ingest_to_finding_seconds_"
                    f"bucket{{{WORKER}}}[$__rate_interval])))",
                    "p99 {{instance}}",
                ),
            ],
            unit="s",
            steps=((None, "green"), (5, "yellow"), (60, "red")),
        ),
        12,
        8,
    )
    d.add(
        panel(
            "timeseries",
            "Consumer lag by topic (messages)",
            "Messages published but not yet processed, summed over partitions (high watermark of the last "
            "fetch minus the next offset). Lag that keeps growing means the workers are slower than the "
            "producers or stuck on a failing store write (worker log: 'retrying'). Add workers (up to the "
            "partition count) or check PostgreSQL. Alert: HrwatchConsumerLagGrowing.",
            [
                target(f"sum by (topic) (hrwatch_consumer_lag{{{WORKER}}})", "{{topic}}"),
                target(
                    f"max by (instance, topic, partition) (hrwatch_consumer_lag{{{WORKER}}})",
                    "{{instance}} {{topic}}[{{partition}}]",
                ),
            ],
            steps=((None, "green"), (1000, "yellow"), (10000, "red")),
        ),
        12,
        8,
    )

    d.add(
        panel(
            "timeseries",
            "Batches per second, by worker and agent",
            "Store transactions per worker. A worker whose line drops to zero while others work has lost "
            "its partitions or is stuck; a missing worker should also show in 'Scrape targets'.",
            [
                target(
                    f"sum by (instance, agent) (rate(hrwatch_batches_total{{{WORKER}}}[$__rate_interval]))",
                    "{{instance}} {{agent}}",
                )
            ],
            unit="suffix: batch/s",
        ),
        12,
        7,
    )
    d.add(
        panel(
            "stat",
            "Registry records in memory, per worker",
            "Filings and registrations each worker holds to check postings against. Every worker should "
            "show the same number; one that lags behind is still catching up from the store.",
            [target(f"max by (instance) (hrwatch_registry_records_applied{{{WORKER}}})", "{{instance}}", instant=True)],
            decimals=0,
        ),
        6,
        7,
    )
    d.add(
        panel(
            "stat",
            "Scrape targets up",
            "1 = Prometheus reaches the process's /metrics. A 0 means the process is down or its metrics "
            "port is unreachable: `docker compose ps`, then the process's log. Alert: HrwatchTargetDown.",
            [target('up{job=~"hrwatch-.*", instance=~"$instance"}', "{{job}} {{instance}}", instant=True)],
            steps=((None, "red"), (1, "green")),
            mappings=[{"type": "value", "options": {"0": {"text": "DOWN"}, "1": {"text": "UP"}}}],
        ),
        6,
        7,
    )


def review(d: Layout) -> None:
    # One store behind every `hrwatch serve` replica: max, not sum, across instances.
    d.row("Review queue (store)")
    d.add(
        panel(
            "stat",
            "Open alerts by severity",
            "Alerts waiting for a decision (new + in review). Read from the store at scrape time, so every "
            "replica of `hrwatch serve` reports the same numbers. Growth beyond what the reviewers clear "
            "per day (see 'Decisions') means the queue needs more reviewers or tighter routing.",
            [
                target(
                    f"max by (severity) (sum by (instance, severity) (hrwatch_review_open_alerts{{{REVIEW}}}))",
                    "{{severity}}",
                    instant=True,
                )
            ],
            decimals=0,
        ),
        8,
        7,
    )
    d.add(
        panel(
            "stat",
            "Alerts past their SLA",
            "Open alerts whose decision is overdue (critical 24 h, high 72 h, medium 7 d, low 14 d — "
            "review/lifecycle.py). Anything above zero for critical or high: tell the duty supervisor to "
            "assign them (queue sorted by 'due'). Alert: HrwatchReviewPastSla.",
            [target(f"max by (severity) (hrwatch_review_overdue_alerts{{{REVIEW}}})", "{{severity}}", instant=True)],
            decimals=0,
            steps=((None, "green"), (1, "red")),
        ),
        8,
        7,
    )
    d.add(
        panel(
            "stat",
            "Oldest open alert, by severity",
            "Age of the oldest alert still waiting for a decision. Compare with the SLA of its severity; "
            "an old low-severity alert is expected, an old critical one is not.",
            [
                target(
                    f"max by (severity) (hrwatch_review_oldest_open_alert_age_seconds{{{REVIEW}}})",
                    "{{severity}}",
                    instant=True,
                )
            ],
            unit="s",
            steps=((None, "green"), (86400, "yellow"), (259200, "red")),
        ),
        8,
        7,
    )
    d.add(
        panel(
            "timeseries",
            "Queue backlog by status and severity",
            "Open alerts over time, stacked. A steady climb while decisions continue means intake exceeds "
            "review capacity.",
            [target(f"max by (status, severity) (hrwatch_review_open_alerts{{{REVIEW}}})", "{{status}} {{severity}}")],
            stack=True,
            decimals=0,
        ),
        12,
        8,
    )
    d.add(
        panel(
            "timeseries",
            "Decisions per hour, by action",
            "Lifecycle actions reviewers and supervisors take (confirm, dismiss, escalate, share, …). "
            "Zero during office hours with a non-empty backlog: check that the web UI is reachable and "
            "logins work.",
            [
                target(
                    f"max by (action) (rate(hrwatch_review_decisions_total{{{REVIEW}}}[$__rate_interval])) * 3600",
                    "{{action}}",
                )
            ],
            unit="suffix: /h",
        ),
        12,
        8,
    )
    d.add(
        panel(
            "stat",
            "Decision events waiting to be published",
            "Decisions written to the outbox but not yet on hr.reviews.v1; sharing after confirmation waits "
            "for them. A number that stays up means `hrwatch serve` cannot reach Kafka (HRWATCH_KAFKA, "
            "broker health). Alert: HrwatchReviewOutboxStuck.",
            [
                target(f"max(hrwatch_review_outbox_pending_events{{{REVIEW}}})", "pending", instant=True),
                target(
                    f"max(hrwatch_review_outbox_oldest_pending_age_seconds{{{REVIEW}}})", "oldest (s)", instant=True
                ),
            ],
            decimals=0,
            steps=((None, "green"), (100, "yellow"), (1000, "red")),
            per_query={"B": {"unit": "s", "steps": ((None, "green"), (60, "yellow"), (600, "red"))}},
        ),
        12,
        6,
    )
    d.add(
        panel(
            "stat",
            "Queue store reachable",
            "1 when the last metrics query against the queue's database succeeded, per `hrwatch serve` "
            "replica. 0: the database is down or the credentials changed — the web UI is failing too. "
            "Alert: HrwatchReviewStoreDown.",
            [
                target(f"min by (instance) (hrwatch_review_store_up{{{REVIEW}}})", "{{instance}}", instant=True),
                target(
                    f"max by (instance) (hrwatch_review_metrics_query_seconds{{{REVIEW}}})",
                    "query time {{instance}}",
                    instant=True,
                ),
            ],
            steps=((None, "red"), (1, "green")),
            per_query={"B": {"unit": "s", "steps": ((None, "green"), (1, "yellow"), (5, "red"))}},
        ),
        12,
        6,
    )


def sharing(d: Layout) -> None:
    d.row("Sharing with partner departments")
    d.add(
        panel(
            "timeseries",
            "Envelopes shared per minute, by partner",
            "Signed, minimised findings published to hr.share.<partner>.v1 and acknowledged by the broker "
            "(immediate routes, and after a confirmation or a supervisor's share). A partner at zero for a "
            "long time while findings of its routes arrive: run `hrwatch share policy --keys`.",
            [
                target(
                    f"sum by (partner, trigger) (rate(hrwatch_share_shared_total{{{SHARING}}}[$__rate_interval])) * 60",
                    "{{partner}} {{trigger}}",
                )
            ],
            unit="suffix: /min",
            stack=True,
        ),
        12,
        8,
    )
    d.add(
        panel(
            "bargauge",
            "Shared and receipted (dashboard time range)",
            "Envelopes shared vs receipts partners sent back. Shared without receipts for an hour means the "
            "partner's subscriber is down or rejects our envelopes (key rotation?). The publisher re-sends "
            "unacknowledged envelopes. Alert: HrwatchShareReceiptsMissing.",
            [
                target(
                    f"sum by (partner) (increase(hrwatch_share_shared_total{{{SHARING}}}[$__range]))",
                    "shared {{partner}}",
                    instant=True,
                ),
                target(
                    f"sum by (partner, status) (increase(hrwatch_share_receipted_total{{{SHARING}}}[$__range]))",
                    "receipt {{partner}} {{status}}",
                    instant=True,
                ),
            ],
            decimals=0,
        ),
        12,
        8,
    )
    d.add(
        panel(
            "timeseries",
            "Findings held for a partner",
            "Findings waiting before they may be shared: for a reviewer's confirmation, or for their "
            "subject record to be stored. A growing 'confirmation' backlog follows the review queue; a "
            "growing 'subject' backlog means postings' findings arrive without the posting being stored.",
            [
                target(
                    f"sum by (partner, waiting_for) (hrwatch_share_waiting{{{SHARING}}})",
                    "{{partner}} waiting for {{waiting_for}}",
                )
            ],
            decimals=0,
        ),
        12,
        7,
    )
    d.add(
        panel(
            "timeseries",
            "Messages the share publisher could not read",
            "Messages on hr.findings.v1 or hr.reviews.v1 (or receipts) that the publisher skipped because "
            "they are not valid JSON of the expected shape. Any: find the producer of that topic. "
            "Alert: HrwatchShareInvalidInput.",
            [
                target(
                    f"sum by (topic) (increase(hrwatch_share_invalid_input_total{{{SHARING}}}[$__rate_interval]))",
                    "{{topic}}",
                )
            ],
            decimals=0,
            steps=((None, "green"), (1, "red")),
        ),
        12,
        7,
    )
    d.add(
        panel(
            "bargauge",
            "Retractions (dashboard time range)",
            "Shared findings a regulator dismissed later: retractions sent to each partner (by dismissal "
            "reason), reinstatements after a reopen + confirm, and the partners' receipts for them. A "
            "retraction without a receipt: the partner still treats the finding as standing; call them.",
            [
                target(
                    f"sum by (partner, reason) (increase(hrwatch_share_retractions_sent_total{{{SHARING}}}[$__range]))",
                    "retracted {{partner}} {{reason}}",
                    instant=True,
                ),
                target(
                    f"sum by (partner) (increase(hrwatch_share_reinstatements_sent_total{{{SHARING}}}[$__range]))",
                    "reinstated {{partner}}",
                    instant=True,
                ),
                target(
                    f"sum by (partner, status) "
                    f"(increase(hrwatch_share_retractions_receipted_total{{{SHARING}}}[$__range]))",
                    "receipt {{partner}} {{status}}",
                    instant=True,
                ),
            ],
            decimals=0,
        ),
        12,
        7,
    )
    d.add(
        panel(
            "timeseries",
            "Receipts that failed verification",
            "Receipts on hr.share.receipts.v1 not signed by the partner's receipt key (unknown_key: the "
            "partner rotated its key, or <partner>-receipts.pub is missing here), altered (bad_signature), "
            "unsigned (schema) or from no partner of the policy. They are ignored: the envelope stays "
            "unreceipted. Check `hrwatch share policy --keys`.",
            [
                target(
                    f"sum by (partner, reason) "
                    f"(increase(hrwatch_share_receipts_rejected_total{{{SHARING}}}[$__rate_interval]))",
                    "{{partner}} {{reason}}",
                )
            ],
            decimals=0,
            steps=((None, "green"), (1, "red")),
        ),
        12,
        7,
    )


def scans(d: Layout) -> None:
    d.row("Nightly scan (hrwatch scan)")
    d.add(
        panel(
            "stat",
            "Since the last successful scan",
            "Time since `hrwatch scan` last finished without error. The scan runs nightly; over 26 h means "
            "the schedule (cron / CronJob) did not run it or it keeps failing. Alert: HrwatchScanMissing.",
            [target(f"time() - max(hrwatch_scan_last_success_timestamp_seconds{{{REVIEW}}})", "since", instant=True)],
            unit="s",
            steps=((None, "green"), (93600, "red")),
        ),
        6,
        6,
    )
    d.add(
        panel(
            "stat",
            "Last scan run",
            "Whether the latest scan run failed. FAILED: read the scan's output (CronJob log), fix, and run "
            "`hrwatch scan` again by hand. Alert: HrwatchScanFailed.",
            [target(f"max(hrwatch_scan_last_run_failed{{{REVIEW}}})", "last run", instant=True)],
            steps=((None, "green"), (1, "red")),
            mappings=[{"type": "value", "options": {"0": {"text": "OK"}, "1": {"text": "FAILED"}}}],
        ),
        6,
        6,
    )
    d.add(
        panel(
            "stat",
            "Last scan: duration, postings scanned, new findings",
            "What the latest scan did. A duration creeping towards the night's window, or zero postings "
            "scanned on a non-empty store, is worth a look before it becomes a failure.",
            [
                target(f"max(hrwatch_scan_last_duration_seconds{{{REVIEW}}})", "duration (s)", instant=True),
                target(f"max(hrwatch_scan_last_postings_scanned{{{REVIEW}}})", "postings scanned", instant=True),
                target(f"max(hrwatch_scan_last_new_findings{{{REVIEW}}})", "new findings", instant=True),
            ],
            decimals=0,
        ),
        6,
        6,
    )
    d.add(
        panel(
            "bargauge",
            "Scan runs by outcome",
            "Scan runs recorded in the store, by outcome (completed, failed, interrupted, running). A "
            "'running' that stays at 1 past the night's window is a hung scan (its lock is taken over after "
            "HRWATCH_SCAN_LOCK_STALE_SECONDS); failures and interruptions resume the pass on the next run.",
            [target(f"max by (status) (hrwatch_scan_runs{{{REVIEW}}})", "{{status}}", instant=True)],
            decimals=0,
        ),
        6,
        6,
    )


def variables() -> list[dict[str, Any]]:
    return [
        {
            "type": "datasource",
            "name": "datasource",
            "label": "Prometheus",
            "query": "prometheus",
            "current": {"text": "Prometheus", "value": "hrwatch-prometheus"},
            "hide": 0,
            "refresh": 1,
        },
        {
            "type": "query",
            "name": "instance",
            "label": "Instance",
            "datasource": DS,
            "query": {"query": 'label_values(up{job=~"hrwatch-.*"}, instance)', "refId": "instance"},
            "definition": 'label_values(up{job=~"hrwatch-.*"}, instance)',
            "refresh": 2,
            "multi": True,
            "includeAll": True,
            "allValue": ".*",
            "current": {"text": "All", "value": "$__all"},
            "sort": 1,
        },
    ]


def build() -> dict[str, Any]:
    d = Layout()
    for section in (ingest, review, sharing, scans):
        section(d)
    return {
        "uid": "hrwatch-overview",
        "title": "hrwatch — pipeline, review queue, sharing, scans",
        "description": f"Operations overview of hrwatch. Alert rules and runbook: {RUNBOOK}.",
        "tags": ["hrwatch"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": variables()},
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                },
            ]
        },
        "links": [],
        "panels": d.panels,
    }


def render() -> str:
    return json.dumps(build(), ensure_ascii=False, indent=2) + "\n"


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
