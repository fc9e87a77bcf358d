"""deploy/ files parse, and validate against the compose-spec and Kubernetes JSON schemas (offline copies in packages)."""

from __future__ import annotations

import copy
import importlib.metadata
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy.deployment import (
    DEPLOY,
    REPO,
    compose_raw,
    k8s_documents,
    kustomizations,
    manifest_files,
)

# Oldest version the manifests need (podFailurePolicy GA; the StatefulSet pod-index label is there since 1.28)
# and the newest the schema package knows.
K8S_VERSIONS = ("1.31.0", kubernetes_validate.latest_version())


def _yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yml", ".yaml"))


@pytest.mark.parametrize("path", _yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_under_deploy_parses(path: Path) -> None:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    assert docs, f"{path} holds no YAML document"
    assert all(isinstance(d, dict) for d in docs), f"{path}: every document should be a mapping"


def _compose_schema() -> dict[str, Any]:
    # check-jsonschema vendors the compose-spec schema (kept current by its maintainers). Read the file through the
    # distribution's metadata: importing the package would import its CLI, which needs a newer click than faust allows.
    files = importlib.metadata.files("check-jsonschema") or []
    matches = [f for f in files if f.name == "compose-spec.json"]
    assert matches, "check-jsonschema no longer ships compose-spec.json; find the schema elsewhere"
    return json.loads(matches[0].read_text(encoding="utf-8"))


def _compose_errors(doc: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(_compose_schema())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_compose_file_matches_the_compose_spec_schema() -> None:
    assert _compose_errors(compose_raw()) == []


def test_compose_schema_check_catches_a_broken_file() -> None:
    """The validation above is not vacuous: a misspelt key and a wrong type are reported."""
    broken = copy.deepcopy(compose_raw())
    broken["services"]["worker"]["restrat"] = "always"
    broken["services"]["review"]["ports"] = "8080:8080"
    errors = _compose_errors(broken)
    assert any("restrat" in e for e in errors), errors
    assert any(e.startswith("services/review/ports") for e in errors), errors


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_manifests_match_the_api_schemas(version: str) -> None:
    docs = k8s_documents()
    assert len(docs) >= 20, f"only {len(docs)} Kubernetes documents found under deploy/k8s"
    problems = []
    for d in docs:
        try:
            kubernetes_validate.validate(d.doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{d}: {exc.message} at {'/'.join(map(str, exc.path))}")
        except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as exc:
            problems.append(f"{d}: no schema ({exc})")
    assert problems == []


def test_kubernetes_schema_check_catches_a_broken_manifest() -> None:
    """Strict validation rejects an unknown field and a wrong type, so the pass above means something."""
    worker = next(d for d in k8s_documents() if d.kind == "Deployment" and d.name == "worker").doc
    broken = copy.deepcopy(worker)
    broken["spec"]["replica"] = 3
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)
    broken = copy.deepcopy(worker)
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "metrics"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)


@pytest.mark.parametrize("path", kustomizations(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_kustomization_lists_existing_files_and_every_manifest(path: Path) -> None:
    k = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert k["kind"] == "Kustomization"
    base = path.parent
    for resource in k.get("resources", []):
        target = base / resource
        assert target.is_file() or (target / "kustomization.yaml").is_file(), f"{path}: resource {resource} missing"
    for gen in k.get("configMapGenerator", []):
        for f in gen.get("files", []):
            assert (base / f.split("=", 1)[-1]).is_file(), f"{path}: {gen['name']} reads {f}, which is missing"


def _owning_kustomization(manifest: Path) -> Path:
    for parent in manifest.parents:
        if (parent / "kustomization.yaml").is_file():
            return parent / "kustomization.yaml"
    raise AssertionError(f"{manifest} is under no kustomization")


@pytest.mark.parametrize("manifest", manifest_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_manifest_is_listed_by_its_kustomization(manifest: Path) -> None:
    """A manifest its kustomization does not list would silently never be applied."""
    owner = _owning_kustomization(manifest)
    k = yaml.safe_load(owner.read_text(encoding="utf-8"))
    listed = {(owner.parent / r).resolve() for r in k.get("resources", [])}
    assert manifest.resolve() in listed, f"{manifest.relative_to(REPO)} is not in {owner.relative_to(REPO)}"
