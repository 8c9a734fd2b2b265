"""What the dbt models read from dbt, for sqlfluff's jinja templater (see .sqlfluff).

``var()`` returns the variables ``cdp marts build`` passes (the business rules of
dbt_project/config, the source time zone, no as-of day, no segment exports yet), so the linted
SQL is the SQL dbt runs, loops over the rules included. The other dbt functions are sqlfluff's
dbt builtins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdp.config import DEFAULT_SOURCE_TIMEZONE
from cdp.mart_rules import load_vars

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
VARIABLES: dict[str, Any] = {
    "as_of": None,
    "has_segment_exports": False,
    "source_timezone": DEFAULT_SOURCE_TIMEZONE,
    **load_vars(DBT_PROJECT / "config"),
}


def var(name: str, default: Any = None) -> Any:
    """dbt's ``var()``: the variable ``cdp marts build`` would pass, else ``default``."""
    return VARIABLES.get(name, default)


def env_var(name: str, default: str | None = None) -> str:
    """dbt's ``env_var()``: a placeholder path (the linter reads no files)."""
    return default if default is not None else f"/{name.lower()}"
