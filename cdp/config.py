"""Configuration: the one place that resolves settings.

Resolution order for every setting, first match wins:
  1. an explicit value passed by the caller (CLI flag),
  2. an environment variable (``CDP_HOME``, ``CDP_LANDING``, ``SPARK_REMOTE``, ...),
  3. the YAML file ``cdp.yaml`` in the workspace (or the file named by ``CDP_CONFIG``),
  4. the documented default below.

Every value is validated; an unknown key or a bad value in the file is an error that names the
file and the key. Nothing is read at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ENV_VARS = {
    "workspace": "CDP_HOME",
    "landing": "CDP_LANDING",
    "spark_remote": "SPARK_REMOTE",
    "sail_parallelism": "CDP_SAIL_PARALLELISM",
    "identity_rules": "CDP_IDENTITY_RULES",
    "identity_engine": "CDP_IDENTITY_ENGINE",
    "duckdb_memory_limit": "CDP_DUCKDB_MEMORY_LIMIT",
    "lock_wait_seconds": "CDP_LOCK_WAIT_SECONDS",
}
DEFAULT_WORKSPACE = Path("cdp_data")
CONFIG_FILE_NAME = "cdp.yaml"


class ConfigError(ValueError):
    """A configuration file or value is invalid; the message names the file and key."""


class Settings(BaseModel):
    """Resolved settings of one platform workspace."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: root of everything the platform writes (lakehouse, logs, data docs)
    workspace: Path = DEFAULT_WORKSPACE
    #: where channel files arrive; default ``<workspace>/landing``
    landing: Path | None = None
    #: ``sc://host:port`` of an external Spark Connect server; unset = embedded Sail
    spark_remote: str | None = None
    #: Sail's default parallelism; unset = number of cores
    sail_parallelism: int | None = Field(default=None, ge=1)
    #: time zone in which source systems write local times (China has no DST)
    source_timezone: str = "Asia/Shanghai"
    #: identity resolution rules (YAML); unset = the rules shipped in ``identity/rules.yml``
    identity_rules: Path | None = None
    #: connected-components engine: ``auto`` picks ``embedded`` up to
    #: ``identity_embedded_max_edges`` graph edges, ``spark`` beyond
    identity_engine: Literal["auto", "embedded", "spark"] = "auto"
    identity_embedded_max_edges: int = Field(default=500_000_000, ge=0)
    #: DuckDB's memory limit for the marts build (DuckDB syntax: 4GB, 512MB)
    duckdb_memory_limit: str = Field(default="4GB", pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB)$")
    #: how long a writing command waits for another one on the same workspace to finish
    #: before it refuses (0: refuse at once)
    lock_wait_seconds: float = Field(default=0.0, ge=0)

    @field_validator("spark_remote")
    @classmethod
    def _remote_is_spark_connect_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("sc://"):
            raise ValueError("must look like sc://host:port")
        return value

    @property
    def landing_dir(self) -> Path:
        return self.landing if self.landing is not None else self.workspace / "landing"

    @property
    def lakehouse_dir(self) -> Path:
        return self.workspace / "lakehouse"

    @property
    def ground_truth_dir(self) -> Path:
        return self.workspace / "ground_truth"

    @property
    def marts_db(self) -> Path:
        """The DuckDB file analysts open: the marts built by dbt."""
        return self.workspace / "marts" / "cdp.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.workspace / "reports"

    @property
    def logs_dir(self) -> Path:
        return self.workspace / "logs"


def _read_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return data


def load_settings(**overrides: Any) -> Settings:
    """Resolve settings from overrides, environment, config file and defaults (in that order)."""
    explicit = {k: v for k, v in overrides.items() if v is not None}
    env = {key: os.environ[var] for key, var in ENV_VARS.items() if os.environ.get(var)}
    workspace = Path(explicit.get("workspace") or env.get("workspace") or DEFAULT_WORKSPACE)
    named = os.environ.get("CDP_CONFIG")
    config_path = Path(named or workspace / CONFIG_FILE_NAME)
    if named and not config_path.is_file():
        raise ConfigError(f"CDP_CONFIG names {config_path}, which does not exist")
    from_file = _read_file(config_path) if config_path.exists() else {}
    merged = {**from_file, **env, **explicit, "workspace": workspace}
    try:
        settings = Settings(**merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        source = config_path if config_path.exists() else "environment / arguments"
        raise ConfigError(f"{source}: invalid settings: {problems}") from exc
    return settings.model_copy(update={"workspace": settings.workspace.resolve()})
