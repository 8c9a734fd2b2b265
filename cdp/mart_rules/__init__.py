"""Business rules of the marts, in YAML files under ``dbt_project/config/`` (one per domain).

dbt cannot read files, so ``cdp.marts`` loads and validates each file here and hands the result
to dbt as a variable named after the file (``loyalty.yml`` -> ``var('loyalty')``). Each module
of this package owns one file: ``FILE`` (its name) and ``load(path) -> dict`` (validated,
JSON-serialisable). Errors name the file and the key.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from cdp.config import ConfigError

#: the rule modules, one per file
MODULES = ("lifecycle", "loyalty", "tags", "insight")


def dotted(loc: tuple) -> str:
    return ".".join(str(p) for p in loc)


def read_model(path: Path, model: type[BaseModel], key_path=dotted) -> BaseModel:
    """Parse ``path`` as YAML into ``model``; ConfigError naming the file and key otherwise
    (``key_path`` spells a pydantic error location)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = "; ".join(
            (f"{key_path(err['loc'])}: " if err["loc"] else "") + err["msg"] for err in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc


def load_vars(config_dir: Path) -> dict[str, Any]:
    """``{name: validated rules}`` for every rule module whose file exists."""
    found = {}
    for name in MODULES:
        try:
            module = importlib.import_module(f"cdp.mart_rules.{name}")
        except ModuleNotFoundError:
            continue
        path = Path(config_dir) / module.FILE
        if path.is_file():
            found[name] = module.load(path)
    return found
