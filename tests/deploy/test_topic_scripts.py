"""The topic scripts of deploy/: create-topics.sh against a recording kafka-topics.sh, wait-for-topics.py against Tansu."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.broker import EmbeddedBroker
from streams.topics import ensure_topics
from tests.conftest import StreamNames
from tests.deploy.deployment import K8S, config_maps

CREATE_TOPICS = K8S / "base" / "kafka" / "create-topics.sh"
WAIT_FOR_TOPICS = K8S / "base" / "wait-for-topics.py"

# A stand-in for Kafka's kafka-topics.sh that keeps topics in a JSON file and logs every call: what the script
# does to a cluster is then visible. Real Kafka is not available on this machine (no Docker daemon).
FAKE_KAFKA_TOPICS = """#!{python}
import json, os, sys
state_path, log_path = os.environ["FAKE_STATE"], os.environ["FAKE_LOG"]
args = sys.argv[1:]
with open(log_path, "a") as log:
    log.write(json.dumps(args) + "\\n")
if os.environ.get("FAKE_DOWN"):
    print("Connection to node -1 could not be established", file=sys.stderr)
    sys.exit(1)
state = json.load(open(state_path)) if os.path.exists(state_path) else {{}}
def opt(name):
    return args[args.index(name) + 1]
if "--list" in args:
    print("\\n".join(sorted(state)))
elif "--describe" in args:
    t = opt("--topic")
    print(f"Topic: {{t}}\\tTopicId: AAAA\\tPartitionCount: {{state[t]}}\\tReplicationFactor: 3\\tConfigs: ")
    for p in range(state[t]):
        print(f"\\tTopic: {{t}}\\tPartition: {{p}}\\tLeader: 0\\tReplicas: 0,1,2\\tIsr: 0,1,2")
elif "--create" in args:
    state[opt("--topic")] = int(opt("--partitions"))
elif "--alter" in args:
    state[opt("--topic")] = int(opt("--partitions"))
json.dump(state, open(state_path, "w"))
"""


class FakeCluster:
    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        tool = self.bin / "kafka-topics.sh"
        tool.write_text(FAKE_KAFKA_TOPICS.format(python=sys.executable), encoding="utf-8")
        tool.chmod(0o755)
        self.state = root / "state.json"
        self.log = root / "calls.jsonl"

    def topics(self) -> dict[str, int]:
        return json.loads(self.state.read_text(encoding="utf-8")) if self.state.exists() else {}

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]

    def run(self, topics: list[str], partitions: int, *, down: bool = False) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ["PATH"], "BOOTSTRAP": "kafka:9092", "TOPICS": " ".join(topics),
            "PARTITIONS": str(partitions), "REPLICATION_FACTOR": "3", "MIN_INSYNC_REPLICAS": "2",
            "KAFKA_BIN": str(self.bin), "WAIT_SECONDS": "0", "FAKE_STATE": str(self.state), "FAKE_LOG": str(self.log),
        }
        if down:
            env["FAKE_DOWN"] = "1"
        return subprocess.run(["/bin/sh", str(CREATE_TOPICS)], env=env, capture_output=True, text=True, timeout=120)


def _deployed_topics() -> list[str]:
    return config_maps()["kafka-topics"]["TOPICS"].split()


def test_create_topics_creates_every_topic_replicated(tmp_path: Path) -> None:
    cluster = FakeCluster(tmp_path)
    topics = _deployed_topics()
    run = cluster.run(topics, 12)
    assert run.returncode == 0, run.stderr
    assert cluster.topics() == dict.fromkeys(topics, 12)
    creates = [c for c in cluster.calls() if "--create" in c]
    assert len(creates) == len(topics)
    for call in creates:
        assert call[call.index("--replication-factor") + 1] == "3"
        assert call[call.index("--config") + 1] == "min.insync.replicas=2"
        assert call[call.index("--bootstrap-server") + 1] == "kafka:9092"


def test_create_topics_grows_but_never_shrinks_existing_topics(tmp_path: Path) -> None:
    cluster = FakeCluster(tmp_path)
    cluster.state.write_text(json.dumps({"hr.postings.v1": 4, "hr.findings.v1": 24}), encoding="utf-8")
    run = cluster.run(["hr.postings.v1", "hr.findings.v1", "hr.reviews.v1"], 12)
    assert run.returncode == 0, run.stderr
    assert cluster.topics() == {"hr.postings.v1": 12, "hr.findings.v1": 24, "hr.reviews.v1": 12}
    assert "grew hr.postings.v1 from 4 to 12 partitions" in run.stdout
    assert "kept hr.findings.v1 (24 partitions)" in run.stdout
    alters = [c for c in cluster.calls() if "--alter" in c]
    assert [c[c.index("--topic") + 1] for c in alters] == ["hr.postings.v1"]
    # Run again: nothing left to change.
    before = len(cluster.calls())
    again = cluster.run(["hr.postings.v1", "hr.findings.v1", "hr.reviews.v1"], 12)
    assert again.returncode == 0, again.stderr
    later = cluster.calls()[before:]
    assert later and not [c for c in later if "--create" in c or "--alter" in c]


def test_create_topics_fails_clearly_when_the_cluster_does_not_answer(tmp_path: Path) -> None:
    cluster = FakeCluster(tmp_path)
    run = cluster.run(["hr.postings.v1"], 4, down=True)
    assert run.returncode == 1
    assert "kafka at kafka:9092 did not answer" in run.stderr
    assert cluster.topics() == {}


def _wait(bootstrap: str, topics: list[str], wait_seconds: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRWATCH_")}
    env.update(HRWATCH_KAFKA=bootstrap, TOPICS=" ".join(topics), WAIT_SECONDS=str(wait_seconds), POLL_SECONDS="0.2")
    return subprocess.run([sys.executable, str(WAIT_FOR_TOPICS)], env=env, capture_output=True, text=True, timeout=120)


def test_wait_for_topics_passes_once_the_topics_exist(kafka_broker: EmbeddedBroker, stream_names: StreamNames) -> None:
    bootstrap = kafka_broker.bootstrap
    topics = [f"{stream_names.namespace}.{t}" for t in _deployed_topics()]
    ensure_topics(bootstrap, topics, 2)
    run = _wait(bootstrap, topics, 60)
    assert run.returncode == 0, run.stderr
    assert f"all {len(topics)} topics exist" in run.stdout


def test_wait_for_topics_names_what_is_missing_and_gives_up(kafka_broker: EmbeddedBroker, stream_names: StreamNames) -> None:
    bootstrap = kafka_broker.bootstrap
    present = f"{stream_names.namespace}.hr.postings.v1"
    missing = f"{stream_names.namespace}.hr.findings.v1"
    ensure_topics(bootstrap, [present], 1)
    run = _wait(bootstrap, [present, missing], 1)
    assert run.returncode == 1
    assert f"missing topics: {missing}" in run.stderr
    assert present not in run.stderr


@pytest.mark.parametrize("script", [CREATE_TOPICS])
def test_shell_scripts_are_posix_sh(script: Path) -> None:
    """The apache/kafka image is Alpine-based: the script must run under a plain POSIX sh (dash here)."""
    check = subprocess.run(["/bin/sh", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    assert script.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
