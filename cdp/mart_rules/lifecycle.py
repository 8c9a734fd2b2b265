"""Lifecycle stage thresholds (``dbt_project/config/lifecycle.yml``) -> ``var('lifecycle')``.

Every threshold is a whole number of days and must be given: there are no silent defaults.
The purchase thresholds must grow in the order the stages follow each other
(first purchase < dormant < at risk < churned).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from cdp.mart_rules import read_model

FILE = "lifecycle.yml"

Days = Annotated[int, Field(strict=True, gt=0)]


class LifecycleRules(BaseModel):
    """The thresholds, in days since the event, of the lifecycle stages."""

    model_config = ConfigDict(extra="forbid")

    new_member_days: Days
    first_purchase_days: Days
    dormant_after_days: Days
    at_risk_after_days: Days
    churned_after_days: Days

    @field_validator("dormant_after_days", "at_risk_after_days", "churned_after_days")
    @classmethod
    def _after_previous_stage(cls, value: int, info: ValidationInfo) -> int:
        order = (
            "first_purchase_days",
            "dormant_after_days",
            "at_risk_after_days",
            "churned_after_days",
        )
        previous = order[order.index(info.field_name) - 1]
        if previous in info.data and value <= info.data[previous]:
            raise ValueError(f"must be greater than {previous} ({info.data[previous]})")
        return value


def load(path: Path) -> dict[str, Any]:
    """The validated thresholds of ``path``; ConfigError naming the file and key otherwise."""
    return read_model(path, LifecycleRules).model_dump()
