"""The console's test server: a real ``cdp serve`` (uvicorn) in its own process on a free
loopback port, over a private copy of the shared pipeline run, with one user per role and
two API tokens (group-wide, and scoped to one store)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import pytest

from cdp.config import Settings, load_settings
from cdp.console.users import UserStore, users_db

#: role -> (user name, password); scopes are set from the data (the busiest store, its mall)
PASSWORDS = {
    "store_staff": ("clerk", "clerk-password"),
    "marketer": ("marketer", "marketer-password"),
    "operations": ("operations", "operations-password"),
    "crm": ("crm", "crm-password"),
    "analyst": ("analyst", "analyst-password"),
    "admin": ("admin", "admin-password"),
}


@dataclass(frozen=True)
class ConsoleServer:
    url: str
    settings: Settings
    #: the clerk's store and the operations user's mall
    store: str
    mall: str
    group_token: str
    store_token: str

    def marts(self, sql: str, restricted: bool = False) -> list[tuple]:
        """Rows of a query on the analysts' (or the restricted) marts file, read-only."""
        path = self.settings.restricted_marts_db if restricted else self.settings.marts_db
        with duckdb.connect(str(path), read_only=True) as con:
            return con.sql(sql).fetchall()

    def store_people(self) -> set[str]:
        """The OneIDs of everyone who bought at the clerk's store."""
        return {
            r[0]
            for r in self.marts(
                f"SELECT DISTINCT one_id FROM fct_orders WHERE store_code = '{self.store}' "
                "AND one_id IS NOT NULL"
            )
        }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _copy_workspace(shared: Settings, target: Path) -> Settings:
    # as shared_copy does: the landing zone is read where it is (nothing writes there)
    shutil.copytree(
        shared.workspace,
        target,
        ignore=lambda folder, _names: ["landing"] if Path(folder) == shared.workspace else [],
    )
    return load_settings(workspace=target, landing=shared.landing_dir.resolve())


def _busiest_store(settings: Settings) -> tuple[str, str]:
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        return con.sql(
            "SELECT d.store_code, d.mall_code FROM dim_stores AS d JOIN fct_orders AS o "
            "USING (store_code) WHERE d.is_physical AND d.mall_code IS NOT NULL "
            "GROUP BY ALL ORDER BY count(DISTINCT o.one_id) DESC, 1 LIMIT 1"
        ).fetchone()


def _wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"cdp serve exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"cdp serve did not answer on {url} within {seconds} s")


@pytest.fixture(scope="session")
def console_server(shared_run, tmp_path_factory):
    """``cdp serve`` over a copy of the shared run, with users and tokens."""
    settings = _copy_workspace(shared_run.settings, tmp_path_factory.mktemp("console") / "ws")
    store, mall = _busiest_store(settings)
    users = UserStore(users_db(settings.workspace))
    scopes = {"store_staff": f"store:{store}", "operations": f"mall:{mall}"}
    for role, (name, password) in PASSWORDS.items():
        users.add_user(name, password, role, scopes.get(role, "group"))
    group_token = users.issue_token("crm_desk", "operations", "group")
    store_token = users.issue_token("pos_till", "store_staff", f"store:{store}")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "cdp.cli", "--workspace", str(settings.workspace), "serve"]
        + ["--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_up(url, process)
        yield ConsoleServer(url, settings, store, mall, group_token, store_token)
    finally:
        process.terminate()
        process.wait(timeout=10)
