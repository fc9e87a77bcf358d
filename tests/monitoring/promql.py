"""Every PromQL expression of the deployment (dashboard panels, template variables, rule files), and a Prometheus child process."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from streams.broker import child_dies_with_parent

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "hrwatch.json"
PROMETHEUS_YML = DEPLOY / "prometheus" / "prometheus.yml"
RULE_FILES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
PROMETHEUS_BIN = "/usr/bin/prometheus"
PROMTOOL_BIN = "/usr/bin/promtool"
# Grafana's built-in interval variables, as Grafana would fill them for a short scrape interval
# and a dashboard range covering the whole test.
BUILTINS = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h"}
METRIC_NAME = re.compile(r"\b(hrwatch[_:][a-zA-Z0-9_:]*|up)\b(?!\s*\()")


@dataclass(frozen=True)
class Query:
    """One PromQL expression and where it comes from (for messages)."""

    where: str
    expr: str


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def all_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Panels in document order, rows' nested panels included."""
    out: list[dict[str, Any]] = []
    for p in panels:
        out.append(p)
        out.extend(all_panels(p.get("panels", [])))
    return out


def substitute(expr: str, board: dict[str, Any]) -> str:
    """Template variables → their 'All' value (or current value); Grafana's built-ins → fixed durations."""
    for var in board["templating"]["list"]:
        value = var.get("allValue") if var.get("includeAll") else var.get("current", {}).get("value")
        for form in (f"${{{var['name']}}}", f"${var['name']}"):
            expr = expr.replace(form, str(value))
    for name, value in BUILTINS.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unsubstituted variable in {expr!r}"
    return expr


def dashboard_queries(board: dict[str, Any] | None = None) -> list[Query]:
    """Every target expression of every panel, variables substituted."""
    board = board or dashboard()
    out = []
    for p in all_panels(board["panels"]):
        for t in p.get("targets", []):
            out.append(Query(f"panel {p['id']} {p['title']!r} target {t['refId']}", substitute(t["expr"], board)))
    return out


def variable_queries(board: dict[str, Any] | None = None) -> list[tuple[Query, str]]:
    """label_values(selector, label) of the query variables: (the selector as a query, the label)."""
    board = board or dashboard()
    out = []
    for var in board["templating"]["list"]:
        if var["type"] != "query":
            continue
        q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
        m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", q.strip())
        assert m, f"variable {var['name']}: only label_values(selector, label) is supported, got {q!r}"
        out.append((Query(f"variable {var['name']}", substitute(m.group(1), board)), m.group(2)))
    return out


def rules() -> list[dict[str, Any]]:
    """Every rule of every rule file, with `file` and `group` added."""
    out = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                out.append({**rule, "file": path.name, "group": group["name"]})
    return out


def rule_queries() -> list[Query]:
    return [Query(f"{r['file']} {r.get('alert') or r.get('record')}", r["expr"].strip()) for r in rules()]


def metric_names(expr: str) -> set[str]:
    """Metric names (ours and `up`) an expression reads; function names and label names are not matched."""
    # Drop label matchers and strings first: {job="hrwatch-worker"} must not count as a metric.
    bare = re.sub(r'"[^"]*"', '""', expr)
    bare = re.sub(r"\bby\s*\([^)]*\)|\bwithout\s*\([^)]*\)|\bon\s*\([^)]*\)|\bignoring\s*\([^)]*\)", "", bare)
    return set(METRIC_NAME.findall(bare))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrometheusError(RuntimeError):
    """The Prometheus HTTP API answered with an error (bad expression, evaluation failure)."""


class PrometheusServer:
    """Debian's /usr/bin/prometheus on 127.0.0.1, a temporary TSDB, the given config; stopped with SIGTERM."""

    def __init__(self, config: Path, directory: Path) -> None:
        self.config = config
        self.directory = directory
        self.log = directory / "prometheus.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> PrometheusServer:
        # The port is chosen before Prometheus binds it; if another process takes it meanwhile, try another.
        for _attempt in range(3):
            self.port = free_port()
            with open(self.log, "ab") as out:
                self.process = subprocess.Popen(
                    [
                        PROMETHEUS_BIN,
                        f"--config.file={self.config}",
                        f"--storage.tsdb.path={self.directory / 'tsdb'}",
                        f"--web.listen-address=127.0.0.1:{self.port}",
                        "--web.enable-lifecycle",
                        "--log.level=warn",
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    preexec_fn=child_dies_with_parent,
                )
            if self._wait_ready(timeout):
                return self
            if "address already in use" not in self.log_tail():
                break
        raise RuntimeError(f"Prometheus did not become ready:\n{self.log_tail()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)  # polling the condition "ready", bounded by the deadline
        return False

    def log_tail(self, limit: int = 4000) -> str:
        return self.log.read_bytes()[-limit:].decode("utf-8", "replace") if self.log.exists() else "(no log)"

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path>; the `data` of a success, PrometheusError with Prometheus's message otherwise."""
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                body = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read() or b"{}")
            raise PrometheusError(f"{exc.code} {body.get('errorType')}: {body.get('error')}") from None
        if body.get("status") != "success":
            raise PrometheusError(f"{body.get('errorType')}: {body.get('error')}")
        if body.get("warnings"):
            raise PrometheusError(f"warnings: {body['warnings']}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector (scalars and strings as one-element lists)."""
        data = self.api("query", query=expr)
        if data["resultType"] in ("scalar", "string"):
            return [{"metric": {}, "value": data["result"]}]
        return list(data["result"])

    def stop(self, timeout: float = 30) -> None:
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def scrape_config_for(targets: dict[str, list[str]], scrape_interval: str = "1s") -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with each job's discovery replaced by the given targets, rules by path."""
    config = yaml.safe_load(PROMETHEUS_YML.read_text(encoding="utf-8"))
    config["global"]["scrape_interval"] = scrape_interval
    config["global"]["evaluation_interval"] = scrape_interval
    config["rule_files"] = [str(PROMETHEUS_YML.parent / f) for f in config["rule_files"]]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(targets) <= set(jobs), f"jobs {sorted(set(targets) - set(jobs))} are not in prometheus.yml"
    for name, job in jobs.items():
        for key in [k for k in job if k.endswith("_sd_configs") or k == "static_configs"]:
            del job[key]
        job["static_configs"] = [{"targets": targets.get(name, [])}]
    return config
