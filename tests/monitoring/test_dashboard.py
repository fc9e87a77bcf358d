"""The Grafana dashboard, provisioning files and Prometheus rules, checked offline: shape, ids, units, and metric names the code exports."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from collections.abc import Iterator

import pytest
import yaml
from prometheus_client import CollectorRegistry

from review.metrics import ReviewMetrics
from review.store import FindingStore
from sharing.metrics import ShareMetrics
from streams.metrics import StreamMetrics
from tests.monitoring.promql import (
    DASHBOARD,
    DEPLOY,
    PROMETHEUS_YML,
    PROMTOOL_BIN,
    RULE_FILES,
    all_panels,
    dashboard,
    dashboard_queries,
    metric_names,
    rule_queries,
    rules,
    variable_queries,
)

SAMPLE_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("_sum", "_count", ""),
}


def sample_names(registry: CollectorRegistry) -> set[str]:
    """Names as Prometheus stores them (counters with _total, histograms' _bucket/_sum/_count), samples or not."""
    names = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in SAMPLE_SUFFIXES.get(family.type, ("",)))
        names.update(s.name for s in family.samples)
    return names


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[set[str]]:
    """Every metric name the worker, the share publisher and `hrwatch serve` export, from their registries."""
    store = FindingStore(f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}")
    store.migrate()
    try:
        names = sample_names(StreamMetrics().registry) | sample_names(ShareMetrics().registry)
        names |= sample_names(ReviewMetrics(store.engine).registry)
        yield names
    finally:
        store.close()


def test_the_committed_json_is_the_generators_output() -> None:
    spec = importlib.util.spec_from_file_location("hrwatch_dashboard", DEPLOY / "grafana" / "dashboard.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert DASHBOARD.read_text(encoding="utf-8") == module.render(), (
        "deploy/grafana/dashboards/hrwatch.json is stale: run python deploy/grafana/dashboard.py"
    )


def test_every_panel_has_a_datasource_targets_a_description_and_a_unique_id() -> None:
    board = dashboard()
    assert board["uid"] and board["title"] and board["schemaVersion"] >= 36
    panels = all_panels(board["panels"])
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    data_panels = [p for p in panels if p["type"] != "row"]
    assert len(data_panels) >= 20
    cells: set[tuple[int, int]] = set()
    for p in panels:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0, p["title"]
        covered = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not covered & cells, f"panel {p['title']!r} overlaps another"
        cells |= covered
    for p in data_panels:
        where = f"panel {p['id']} {p['title']!r}"
        assert p["type"] in {"timeseries", "stat", "bargauge", "table", "gauge"}, where
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
        assert len(p.get("description", "")) > 60, f"{where}: say what on-call should do"
        assert p["fieldConfig"]["defaults"]["unit"], where
        assert p["fieldConfig"]["defaults"]["thresholds"]["steps"][0]["value"] is None, where
        targets = p["targets"]
        assert targets, where
        assert len({t["refId"] for t in targets}) == len(targets), where
        for t in targets:
            assert t["expr"].strip() and t["datasource"] == p["datasource"], where


def test_variables_datasource_and_provisioning_agree() -> None:
    board = dashboard()
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["instance"]["includeAll"] and variables["instance"]["multi"]
    used = " ".join(q.expr for q in dashboard_queries())
    assert 'instance=~".*"' in used, "panels must filter by the instance variable"
    provisioned = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text("utf-8"))
    (source,) = provisioned["datasources"]
    assert source["type"] == "prometheus" and source["uid"] == variables["datasource"]["current"]["value"]
    providers = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/hrwatch.yml").read_text("utf-8"))
    assert providers["providers"][0]["type"] == "file"


def test_queries_and_rules_read_only_metrics_the_code_exports(exported: set[str]) -> None:
    recorded = {r["record"] for r in rules() if "record" in r}
    known = exported | recorded | {"up"}
    for q in [*dashboard_queries(), *rule_queries(), *(q for q, _label in variable_queries())]:
        names = metric_names(q.expr)
        assert names, f"{q.where}: no metric found in {q.expr!r}"
        unknown = names - known
        assert not unknown, f"{q.where}: {sorted(unknown)} are exported by no registry"
    # And the other way round: everything the dashboard promises to show is read by some panel.
    shown = set().union(*(metric_names(q.expr) for q in dashboard_queries()))
    for prefix in (
        "hrwatch_records_in",
        "hrwatch_validation_failures",
        "hrwatch_findings",
        "hrwatch_consumer_lag",
        "hrwatch_ingest_to_finding_seconds",
        "hrwatch_review_open_alerts",
        "hrwatch_review_overdue",
        "hrwatch_share_shared",
        "hrwatch_share_receipted",
        "hrwatch_scan_last_run_failed",
        "hrwatch_scan_runs",
    ):
        assert any(n.startswith(prefix) or n.startswith(prefix.replace("hrwatch_", "hrwatch:")) for n in shown), prefix


def test_alert_rules_carry_severity_summary_and_a_runbook_section() -> None:
    readme = (DEPLOY / "prometheus" / "README.md").read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^a-z0-9-]", "", h.strip().lower().replace(" ", "-")) for h in re.findall(r"^#+ (.+)$", readme, re.M)
    }
    alerts = [r for r in rules() if "alert" in r]
    assert {a["alert"] for a in alerts} >= {
        "HrwatchConsumerLagGrowing",
        "HrwatchDeadLetterSpike",
        "HrwatchNoRecords",
        "HrwatchScanFailed",
        "HrwatchScanMissing",
        "HrwatchScanNeverCompleted",
    }
    for a in alerts:
        assert a["labels"]["severity"] in {"page", "ticket"}, a["alert"]
        assert a["annotations"]["summary"] and a["annotations"]["description"], a["alert"]
        anchor = a["annotations"]["runbook"].split("#", 1)[1]
        assert anchor == a["alert"].lower() and anchor in anchors, f"{a['alert']}: no runbook section in README"


def promtool(*args: str) -> str:
    result = subprocess.run([PROMTOOL_BIN, *args], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_promtool_accepts_the_config_and_the_rules() -> None:
    out = promtool("check", "config", str(PROMETHEUS_YML))
    assert "SUCCESS" in out
    assert f"{len(RULE_FILES)} rule files found" in out
    promtool("check", "rules", *map(str, RULE_FILES))


def test_promtool_unit_tests_of_the_alert_rules() -> None:
    tests = sorted((DEPLOY / "prometheus" / "tests").glob("*.yml"))
    assert tests, "deploy/prometheus/tests/*.yml: promtool unit tests of the alerts"
    promtool("test", "rules", *map(str, tests))
