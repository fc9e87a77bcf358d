"""Share keys in deploy/: made by the real keygen, laid out as compose and Kubernetes mount them, loaded by the real key ring.

Compose: the keygen service's script runs with the real `hrwatch share keygen` in a directory standing in for
the share-keys volume. Kubernetes: the documented kubectl commands build the Secrets and ConfigMaps, their
volumes are laid out as the kubelet would (items, projected sources, modes), the pod's HRWATCH_* environment
is applied, and the publisher's and the subscriber's keys are loaded with sharing/wiring.py.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from hrwatch.settings import load_settings
from sharing.keygen import KeyFileError, generate, private_key_path, public_key_path, receipt_key_name
from sharing.policy import load_policy
from sharing.receipts import ReceiptVerifier, signed_receipt
from sharing.wiring import build_subscriber, key_ring
from tests.deploy.deployment import (
    DEPLOY,
    DOCKERFILE,
    K8sDoc,
    compose,
    config_maps,
    environment_of,
    k8s_documents,
    pod_spec,
    source_name,
    volume_sources,
)

PARTNERS = sorted(load_policy(None).partners)
KEY_DIR_SETTING = "HRWATCH_SHARE_KEY_DIR"


def _receipt(signer: Any, partner: str) -> bytes:
    import orjson

    receipt = signed_receipt(
        signer, partner=partner, receiver=f"hrwatch-partner-{partner}", envelope_id="a" * 32,
        finding_id="b" * 64, status="accepted", reason=None, received_at="2026-11-23T10:00:00+00:00",
    )
    return orjson.dumps(receipt)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No HRWATCH_* of this machine, and no .env in the working directory: only what a test sets."""
    for key in list(os.environ):
        if key.startswith("HRWATCH_"):
            monkeypatch.delenv(key)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return monkeypatch


# -- compose: the keygen service and the services that share its volume ---------------------------


def _named_mounts(svc: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """volume name → (target, read-only) for a compose service's named-volume mounts."""
    found = {}
    for volume in svc.get("volumes", []):
        source, target, *options = volume.split(":")
        if not source.startswith((".", "/")):
            found[source] = (target, "ro" in options)
    return found


def _hrwatch_shim(bin_dir: Path) -> dict[str, str]:
    """PATH with an `hrwatch` that is this checkout's CLI, as the image's entry point is."""
    bin_dir.mkdir()
    shim = bin_dir / "hrwatch"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m hrwatch.cli "$@"\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HRWATCH_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(DEPLOY.parent)
    return env


def _run_keygen_service(volume: Path, path_env: dict[str, str]) -> str:
    svc = compose()["services"]["keygen"]
    entrypoint, env = svc["entrypoint"], environment_of(svc)
    target, read_only = _named_mounts(svc)["share-keys"]
    assert env[KEY_DIR_SETTING] == target and not read_only, "keygen must write into the share-keys volume"
    run = subprocess.run(
        entrypoint, env={**path_env, **env, KEY_DIR_SETTING: str(volume)},
        cwd=volume.parent, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_compose_keygen_makes_both_key_pairs_per_partner_once_and_keeps_them(tmp_path: Path) -> None:
    path_env = _hrwatch_shim(tmp_path / "bin")
    volume = tmp_path / "share-keys"
    volume.mkdir()
    # A volume from before receipt keys: the police channel pair exists and must survive untouched.
    generate("police", volume)
    before = _files(volume)
    _run_keygen_service(volume, path_env)
    made = _files(volume)
    expected = {f"{name}.{ext}" for p in PARTNERS for name in (p, receipt_key_name(p)) for ext in ("key", "pub")}
    assert set(made) == expected
    assert {k: made[k] for k in before} == before
    for name in made:
        if name.endswith(".key"):
            assert stat.S_IMODE((volume / name).stat().st_mode) == 0o600, name
    out = _run_keygen_service(volume, path_env)  # a re-run (every `up`) keeps every key
    assert _files(volume) == made
    assert all(f"kept {p} key" in out and f"kept {p} receipt key" in out for p in PARTNERS), out


def test_compose_publisher_and_subscribers_load_the_keys_keygen_made(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    volume = tmp_path / "share-keys"
    volume.mkdir()
    _run_keygen_service(volume, _hrwatch_shim(tmp_path / "bin"))
    services = compose()["services"]
    subscribers = {n: s for n, s in services.items() if s.get("command", [""])[0] == "subscribe"}
    assert sorted(s["command"][s["command"].index("--partner") + 1] for s in subscribers.values()) == PARTNERS

    def settings_of(name: str) -> Any:
        svc = services[name]
        assert "share-keys" in _named_mounts(svc), f"compose {name} does not mount share-keys"
        target, read_only = _named_mounts(svc)["share-keys"]
        assert read_only, f"compose {name} must mount the keys read-only"
        assert environment_of(svc)[KEY_DIR_SETTING] == target, f"compose {name} looks for keys elsewhere"
        assert services[name]["depends_on"]["keygen"] == {"condition": "service_completed_successfully"}
        return load_settings(share_key_dir=volume)

    publisher_ring = key_ring(settings_of("share-publisher"))
    verifier = ReceiptVerifier.for_partners(publisher_ring, PARTNERS)
    assert verifier.missing() == []
    for name, svc in subscribers.items():
        partner = svc["command"][svc["command"].index("--partner") + 1]
        engine = create_engine(f"sqlite:///{tmp_path / (partner + '.db')}")
        try:
            subscriber = build_subscriber(settings_of(name), "kafka:9092", partner, engine)
        finally:
            engine.dispose()
        # The subscriber trusts the key the publisher signs with; the publisher trusts the subscriber's receipts.
        assert publisher_ring.signer(partner).key_id in subscriber.verifier.public_keys
        assert verifier.verify(_receipt(subscriber.receipt_signer, partner))["partner"] == partner


# -- Kubernetes: documented commands, kubelet-style volumes, the real loader ------------------------


def _commands(text: str) -> list[list[str]]:
    """`hrwatch …` and `kubectl … create …` command lines of a README or a manifest's header comment."""
    found = []
    for line in text.splitlines():
        line = line.strip().removeprefix("#").strip()
        if not line.startswith(("hrwatch ", "kubectl ")):
            continue  # prose
        for part in line.split("&&"):
            words = shlex.split(part, comments=True)
            if words[:1] == ["hrwatch"] or (words[:1] == ["kubectl"] and "create" in words):
                found.append(words)
    return found


Objects = dict[tuple[str, str, str], dict[str, bytes]]


def _execute(commands: list[list[str]], cwd: Path, objects: Objects) -> None:
    """Run `hrwatch share keygen` lines for real and build the objects `kubectl create` would: (kind, ns, name) → data."""
    from hrwatch.cli import cli

    for words in commands:
        if words[0] == "hrwatch":
            if words[1:3] == ["share", "keygen"]:
                result = CliRunner().invoke(cli, words[1:], catch_exceptions=False)
                assert result.exit_code == 0, f"{shlex.join(words)}: {result.output}"
            continue
        namespace = words[words.index("-n") + 1] if "-n" in words else "default"
        rest = words[words.index("create") + 1:]
        if rest[0] == "configmap":
            kind, name = "configMap", rest[1]
        elif rest[:2] == ["secret", "generic"]:
            kind, name = "secret", rest[2]
        else:
            continue  # secret tls and the like: no keys
        data: dict[str, bytes] = {}
        for word in rest:
            if word.startswith("--from-file="):
                key, _, path = word.removeprefix("--from-file=").rpartition("=")
                source = cwd / path
                if source.is_dir():  # kubectl takes the regular files of a directory, named as they are
                    data.update({f.name: f.read_bytes() for f in source.iterdir() if f.is_file()})
                else:
                    data[key or source.name] = source.read_bytes()
        objects[(kind, namespace, name)] = data


def _workload(kind: str, name: str) -> K8sDoc:
    return next(d for d in k8s_documents() if d.kind == kind and d.name == name)


def _dockerfile_env() -> dict[str, str]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for token in shlex.split(line[4:]):
                key, _, value = token.partition("=")
                env[key] = value
    return env


def _mount(
    doc: dict[str, Any], container: str, root: Path, objects: dict[tuple[str, str, str], dict[str, bytes]]
) -> dict[str, str]:
    """Lay out the container's Secret/ConfigMap volumes under `root` as the kubelet does; return its HRWATCH_*
    environment (Dockerfile ENV, envFrom, env) with paths under those mounts moved under `root`."""
    namespace = doc["metadata"]["namespace"]
    spec = pod_spec(doc)
    assert spec is not None
    c = next(c for c in spec["containers"] if c["name"] == container)
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    fs_group = spec.get("securityContext", {}).get("fsGroup")
    mounts = []
    for m in c.get("volumeMounts", []):
        sources = volume_sources(volumes[m["name"]])
        if not sources:
            continue
        assert m.get("readOnly") is True, f"{m['name']}: key volumes are mounted read-only"
        directory = root / m["mountPath"].lstrip("/")
        directory.mkdir(parents=True)
        mounts.append(m["mountPath"])
        for kind, source, mode in sources:
            name = source_name(kind, source)
            data = objects.get((kind, namespace, name))
            assert data is not None, f"{kind} {namespace}/{name} is not made by the documented commands: the pod would not start"
            items = source.get("items") or [{"key": k, "path": k} for k in data]
            for item in items:
                assert item["key"] in data, f"{kind} {name} has no key {item['key']}: the pod would not start"
                target = directory / item["path"]
                assert not target.exists(), f"{target.name} comes from two sources of volume {m['name']}"
                target.write_bytes(data[item["key"]])
                # The kubelet gives the file this mode, and with fsGroup adds group read (and the group).
                effective = (item.get("mode", mode if mode is not None else 0o644)) | (0o440 if fs_group else 0)
                target.chmod(effective)
    env = {k: v for k, v in _dockerfile_env().items() if k.startswith("HRWATCH_")}
    maps = config_maps()
    for ref in c.get("envFrom", []):
        env.update({k: str(v) for k, v in maps[ref["configMapRef"]["name"]].items()})
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = e["value"]
        elif "configMapKeyRef" in e.get("valueFrom", {}):
            ref = e["valueFrom"]["configMapKeyRef"]
            env[e["name"]] = maps[ref["name"]][ref["key"]]
        elif "secretKeyRef" in e.get("valueFrom", {}):
            env[e["name"]] = "from-a-secret"
    for key, value in env.items():
        if any(value == p or value.startswith(p.rstrip("/") + "/") for p in mounts):
            env[key] = str(root / value.lstrip("/"))
    return {k: v for k, v in env.items() if k.startswith("HRWATCH_")}


def _partner_manifest() -> tuple[K8sDoc, str]:
    doc = _workload("Deployment", "police-subscriber")
    args = doc.doc["spec"]["template"]["spec"]["containers"][0]["args"]
    return doc, args[args.index("--partner") + 1]


def _apply_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Any:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings()


def _platform_and_partner_objects(cwd: Path) -> Objects:
    """What the operator and the partners make by following deploy/README.md and the partner manifest's header."""
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    platform = _commands(readme[readme.index("## Kubernetes"):readme.index("With an external PostgreSQL")])
    partner_doc, example = _partner_manifest()
    header = partner_doc.path.read_text(encoding="utf-8").split("\napiVersion:", 1)[0]
    objects: Objects = {}
    # The platform's channel keys (deploy/keys) first; then each partner does what the header says
    # ("market and tax are the same with the partner name changed") and sends its receipt .pub to the platform.
    _execute([w for w in platform if w[0] == "hrwatch"], cwd, objects)
    for partner in PARTNERS:
        _execute(_commands(header.replace(example, partner)), cwd, objects)
        sent = cwd / "partner-keys" / f"{partner}-receipts.pub"
        (cwd / sent.name).write_bytes(sent.read_bytes())
    _execute([w for w in platform if w[0] == "kubectl"], cwd, objects)
    return objects


def test_partner_subscriber_pod_loads_its_receipt_key_from_its_secret(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    cwd = Path.cwd()
    objects = _platform_and_partner_objects(cwd)
    doc, partner = _partner_manifest()
    spec = pod_spec(doc.doc)
    assert spec is not None
    # The Secret with the private receipt key is the partner's, in its namespace, exactly 0400 as asked; the
    # pod's fsGroup is what makes it readable to the non-root user at all (root-owned 0400 would not be).
    secrets = [(s, mode) for v in spec["volumes"] for kind, s, mode in volume_sources(v) if kind == "secret"]
    assert [(source_name("secret", s), mode) for s, mode in secrets] == [(f"{partner}-receipt-key", 0o400)]
    assert spec["securityContext"]["fsGroup"] == spec["securityContext"]["runAsGroup"]
    env = _mount(doc.doc, "subscriber", tmp_path / "pod", objects)
    key_dir = Path(env[KEY_DIR_SETTING])
    receipt_key = private_key_path(key_dir, receipt_key_name(partner))
    assert receipt_key.exists(), f"the receipt key is not where sharing/wiring.py looks: {sorted(key_dir.iterdir())}"
    assert stat.S_IMODE(receipt_key.stat().st_mode) & 0o007 == 0, "the private key must not be world-readable"
    assert not [p for p in key_dir.iterdir() if p.name == f"{partner}.key"], "the platform's private key stays there"
    settings = _apply_env(clean_env, env)
    engine = create_engine(f"sqlite:///{tmp_path / 'partner.db'}")
    try:
        subscriber = build_subscriber(settings, settings.kafka, partner, engine)
    finally:
        engine.dispose()
    partner_pair = cwd / "partner-keys"
    assert subscriber.receipt_signer.key_id == key_ring(load_settings(share_key_dir=partner_pair)).signer(
        partner, receipts=True).key_id
    platform_ring = key_ring(load_settings(share_key_dir=cwd / "deploy" / "keys"))
    assert platform_ring.signer(partner).key_id in subscriber.verifier.public_keys


def test_partner_subscriber_check_fails_when_the_key_is_not_where_wiring_looks(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    """Not vacuous: the same pod with the receipt key under another file name does not get a subscriber."""
    import copy

    objects = _platform_and_partner_objects(Path.cwd())
    doc, partner = _partner_manifest()
    renamed = copy.deepcopy(doc.doc)
    for volume in renamed["spec"]["template"]["spec"]["volumes"]:
        for kind, source, _mode in volume_sources(volume):
            for item in source.get("items", []) if kind == "secret" else []:
                item["path"] = "receipts.key"
    settings = _apply_env(clean_env, _mount(renamed, "subscriber", tmp_path / "pod", objects))
    engine = create_engine(f"sqlite:///{tmp_path / 'partner.db'}")
    try:
        with pytest.raises(KeyFileError, match=re.escape(f"{partner}-receipts.key")):
            build_subscriber(settings, settings.kafka, partner, engine)
    finally:
        engine.dispose()


def test_share_publisher_pod_has_every_partners_signing_key_and_receipt_key(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    from hrwatch.cli import cli

    cwd = Path.cwd()
    objects = _platform_and_partner_objects(cwd)
    doc = _workload("Deployment", "share-publisher")
    env = _mount(doc.doc, "share-publisher", tmp_path / "pod", objects)
    key_dir = Path(env[KEY_DIR_SETTING])
    for partner in PARTNERS:
        assert public_key_path(key_dir, receipt_key_name(partner)).exists()
        assert not private_key_path(key_dir, receipt_key_name(partner)).exists(), "a partner's private key"
    for path in key_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o007 == 0, f"{path.name} is world-readable"
    settings = _apply_env(clean_env, env)
    ring = key_ring(settings)
    verifier = ReceiptVerifier.for_partners(ring, PARTNERS)
    assert verifier.missing() == []
    for partner in PARTNERS:
        ring.signer(partner)
        partner_signer = key_ring(load_settings(share_key_dir=cwd / "partner-keys")).signer(partner, receipts=True)
        assert verifier.verify(_receipt(partner_signer, partner))["partner"] == partner
    # The operator's own check, with the pod's settings: every signing key and receipt key is there.
    result = CliRunner().invoke(cli, ["share", "policy", "--keys"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert all(f"{p}: receipt keys " in result.output for p in PARTNERS)


def test_share_publisher_without_a_partners_receipt_key_is_reported(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    """Not vacuous: an empty hrwatch-receipt-keys ConfigMap (allowed) leaves every partner's receipts unverifiable."""
    from hrwatch.cli import cli

    objects = _platform_and_partner_objects(Path.cwd())
    objects[("configMap", "hrwatch", "hrwatch-receipt-keys")] = {}
    doc = _workload("Deployment", "share-publisher")
    settings = _apply_env(clean_env, _mount(doc.doc, "share-publisher", tmp_path / "pod", objects))
    assert ReceiptVerifier.for_partners(key_ring(settings), PARTNERS).missing() == PARTNERS
    result = CliRunner().invoke(cli, ["share", "policy", "--keys"])
    assert result.exit_code == 2
    assert "police-receipts.pub" in result.output
