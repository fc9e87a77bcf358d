"""deploy/ parts agree with each other and with the code: scrape targets, partitions, topics, mounted files, secrets, pod hardening."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sharing.policy import load_policy
from sharing.topics import receipts_topic, share_topic
from streams.topics import TopicNames
from tests.deploy.deployment import (
    DEPLOY,
    DOCKERFILE,
    PROMETHEUS_CONFIG,
    REPO,
    SECRET_PLACEHOLDER,
    K8sDoc,
    compose,
    compose_raw,
    config_maps,
    containers,
    env_example,
    environment_of,
    generated_config_maps,
    hrwatch_services,
    is_hrwatch_image,
    k8s_documents,
    pod_labels,
    pod_spec,
    source_name,
    volume_sources,
)

# -- Prometheus scrape targets ---------------------------------------------------------------------


def scrape_targets() -> list[tuple[str, str, int]]:
    """(job, host, port) of every target in deploy/prometheus/prometheus.yml (static and DNS discovery)."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text(encoding="utf-8"))
    found = []
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            for target in static["targets"]:
                host, _, port = target.rpartition(":")
                found.append((job["job_name"], host, int(port)))
        for dns in job.get("dns_sd_configs", []):
            for name in dns["names"]:
                found.append((job["job_name"], name, int(dns["port"])))
    return found


def test_prometheus_config_has_hrwatch_targets() -> None:
    hosts = {host for _, host, _ in scrape_targets()}
    assert {"worker", "review", "share-publisher"} <= hosts, hosts


@pytest.mark.parametrize(("job", "host", "port"), scrape_targets(), ids=lambda v: str(v))
def test_scrape_target_is_a_compose_service_listening_there(job: str, host: str, port: int) -> None:
    services = compose()["services"]
    if host == "localhost":  # Prometheus scraping itself
        host = "prometheus"
    assert host in services, f"job {job}: no compose service {host!r} (services: {sorted(services)})"
    svc = services[host]
    assert str(port) in svc.get("expose", []), f"job {job}: {host} does not expose {port}"
    if is_hrwatch_image(str(svc.get("image", ""))):
        env = environment_of(svc)
        assert env.get("HRWATCH_METRICS_PORT") == str(port), f"{host} serves /metrics on {env.get('HRWATCH_METRICS_PORT')}"
        assert env.get("HRWATCH_METRICS_HOST") == "0.0.0.0", f"{host}: /metrics must listen beyond loopback"


def _service(name: str) -> K8sDoc | None:
    return next((d for d in k8s_documents() if d.kind == "Service" and d.name == name), None)


def _selected_workloads(service: K8sDoc) -> list[K8sDoc]:
    selector = service.doc["spec"]["selector"]
    return [
        d for d in k8s_documents()
        if pod_spec(d.doc) is not None and d.kind != "CronJob" and d.kind != "Job"
        and selector.items() <= pod_labels(d.doc).items()
    ]


@pytest.mark.parametrize(
    ("job", "host", "port"), [t for t in scrape_targets() if t[1] != "localhost"], ids=lambda v: str(v)
)
def test_scrape_target_is_a_kubernetes_service_whose_pods_serve_metrics_there(job: str, host: str, port: int) -> None:
    """The same prometheus.yml works in the hrwatch namespace (deploy/k8s/monitoring): DNS names are headless Services."""
    service = _service(host)
    assert service is not None, f"job {job}: no Service {host!r} under deploy/k8s"
    assert service.doc["spec"].get("clusterIP") == "None", f"{service} should be headless: DNS must list every pod"
    ports = {p["port"]: p for p in service.doc["spec"]["ports"]}
    assert port in ports, f"{service} has no port {port}"
    workloads = _selected_workloads(service)
    assert workloads, f"{service} selects no workload"
    for w in workloads:
        spec = pod_spec(w.doc)
        assert spec is not None
        main = [c for kind, c in containers(spec) if kind == "main"]
        served = {p["containerPort"] for c in main for p in c.get("ports", [])}
        assert port in served, f"{w}: no container port {port}"
        env = {e["name"]: e.get("value") for c in main for e in c.get("env", [])}
        assert env.get("HRWATCH_METRICS_PORT") == str(port), f"{w}: HRWATCH_METRICS_PORT is not {port}"
        annotations = w.doc["spec"]["template"]["metadata"].get("annotations", {})
        assert annotations.get("prometheus.io/port") == str(port), f"{w}: prometheus.io/port annotation"


def test_grafana_datasource_points_at_the_prometheus_service() -> None:
    datasources = yaml.safe_load((DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text("utf-8"))
    url = datasources["datasources"][0]["url"]
    host, port = re.fullmatch(r"http://([\w-]+):(\d+)", url).groups()  # type: ignore[union-attr]
    assert port in compose()["services"][host]["expose"]
    service = _service(host)
    assert service is not None and int(port) in {p["port"] for p in service.doc["spec"]["ports"]}


# -- partitions, replicas, topics ------------------------------------------------------------------


def _platform_config() -> dict[str, str]:
    return config_maps()["hrwatch-config"]


def test_compose_workers_do_not_outnumber_partitions() -> None:
    for env in (env_example(), {}):  # with deploy/.env from the example, and with the file's own defaults
        doc = compose({**env, "POSTGRES_PASSWORD": "x", "REVIEW_SECRET_KEY": "x", "GRAFANA_ADMIN_PASSWORD": "x"})
        replicas = int(doc["services"]["worker"]["deploy"]["replicas"])
        partitions = int(environment_of(doc["services"]["worker"])["HRWATCH_PARTITIONS"])
        topics_partitions = int(environment_of(doc["services"]["kafka-topics"])["PARTITIONS"])
        assert 1 <= replicas <= partitions == topics_partitions


def test_kubernetes_consumers_do_not_outnumber_partitions() -> None:
    partitions = int(_platform_config()["HRWATCH_PARTITIONS"])
    for name in ("worker", "share-publisher"):
        deployment = next(d for d in k8s_documents() if d.kind == "Deployment" and d.name == name)
        assert 1 <= deployment.doc["spec"]["replicas"] <= partitions, f"{deployment}"
    partner = config_maps()["subscriber-config"]
    assert partner["HRWATCH_PARTITIONS"] == str(partitions)


def test_topics_job_takes_its_partition_count_from_the_hrwatch_settings() -> None:
    job = next(d for d in k8s_documents() if d.kind == "Job" and d.name == "kafka-topics")
    env = {e["name"]: e for e in job.doc["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["PARTITIONS"]["valueFrom"]["configMapKeyRef"] == {"name": "hrwatch-config", "key": "HRWATCH_PARTITIONS"}


def _expected_topics() -> set[str]:
    names = TopicNames("")
    partners = load_policy(None).partners
    return {*names.all(), receipts_topic(names), *(share_topic(names, p) for p in partners)}


def test_topic_lists_are_every_topic_the_code_uses() -> None:
    expected = _expected_topics()
    compose_topics = set(environment_of(compose()["services"]["kafka-topics"])["TOPICS"].split())
    k8s_topics = set(config_maps()["kafka-topics"]["TOPICS"].split())
    assert compose_topics == expected
    assert k8s_topics == expected


def test_replication_survives_one_broker_down() -> None:
    topics = config_maps()["kafka-topics"]
    kafka = next(d for d in k8s_documents() if d.kind == "StatefulSet" and d.name == "kafka").doc
    brokers = kafka["spec"]["replicas"]
    assert int(topics["REPLICATION_FACTOR"]) == brokers == 3
    assert int(topics["MIN_INSYNC_REPLICAS"]) == brokers - 1
    voters = next(e["value"] for e in kafka["spec"]["template"]["spec"]["containers"][0]["env"]
                  if e["name"] == "KAFKA_CONTROLLER_QUORUM_VOTERS")
    assert [v.split("@")[0] for v in voters.split(",")] == [str(i) for i in range(brokers)]


# -- files the deployment reads --------------------------------------------------------------------


def _bind_sources() -> list[tuple[str, str]]:
    found = []
    for name, svc in compose_raw()["services"].items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith((".", "/")):
                found.append((name, source))
    return found


@pytest.mark.parametrize(("service", "source"), _bind_sources(), ids=lambda v: str(v))
def test_compose_bind_mounts_exist_in_the_repository(service: str, source: str) -> None:
    assert not source.startswith("/"), f"{service}: absolute host path {source} ties the file to one machine"
    assert (DEPLOY / source).exists(), f"{service} mounts {source}, which is not in the repository"


def test_compose_build_and_dockerfile_copy_sources_exist() -> None:
    build = compose_raw()["x-hrwatch-image"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    assert context == REPO
    assert (context / build["dockerfile"]).resolve() == DOCKERFILE
    copied = []
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied.extend(line.split()[1:-1])
    assert copied
    for source in copied:
        assert (REPO / source).exists(), f"deploy/Dockerfile copies {source}, which is missing"
    # The package's own sources are all copied (a new top-level package would otherwise be missing at run time).
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    packages = re.search(r"include = \[([^\]]*)\]", pyproject).group(1)  # type: ignore[union-attr]
    for pkg in re.findall(r'"(\w+)\*"', packages):
        assert pkg in copied, f"deploy/Dockerfile does not copy package {pkg}"


def test_config_maps_used_by_pods_exist_with_their_keys() -> None:
    defined = config_maps()
    generated = generated_config_maps()
    # Made by the operator from files outside the repository (deploy/README.md says how).
    operator_made = {"police-verify-key", "hrwatch-receipt-keys"}
    for d in k8s_documents():
        spec = pod_spec(d.doc)
        if spec is None:
            continue
        refs: list[tuple[str, str | None]] = []
        for volume in spec.get("volumes", []):
            for kind, source, _mode in volume_sources(volume):
                if kind == "configMap":
                    refs.extend((source["name"], item["key"]) for item in source.get("items", [None]) if item)
                    refs.append((source["name"], None))
        for _kind, c in containers(spec):
            refs.extend((r["configMapRef"]["name"], None) for r in c.get("envFrom", []) if "configMapRef" in r)
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("configMapKeyRef")
                if ref:
                    refs.append((ref["name"], ref["key"]))
            if "command" in c and c["command"][0] in ("python", "/bin/sh"):
                for arg in c["command"][1:]:
                    if arg.startswith("/etc/hrwatch/scripts/"):
                        files = [p.name for p in generated.get("hrwatch-scripts", [])]
                        assert Path(arg).name in files, f"{d}: {arg} is not in the hrwatch-scripts ConfigMap"
        for name, key in refs:
            if name in operator_made:
                assert name in (DEPLOY / "README.md").read_text(encoding="utf-8"), f"{name} not documented"
                continue
            assert name in defined or name in generated, f"{d}: ConfigMap {name} is defined nowhere"
            if key is not None and name in defined:
                assert key in defined[name], f"{d}: ConfigMap {name} has no key {key}"


# -- secrets ---------------------------------------------------------------------------------------

SECRET_SETTINGS = ("HRWATCH_DATABASE_PASSWORD", "HRWATCH_REVIEW_SECRET_KEY", "HRWATCH_SHARE_SIGNING_KEYS")


def test_no_secret_is_in_the_repository_or_the_image() -> None:
    assert not [d for d in k8s_documents() if d.kind == "Secret"], "Secrets are created by the operator, not committed"
    example = env_example()
    for key in ("POSTGRES_PASSWORD", "REVIEW_SECRET_KEY", "GRAFANA_ADMIN_PASSWORD"):
        assert example[key] == "", f".env.example must not carry a value for {key}"
    for name, svc in compose()["services"].items():
        for key, value in environment_of(svc).items():
            if key.startswith(SECRET_SETTINGS) or key.endswith("PASSWORD"):
                assert value == SECRET_PLACEHOLDER, f"compose {name}: {key} must come from deploy/.env"
    for d in k8s_documents():
        if d.kind == "ConfigMap":
            assert not [k for k in d.doc.get("data", {}) if k.startswith(SECRET_SETTINGS)], f"{d} holds a secret"
        spec = pod_spec(d.doc)
        for _kind, c in containers(spec) if spec else ():
            for e in c.get("env", []):
                if e["name"].startswith(SECRET_SETTINGS) or e["name"].endswith("PASSWORD"):
                    assert "secretKeyRef" in e.get("valueFrom", {}), f"{d}: {e['name']} must come from a Secret"
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert not re.search(r"(PASSWORD|SECRET|SIGNING_KEYS)\w*=", dockerfile)
    ignored = set((REPO / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".env", "keys/", "**/*.key", "*.db"} <= ignored
    gitignored = set((DEPLOY / ".gitignore").read_text(encoding="utf-8").split())
    assert {".env", "keys/"} <= gitignored


def test_secrets_used_by_pods_are_documented() -> None:
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for d in k8s_documents():
        spec = pod_spec(d.doc)
        if spec is None:
            continue
        names = {source_name(kind, source) for v in spec.get("volumes", [])
                 for kind, source, _mode in volume_sources(v) if kind == "secret"}
        for _kind, c in containers(spec):
            names |= {e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", [])
                      if "secretKeyRef" in e.get("valueFrom", {})}
        for name in names:
            assert f"create secret generic {name}" in readme, f"{d}: deploy/README.md does not say how to make {name}"


# -- pod hardening ---------------------------------------------------------------------------------

# The apache/kafka image writes its server.properties under /opt/kafka at start.
WRITABLE_ROOT = {("StatefulSet", "kafka")}


def _workloads() -> list[K8sDoc]:
    return [d for d in k8s_documents() if pod_spec(d.doc) is not None]


@pytest.mark.parametrize("workload", _workloads(), ids=str)
def test_pods_run_unprivileged_with_resources(workload: K8sDoc) -> None:
    spec = pod_spec(workload.doc)
    assert spec is not None
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert spec.get("automountServiceAccountToken") is False
    for _kind, c in containers(spec):
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False, c["name"]
        assert sc["capabilities"]["drop"] == ["ALL"], c["name"]
        assert sc["readOnlyRootFilesystem"] is ((workload.kind, workload.name) not in WRITABLE_ROOT), c["name"]
        for bound in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(c["resources"][bound]), f"{c['name']}: {bound}"
        if is_hrwatch_image(c["image"]):
            assert spec["securityContext"].get("runAsUser") == 10001  # the image's user
            mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
            assert c.get("command") == ["python", "/etc/hrwatch/scripts/wait-for-topics.py"] or "/tmp" in mounts, c["name"]


@pytest.mark.parametrize("workload", [w for w in _workloads() if w.kind in ("Deployment", "StatefulSet")], ids=str)
def test_long_running_containers_have_probes(workload: K8sDoc) -> None:
    spec = pod_spec(workload.doc)
    assert spec is not None
    for c in spec["containers"]:
        assert "livenessProbe" in c, c["name"]
        assert "readinessProbe" in c or "startupProbe" in c, c["name"]


def test_review_probes_use_its_health_endpoint() -> None:
    review = next(d for d in k8s_documents() if d.kind == "Deployment" and d.name == "review").doc
    c = review["spec"]["template"]["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/healthz"
    from review.web.app import create_app  # noqa: F401  (the endpoint lives there)

    source = (REPO / "review/web/app.py").read_text(encoding="utf-8")
    assert '@app.get("/healthz"' in source
    assert "/healthz" in str(compose()["services"]["review"]["healthcheck"]["test"])


def test_workers_have_a_disruption_budget() -> None:
    pdbs = [d for d in k8s_documents() if d.kind == "PodDisruptionBudget"]
    worker = next(d for d in k8s_documents() if d.kind == "Deployment" and d.name == "worker")
    selected = [p for p in pdbs if p.doc["spec"]["selector"]["matchLabels"].items() <= pod_labels(worker.doc).items()]
    assert len(selected) == 1
    assert selected[0].doc["spec"].get("maxUnavailable") == 1


def test_compose_hrwatch_services_are_hardened() -> None:
    services: dict[str, Any] = hrwatch_services(compose())
    assert {"worker", "review", "share-publisher", "scan", "migrate"} <= set(services)
    for name, svc in services.items():
        assert svc["user"] == "10001:10001", name
        assert svc["read_only"] is True, name
        assert svc["cap_drop"] == ["ALL"], name
        assert "/tmp" in svc["tmpfs"], name


def _image_venv() -> Path:
    match = re.search(r"python -m venv (\S+)", DOCKERFILE.read_text(encoding="utf-8"))
    assert match, "deploy/Dockerfile should install into a virtualenv"
    return Path(match.group(1))


def _overlaps(mount: str, protected: Path) -> bool:
    path = Path(mount)
    return path == protected or protected in path.parents or path in protected.parents


def test_no_volume_hides_the_installed_application() -> None:
    """A mount at (or above) the image's virtualenv would hide python and hrwatch from the container."""
    venv = _image_venv()
    for d in k8s_documents():
        spec = pod_spec(d.doc)
        for _kind, c in containers(spec) if spec else ():
            if is_hrwatch_image(c["image"]):
                for m in c.get("volumeMounts", []):
                    assert not _overlaps(m["mountPath"], venv), f"{d} {c['name']}: {m['mountPath']} covers {venv}"
    for name, svc in hrwatch_services(compose()).items():
        targets = [v.split(":")[1] if isinstance(v, str) else v["target"] for v in svc.get("volumes", [])]
        for target in [*targets, *svc.get("tmpfs", [])]:
            assert not _overlaps(target, venv), f"compose {name}: {target} covers {venv}"
    assert _overlaps("/opt/hrwatch", venv) and _overlaps("/opt", venv) and not _overlaps("/opt/other", venv)
