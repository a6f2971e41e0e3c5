"""Settings: the one door through which the environment enters straitwatch.

Read once (``Settings()``) at the edge: the CLI or a flow's first line. Everything below
receives plain values. Environment variables carry the ``STRAITWATCH_`` prefix; a ``.env``
file in the working directory is read too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PROFILE = REPO_ROOT / "seeds" / "monitor.toml"


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "straitwatch"


class Settings(BaseSettings):
    """Where things are and where alerts go; the dispute itself lives in the profile."""

    model_config = SettingsConfigDict(
        env_prefix="STRAITWATCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str = ""  # empty: SQLite file straitwatch.db in data_dir
    profile: Path = DEFAULT_PROFILE
    # Apprise URLs, separated by spaces or newlines. Untagged: they receive every alert.
    apprise_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # An Apprise config file (text or YAML) for tagged routing by severity.
    apprise_config: Path | None = None
    # With no channel configured, alerts are printed on the console.
    console_alerts: bool = True
    delivery_attempts: int = 5
    batch_size: int = Field(default=100, ge=1)
    extract_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=0)
    # Prefect's own variable: where the Prefect API is. Empty: `serve` starts a local server.
    prefect_api_url: str = Field(default="", validation_alias="PREFECT_API_URL")

    @field_validator("apprise_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [part for part in value.split() if part]
        return value

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL in use (the SQLite default lives in data_dir)."""
        return self.database_url or f"sqlite:///{self.data_dir / 'straitwatch.db'}"


def prefect_defaults() -> dict[str, str]:
    """Environment defaults for Prefect on a machine that must not phone home."""
    return {
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
        "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_READ_BATCH_SIZE": "100",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }


def apply_prefect_defaults() -> None:
    """Set Prefect's environment defaults where the user has not chosen otherwise."""
    for key, value in prefect_defaults().items():
        os.environ.setdefault(key, value)
