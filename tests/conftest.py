"""Shared fixtures: one embedded Sail session per test run, and throw-away workspaces."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from cdp.config import load_settings
    from cdp.runtime import spark_session

    settings = load_settings(workspace=tmp_path_factory.mktemp("spark-workspace"))
    with spark_session(settings) as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path):
    from cdp.config import load_settings

    return load_settings(workspace=tmp_path / "workspace")


@pytest.fixture
def lakehouse(settings):
    from cdp.lakehouse import Lakehouse

    return Lakehouse(settings.lakehouse_dir)
