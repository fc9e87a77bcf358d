"""Reading deploy/: the compose file with its ${…} interpolation, the Kubernetes documents, and the hrwatch CLI parser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
ENV_EXAMPLE = DEPLOY / ".env.example"
K8S = DEPLOY / "k8s"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
DOCKERFILE = DEPLOY / "Dockerfile"

# What a placeholder secret interpolates to: .env.example leaves secrets empty on purpose.
SECRET_PLACEHOLDER = "<secret from deploy/.env>"

_INTERPOLATION = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def env_example() -> dict[str, str]:
    """KEY=value lines of deploy/.env.example (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error} and $$, with `env` as deploy/.env."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        current = env.get(name)
        if op in (":-", "-"):
            return current if current or (op == "-" and current is not None) else arg
        if op in (":?", "?"):
            if not current:
                return SECRET_PLACEHOLDER  # compose refuses to start; the operator must set it
            return current
        if current is None:
            raise KeyError(f"${{{name}}} has no default and is not in deploy/.env.example")
        return current

    return _INTERPOLATION.sub(substitute, value)


def compose_raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The compose file as `docker compose config` would see it with deploy/.env = .env.example (or `env`)."""
    return interpolate(compose_raw(), env_example() if env is None else env)


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    """A compose service's environment as a mapping (list form `KEY=value` too)."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def is_hrwatch_image(image: str) -> bool:
    """Our own image (deploy/Dockerfile), by repository name, with or without a registry and tag."""
    repository = image.rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    return repository == "hrwatch"


def hrwatch_services(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: svc for name, svc in doc["services"].items() if is_hrwatch_image(str(svc.get("image", "")))}


# -- Kubernetes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class K8sDoc:
    path: Path
    doc: dict[str, Any]

    @property
    def kind(self) -> str:
        return str(self.doc["kind"])

    @property
    def name(self) -> str:
        return str(self.doc["metadata"]["name"])

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO)}: {self.kind}/{self.name}"


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


def manifest_files() -> list[Path]:
    return sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")


def k8s_documents() -> list[K8sDoc]:
    docs = []
    for path in manifest_files():
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append(K8sDoc(path, doc))
    return docs


def pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template spec of a workload (Deployment, StatefulSet, DaemonSet, Job, CronJob), else None."""
    kind = doc.get("kind")
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return doc["spec"]["template"]["spec"]
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def pod_labels(doc: dict[str, Any]) -> dict[str, str]:
    if doc.get("kind") == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["metadata"].get("labels", {})
    return doc["spec"]["template"]["metadata"].get("labels", {})


def containers(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(kind, container) for init containers and containers of a pod spec."""
    for c in spec.get("initContainers", []):
        yield "init", c
    for c in spec.get("containers", []):
        yield "main", c


def config_maps() -> dict[str, dict[str, str]]:
    """ConfigMaps defined as documents under deploy/k8s, by (namespace-less) name."""
    return {d.name: d.doc.get("data", {}) for d in k8s_documents() if d.kind == "ConfigMap"}


def generated_config_maps() -> dict[str, list[Path]]:
    """configMapGenerator entries of every kustomization: name → the files it reads."""
    found: dict[str, list[Path]] = {}
    for path in kustomizations():
        k = yaml.safe_load(path.read_text(encoding="utf-8"))
        for gen in k.get("configMapGenerator", []):
            files = [path.parent / f.split("=", 1)[-1] for f in gen.get("files", [])]
            found.setdefault(gen["name"], []).extend(files)
    return found


# -- the hrwatch command line ----------------------------------------------------------------------


def parse_hrwatch(args: list[str]) -> tuple[str, click.Context]:
    """Parse `hrwatch ARGS` with the real click CLI (no callback runs); raises click errors on a bad command line."""
    from hrwatch.cli import cli

    command: click.Command = cli
    path = ["hrwatch"]
    rest = list(args)
    while isinstance(command, click.Group):
        if rest[:1] and rest[0] in command.get_help_option_names(click.Context(command)):
            return " ".join(path), click.Context(command, info_name=path[-1])  # help is valid on any group
        if not rest:
            raise click.UsageError(f"{' '.join(path)} needs a subcommand")
        name = rest.pop(0)
        sub = command.get_command(click.Context(command, info_name=path[-1]), name)
        if sub is None:
            raise click.UsageError(f"no command {' '.join([*path, name])!r}")
        command = sub
        path.append(name)
    ctx = command.make_context(" ".join(path), rest)
    return " ".join(path), ctx


# -- Secret and ConfigMap volumes ------------------------------------------------------------------


def volume_sources(volume: dict[str, Any]) -> list[tuple[str, dict[str, Any], int | None]]:
    """(`secret` | `configMap`, its source, the mode its files get) of a pod volume, sources of a projected one included."""
    if "secret" in volume:
        return [("secret", volume["secret"], volume["secret"].get("defaultMode"))]
    if "configMap" in volume:
        return [("configMap", volume["configMap"], volume["configMap"].get("defaultMode"))]
    projected = volume.get("projected")
    if not projected:
        return []
    found = []
    for source in projected["sources"]:
        for kind in ("secret", "configMap"):
            if kind in source:
                found.append((kind, source[kind], projected.get("defaultMode")))
    return found


def source_name(kind: str, source: dict[str, Any]) -> str:
    """A volume source's object name (`secretName` for a plain secret volume, `name` otherwise)."""
    return str(source.get("secretName") or source["name"]) if kind == "secret" else str(source["name"])
