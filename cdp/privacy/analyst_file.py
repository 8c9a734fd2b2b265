"""The two DuckDB files of the marts: dbt builds the restricted file
(``Settings.restricted_marts_db``, mode 0600: personal columns in clear, the staging views onto
silver) and ``publish_files`` derives the analysts' file (``Settings.marts_db``) from it after
every successful build.

The analysts' file holds a table for every table dbt built (models and seeds), nothing else: no
views (the staging views read silver through the delta extension), so nothing in it reaches
the lakehouse. A column declared personal (``meta: {pii: true}`` in the dbt YAML, read from the
manifest dbt wrote for the build) is replaced by ``<column>_hash``, a keyed SHA-256 of its text:
analysts can still count and join on it, but without the workspace's key (``hash_key_path``,
mode 0600 beside the restricted file) it cannot be reversed by hashing every phone number, as
an unkeyed hash of an 11-digit number can. A table the manifest does not know is left out.

The file is written beside the live one and renamed over it, like the build, so readers see the
previous file or the new one, never a half-written one.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cdp.config import Settings

#: the manifest resource types that are tables in the marts file
TABLE_RESOURCES = ("model", "seed", "snapshot")
#: what a personal column becomes in the analysts' file
HASHED_SUFFIX = "_hash"
#: owner read and write only: the restricted file, its log and the hash key
OWNER_ONLY = 0o600


class PublishError(RuntimeError):
    """The analysts' file could not be derived; the message names the file and why."""


@dataclass
class Published:
    """What ``publish_files`` wrote: tables per schema, the columns it hashed, what it left out."""

    database: Path
    tables: list[str] = field(default_factory=list)
    hashed: dict[str, list[str]] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the build's progress output."""
        columns = sum(len(c) for c in self.hashed.values())
        return (
            f"analysts' file: {len(self.tables)} tables, {columns} personal columns hashed in "
            f"{len(self.hashed)} tables, {len(self.left_out)} left out -> {self.database}"
        )


def manifest_path(settings: Settings) -> Path:
    """The manifest of the last dbt invocation (``cdp.marts.target_dir``)."""
    from cdp.marts import target_dir

    return target_dir(settings) / "manifest.json"


def hash_key_path(settings: Settings) -> Path:
    """The workspace's key of the analysts' hashes, beside the restricted file."""
    return settings.restricted_marts_db.with_name("analyst_hash.key")


def personal_columns(manifest: dict) -> dict[tuple[str, str], set[str]]:
    """(schema, table) -> the columns declared ``meta: {pii: true}``, for every table node of a
    dbt manifest (tables without personal columns map to an empty set)."""
    tables = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") not in TABLE_RESOURCES:
            continue
        relation = (node["schema"], node.get("alias") or node["name"])
        tables[relation] = {
            name for name, column in node.get("columns", {}).items() if _is_personal(column)
        }
    return tables


def _is_personal(column: dict) -> bool:
    """``meta: {pii: true}`` on the column, or under its ``config`` (dbt accepts both)."""
    meta = {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}
    return meta.get("pii") is True


def restrict(path: Path) -> None:
    """Owner read and write only, for the file and its write-ahead log where they exist."""
    for file in (path, path.with_name(path.name + ".wal")):
        if file.exists():
            os.chmod(file, OWNER_ONLY)


def _hash_key(settings: Settings) -> str:
    """The workspace's hash key (hex), created on first use readable by its owner only."""
    path = hash_key_path(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    return path.read_text().strip()


def _read_manifest(settings: Settings) -> dict:
    path = manifest_path(settings)
    if not path.is_file():
        raise PublishError(f"{path}: no dbt manifest; build the marts (cdp marts build) first")
    return json.loads(path.read_text(encoding="utf-8"))


def _base_tables(con) -> list[tuple[str, str]]:
    return con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE database_name = 'restricted' ORDER BY 1, 2"
    ).fetchall()


def _columns(con, schema: str, table: str) -> list[str]:
    return [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = 'restricted' "
            "AND schema_name = ? AND table_name = ? ORDER BY column_index",
            [schema, table],
        ).fetchall()
    ]


def select_list(columns: list[str], personal: set[str], key: str) -> str:
    """The SELECT list of a table's analyst copy: personal columns as ``<column>_hash`` (the
    SHA-256 of the key and the value's text; NULL stays NULL), the others as they are."""
    parts = []
    for column in columns:
        quoted = '"' + column.replace('"', '""') + '"'
        if column in personal:
            hashed = '"' + (column + HASHED_SUFFIX).replace('"', '""') + '"'
            parts.append(f"sha256('{key}' || CAST({quoted} AS VARCHAR)) AS {hashed}")
        else:
            parts.append(quoted)
    return ", ".join(parts)


def publish_files(settings: Settings) -> Published:
    """After a successful build: restrict the restricted file to its owner and derive the
    analysts' file from it (see the module doc); returns what was written."""
    restricted, analysts = settings.restricted_marts_db, settings.marts_db
    restrict(restricted)
    declared = personal_columns(_read_manifest(settings))
    key = _hash_key(settings)
    published = Published(analysts)
    staged = analysts.with_name(f"{analysts.name}.publishing")
    staged.unlink(missing_ok=True)
    try:
        with duckdb.connect(str(staged)) as con:
            # at 1M customers its tables take seconds each: no progress bar in the task's log
            con.execute("SET enable_progress_bar = false")
            con.execute(f"ATTACH '{restricted}' AS restricted (READ_ONLY)")
            for schema, table in _base_tables(con):
                _publish_table(con, schema, table, declared, key, published)
            con.execute("DETACH restricted")
            con.execute("CHECKPOINT")
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    os.replace(staged, analysts)
    analysts.with_name(analysts.name + ".wal").unlink(missing_ok=True)
    return published


def _publish_table(con, schema: str, table: str, declared, key: str, published) -> None:
    name = f"{schema}.{table}"
    if (schema, table) not in declared:
        published.left_out.append(name)
        return
    columns = _columns(con, schema, table)
    personal = declared[(schema, table)] & set(columns)
    con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    con.execute(
        f'CREATE TABLE "{schema}"."{table}" AS SELECT {select_list(columns, personal, key)} '
        f'FROM restricted."{schema}"."{table}"'
    )
    published.tables.append(name)
    if personal:
        published.hashed[name] = sorted(personal)
