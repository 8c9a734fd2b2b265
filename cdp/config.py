"""Configuration: the one place that resolves settings.

Resolution order for every setting, first match wins:
  1. an explicit value passed by the caller (CLI flag),
  2. an environment variable (``CDP_HOME``, ``CDP_LANDING``, ``SPARK_REMOTE``, ...),
  3. the YAML file ``cdp.yaml`` in the workspace (or the file named by ``CDP_CONFIG``),
  4. the documented default below.

Every value is validated; an unknown key or a bad value is an error that names where it came
from (the file, the environment variable or the argument) and the key. Nothing is read at
import time.

The resources the platform runs on (the dbt project, the expectation suites, the example
segments) ship inside the installed package as ``cdp_resources.<folder>`` (see pyproject.toml)
and are found with ``importlib.resources``; the settings name the folders actually used, so a
team can point at its own copy. The segments folder is the marketers' own: it lives in the
workspace and is seeded with the example segments the first time it is used.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    "sail_memory_limit": "CDP_SAIL_MEMORY_LIMIT",
    "lock_wait_seconds": "CDP_LOCK_WAIT_SECONDS",
    "source_timezone": "CDP_SOURCE_TIMEZONE",
    "segments_dir": "CDP_SEGMENTS_DIR",
    "journeys_dir": "CDP_JOURNEYS_DIR",
    "journey_lateness_days": "CDP_JOURNEY_LATENESS_DAYS",
    "dbt_project_dir": "CDP_DBT_PROJECT_DIR",
    "expectations_dir": "CDP_EXPECTATIONS_DIR",
    "vacuum_retention_hours": "CDP_VACUUM_RETENTION_HOURS",
    "alert_webhook_url": "CDP_ALERT_WEBHOOK_URL",
}
DEFAULT_WORKSPACE = Path("cdp_data")
CONFIG_FILE_NAME = "cdp.yaml"
#: the time zone sources write local times in, unless ``source_timezone`` says otherwise
DEFAULT_SOURCE_TIMEZONE = "Asia/Shanghai"
#: the package holding the resource folders (pyproject.toml maps each folder into it)
RESOURCE_PACKAGE = "cdp_resources"
#: what of the packaged segments folder is the marketers' (not the package's own files)
SEGMENT_EXAMPLE_FILES = ("*.yml", "*.md")
#: a memory size as DuckDB writes one (4GB, 512MB); the units are powers of 1000, as in DuckDB
MEMORY_SIZE = r"^(\d+(\.\d+)?)\s*(KB|MB|GB|TB)$"
UNITS = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
#: the ``sail_memory_limit`` that leaves Sail's memory pool unbounded
UNBOUNDED = "unbounded"


class ConfigError(ValueError):
    """A configuration file or value is invalid; the message names the file and key."""


def size_in_bytes(size: str) -> int:
    """Bytes of a ``MEMORY_SIZE`` such as ``4GB``."""
    match = re.fullmatch(MEMORY_SIZE, size)
    if match is None:
        raise ValueError(f"{size!r} is not a memory size such as 4GB or 512MB")
    return int(float(match.group(1)) * UNITS[match.group(3)])


def packaged(folder: str) -> Path:
    """The installed copy of a resource folder of the repository: ``dbt_project``,
    ``expectations`` or ``segments``."""
    # Installed packages are folders on disk (dbt and the copy of segments need real files).
    return Path(str(resources.files(f"{RESOURCE_PACKAGE}.{folder}")))


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
    #: IANA time zone in which source systems write local times; business dates are days in it
    source_timezone: str = DEFAULT_SOURCE_TIMEZONE
    #: identity resolution rules (YAML); unset = the rules shipped in ``identity/rules.yml``
    identity_rules: Path | None = None
    #: connected-components engine: ``auto`` picks ``embedded`` up to
    #: ``identity_embedded_max_edges`` graph edges, ``spark`` beyond
    identity_engine: Literal["auto", "embedded", "spark"] = "auto"
    identity_embedded_max_edges: int = Field(default=500_000_000, ge=0)
    #: DuckDB's memory limit for the marts build, the quality gates and the in-process DuckDB
    #: of the pipeline steps (cdp.local_duckdb; DuckDB syntax: 4GB, 512MB)
    duckdb_memory_limit: str = Field(default="4GB", pattern=MEMORY_SIZE)
    #: the memory pool of the embedded Sail the OneID step starts (its operators spill past
    #: it; ``cdp.runtime.sail_environment``), or ``unbounded``
    sail_memory_limit: str = Field(default="4GB", pattern=f"{MEMORY_SIZE}|^{UNBOUNDED}$")
    #: how long a writing command waits for another one on the same workspace to finish
    #: before it refuses (0: refuse at once)
    lock_wait_seconds: float = Field(default=0.0, ge=0)
    #: `cdp maintain` deletes files tables stopped using this many hours ago or more: a reader
    #: or time travel to a version younger than that still finds its files. Below the
    #: table's own safety window (Delta's deletedFileRetentionDuration, 168 hours by default)
    #: only when set explicitly (file, environment or flag), never by default
    vacuum_retention_hours: int = Field(default=168, ge=0)
    #: where the DAGs post a failed task or a missed deadline as JSON (``cdp.alerts``); unset:
    #: no alert is sent
    alert_webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    #: the marketers' segment definitions; default ``<workspace>/segments``, seeded with the
    #: example segments on first use (``segments_folder``)
    segments_dir: Path = Field(default_factory=lambda data: data["workspace"] / "segments")
    #: the journey definitions; default ``<workspace>/journeys``, seeded with the example
    #: journeys on first use (``journeys_folder``)
    journeys_dir: Path = Field(default_factory=lambda data: data["workspace"] / "journeys")
    #: a journey run also enters people on trigger events this many days older than its day
    #: (events delivered late)
    journey_lateness_days: int = Field(default=2, ge=0, le=30)
    #: the dbt project of the marts; default: the one installed with the package
    dbt_project_dir: Path = Field(default_factory=lambda: packaged("dbt_project"))
    #: the Great Expectations suites of the quality gates; default: the installed ones
    expectations_dir: Path = Field(default_factory=lambda: packaged("expectations"))

    @field_validator("segments_dir", "journeys_dir", "dbt_project_dir", "expectations_dir")
    @classmethod
    def _configured_folder_exists(cls, value: Path) -> Path:
        # Defaults are not validated: only a folder someone configured is checked here (the
        # default segments folder is created on first use, by segments_folder).
        if not value.is_dir():
            raise ValueError(f"folder {value} does not exist")
        return value

    @field_validator("source_timezone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; expected an IANA name such as Asia/Shanghai"
            ) from None
        return value

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
    def restricted_marts_db(self) -> Path:
        """The DuckDB file dbt builds, personal columns in clear: the packs that need raw
        phones read it, analysts do not (mode 0600; ``cdp.privacy.analyst_file``)."""
        return self.workspace / "marts" / "restricted.duckdb"

    @property
    def reports_dir(self) -> Path:
        return self.workspace / "reports"


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
    # Resolved first: defaults derived from the workspace (segments_dir) are absolute too.
    merged = {**from_file, **env, **explicit, "workspace": workspace.resolve()}
    try:
        return Settings(**merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_source_of(str(err['loc'][0]), explicit, env, config_path)}: "
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc


def _source_of(key: str, explicit: dict, env: dict, config_path: Path) -> str:
    """Where the value of ``key`` came from, for an error message."""
    if key in explicit:
        return "the command line"
    if key in env:
        return f"environment variable {ENV_VARS[key]}"
    return str(config_path)


def segments_folder(settings: Settings) -> Path:
    """The segments folder of these settings, seeded with the example segments when it does
    not exist yet (the default ``<workspace>/segments`` on first use). An existing folder is
    never written to: what marketers changed or removed there stays as it is."""
    folder = settings.segments_dir
    if not folder.exists():
        _seed(folder, packaged("segments"))
    return folder


def journeys_folder(settings: Settings) -> Path:
    """The journeys folder of these settings, seeded with the example journeys when it does
    not exist yet (like ``segments_folder``)."""
    folder = settings.journeys_dir
    if not folder.exists():
        _seed(folder, packaged("journeys"))
    return folder


def _seed(folder: Path, examples: Path) -> None:
    """Copy the example files into ``folder`` in one rename, so two commands seeding at once
    never mix their copies (the later rename fails and its copy is dropped)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        for pattern in SEGMENT_EXAMPLE_FILES:
            for example in examples.glob(pattern):
                shutil.copy2(example, staging / example.name)
        os.rename(staging, folder)
    except OSError:
        if not folder.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
