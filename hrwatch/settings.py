"""Settings from HRWATCH_* environment variables and .env: the only place hrwatch reads the environment."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Precedence: init arguments > environment > .env > these defaults (the embedded ones)."""

    model_config = SettingsConfigDict(env_prefix="HRWATCH_", env_file=".env", env_nested_delimiter="__", extra="ignore")

    kafka: str | None = Field(default=None, description="bootstrap servers; unset = embedded broker")
    database_url: str = Field(default="sqlite:///hrwatch.db", description="SQLAlchemy URL of the alert store")
    database_password: SecretStr | None = None
    partitions: int = Field(default=4, ge=1)
    sample_size: int = Field(default=2000, ge=0, description="generated records replayed by `hrwatch demo`")
    sample_seed: int = 7


def load_settings(**overrides: object) -> Settings:
    """Settings with explicit overrides on top of the environment."""
    return Settings(**overrides)  # type: ignore[arg-type]
