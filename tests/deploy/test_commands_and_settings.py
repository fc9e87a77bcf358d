"""Every hrwatch command line in deploy/ parses with the real CLI; every HRWATCH_* variable is a real setting with a valid value."""

from __future__ import annotations

import shlex
import sqlite3
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any

import click
import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from hrwatch.settings import Settings
from tests.deploy.deployment import (
    DOCKERFILE,
    REPO,
    SECRET_PLACEHOLDER,
    compose,
    containers,
    env_example,
    environment_of,
    hrwatch_services,
    is_hrwatch_image,
    k8s_documents,
    parse_hrwatch,
    pod_spec,
)

MIGRATE = "migrate"  # the one-shot migration service/Job (`hrwatch migrate`)
# Containers of our image that run something other than the `hrwatch` entry point, each checked by its own test.
KEYGEN = "keygen"
WAIT_FOR_TOPICS = ["python", "/etc/hrwatch/scripts/wait-for-topics.py"]


def _compose_command_lines() -> list[tuple[str, list[str]]]:
    lines = []
    for name, svc in hrwatch_services(compose()).items():
        if "entrypoint" in svc:
            continue
        command = svc.get("command")
        lines.append((f"compose {name}", shlex.split(command) if isinstance(command, str) else list(command)))
    return lines


def _k8s_command_lines() -> list[tuple[str, list[str]]]:
    lines = []
    for d in k8s_documents():
        spec = pod_spec(d.doc)
        if spec is None:
            continue
        for _kind, c in containers(spec):
            if is_hrwatch_image(c["image"]) and "command" not in c:
                lines.append((f"{d} container {c['name']}", list(c.get("args", []))))
    return lines


COMMAND_LINES = _compose_command_lines() + _k8s_command_lines()


@pytest.mark.parametrize(("where", "args"), COMMAND_LINES, ids=[w for w, _ in COMMAND_LINES])
def test_hrwatch_command_lines_parse_with_the_real_cli(where: str, args: list[str]) -> None:
    try:
        parse_hrwatch(args)
    except click.ClickException as exc:
        pytest.fail(f"{where}: `hrwatch {' '.join(args)}` is not a valid command line: {exc.format_message()}")


def test_every_long_running_role_is_checked() -> None:
    """The parametrised check above covers worker, serve, share publish, subscribe and scan in both deployments."""
    commands = {" ".join(a[:2]) if a[0] == "share" else a[0] for _, a in COMMAND_LINES}
    assert {"worker", "serve", "share publish", "subscribe", "scan"} <= commands


def test_the_cli_check_rejects_an_unknown_flag_and_command() -> None:
    with pytest.raises(click.NoSuchOption):
        parse_hrwatch(["worker", "--log-levle", "INFO"])
    with pytest.raises(click.UsageError):
        parse_hrwatch(["share", "publsh"])
    with pytest.raises(click.BadParameter):
        parse_hrwatch(["subscribe"])  # --partner is required


def test_only_known_entrypoint_overrides_of_the_hrwatch_image() -> None:
    """Anything not started through `hrwatch` must be one of the forms tested below."""
    overridden = sorted(n for n, s in hrwatch_services(compose()).items() if "entrypoint" in s)
    assert overridden == [KEYGEN]
    for d in k8s_documents():
        spec = pod_spec(d.doc)
        for _kind, c in containers(spec) if spec else ():
            if is_hrwatch_image(c["image"]) and "command" in c:
                assert c["command"] == WAIT_FOR_TOPICS or c["command"][:2] == ["python", "-c"], f"{d}: {c['command']}"


def _migration_command() -> list[str]:
    """The migration as compose and Kubernetes run it: the image's `hrwatch` entry point with the same args."""
    args = compose()["services"][MIGRATE]["command"]
    job = next(d for d in k8s_documents() if d.kind == "Job" and d.name == "hrwatch-migrate")
    container = job.doc["spec"]["template"]["spec"]["containers"][0]
    assert "command" not in container and container["args"] == args, "compose and Kubernetes should run the same migration"
    return [sys.executable, "-m", "hrwatch.cli", *args]


def _clean_env(**settings: str) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("HRWATCH_")}
    env.update(settings)
    return env


def _head_revision() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from review.store import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head
    return head


def test_migration_job_brings_a_sqlite_store_to_head(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    run = subprocess.run(
        _migration_command(),
        env=_clean_env(HRWATCH_DATABASE_URL=f"sqlite:///{db}"),
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert f"store schema at revision {_head_revision()}" in run.stdout
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(_head_revision(),)]


def test_migration_job_brings_a_postgresql_store_to_head_and_is_repeatable(
    postgres_schema_url: str, tmp_path: Path
) -> None:
    import psycopg

    env = _clean_env(HRWATCH_DATABASE_URL=postgres_schema_url)
    for _ in range(2):  # a second run (a re-applied Job) finds the schema at head and changes nothing
        run = subprocess.run(_migration_command(), env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
    with psycopg.connect(postgres_schema_url) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(_head_revision(),)]


def test_keygen_service_makes_a_key_per_policy_partner_with_the_real_command() -> None:
    from sharing.policy import load_policy

    svc = compose()["services"][KEYGEN]
    script = svc["entrypoint"][-1]
    assert 'hrwatch share keygen "$partner"' in script
    assert 'hrwatch share keygen "$partner" --receipts' in script
    partners = environment_of(svc)["SHARE_PARTNERS"].split()
    assert sorted(partners) == sorted(load_policy(None).partners)
    assert sorted(env_example()["SHARE_PARTNERS"].split()) == sorted(partners)
    for partner in partners:
        parse_hrwatch(["share", "keygen", partner])
        parse_hrwatch(["share", "keygen", partner, "--receipts"])
    # Running the script with the real command and loading what it makes: tests/deploy/test_keys.py.


# -- HRWATCH_* variables ---------------------------------------------------------------------------


class _InitOnlySettings(Settings):
    """Settings that read nothing but their arguments: values from deploy/ are checked, not this machine's env."""

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource, *args: Any, **kwargs: Any
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def setting_problem(name: str, value: str | None) -> str | None:
    """Why HRWATCH_<name>=value is not a valid setting (unknown field, not nestable, bad value), else None."""
    if not name.startswith("HRWATCH_"):
        return f"{name}: not an HRWATCH_ variable"
    field, _, nested = name.removeprefix("HRWATCH_").lower().partition("__")
    info = Settings.model_fields.get(field)
    if info is None:
        return f"{name}: hrwatch/settings.py has no field {field!r}"
    if nested and typing.get_origin(info.annotation) is not dict:
        return f"{name}: {field} is not a mapping, so it takes no __{nested.upper()}"
    if value is None or value == SECRET_PLACEHOLDER:
        return None  # from a Secret or deploy/.env: the name is what can be checked here
    try:
        _InitOnlySettings(**{field: {nested: value} if nested else value})
    except ValidationError as exc:
        return f"{name}={value!r}: {exc.errors()[0]['msg']}"
    return None


def _variables() -> list[tuple[str, str, str | None]]:
    found: list[tuple[str, str, str | None]] = []
    for name, svc in compose()["services"].items():
        for key, value in environment_of(svc).items():
            if key.startswith("HRWATCH_"):
                found.append((f"compose {name}", key, value))
    for key, value in env_example().items():
        if key.startswith("HRWATCH_"):
            found.append(("deploy/.env.example", key, value or None))
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        for token in shlex.split(line.strip().removeprefix("ENV ").rstrip("\\")) if "HRWATCH_" in line else ():
            key, _, value = token.partition("=")
            if key.startswith("HRWATCH_"):
                found.append(("deploy/Dockerfile", key, value))
    for d in k8s_documents():
        if d.kind == "ConfigMap":
            for key, value in d.doc.get("data", {}).items():
                if key.startswith("HRWATCH_"):
                    found.append((str(d), key, str(value)))
        spec = pod_spec(d.doc)
        for _kind, c in containers(spec) if spec else ():
            for e in c.get("env", []):
                if e["name"].startswith("HRWATCH_"):
                    found.append((f"{d} {c['name']}", e["name"], e.get("value")))
    return found


VARIABLES = _variables()


def test_variables_were_found_everywhere() -> None:
    places = {where.split(" ")[0].split(":")[0] for where, _, _ in VARIABLES}
    assert {"compose", "deploy/.env.example", "deploy/Dockerfile"} <= places
    assert any(where.startswith("deploy/k8s/") for where, _, _ in VARIABLES)
    assert len(VARIABLES) > 50


@pytest.mark.parametrize(("where", "name", "value"), VARIABLES, ids=[f"{w}:{n}" for w, n, _ in VARIABLES])
def test_every_hrwatch_variable_is_a_setting_with_a_valid_value(where: str, name: str, value: str | None) -> None:
    problem = setting_problem(name, value)
    assert problem is None, f"{where}: {problem}"


def test_the_setting_check_catches_mistakes() -> None:
    assert "no field 'metric_port'" in (setting_problem("HRWATCH_METRIC_PORT", "9100") or "")
    assert "HRWATCH_PARTITIONS='0'" in (setting_problem("HRWATCH_PARTITIONS", "0") or "")
    assert "not a mapping" in (setting_problem("HRWATCH_KAFKA__POLICE", "x") or "")
    assert setting_problem("HRWATCH_SHARE_VERIFY_KEYS__POLICE", "AAAA") is None
    assert setting_problem("HRWATCH_REVIEW_COOKIE_SECURE", "true") is None


def test_kafka_setting_points_at_the_kafka_service() -> None:
    """HRWATCH_KAFKA names the compose service / Kubernetes Service of the brokers, on their client port."""
    doc = compose()
    hosts = {environment_of(s).get("HRWATCH_KAFKA") for s in hrwatch_services(doc).values()} - {None}
    assert hosts == {"kafka:9092"}
    assert "9092" in doc["services"]["kafka"]["expose"]
    config = next(d for d in k8s_documents() if d.kind == "ConfigMap" and d.name == "hrwatch-config").doc["data"]
    service = next(d for d in k8s_documents() if d.kind == "Service" and d.name == "kafka").doc
    assert config["HRWATCH_KAFKA"] == f"{service['metadata']['name']}:{service['spec']['ports'][0]['port']}"


def test_dockerfile_entrypoint_is_the_console_script() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'hrwatch = "hrwatch.cli:main"' in pyproject
    assert 'ENTRYPOINT ["hrwatch"]' in DOCKERFILE.read_text(encoding="utf-8")
