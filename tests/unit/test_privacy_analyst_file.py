"""The analysts' DuckDB file derived from the restricted one (cdp.privacy.analyst_file), and the
two declarations of personal columns (the catalogue, the dbt YAML) agreeing. No engine, no dbt:
the restricted file and the manifest are written here."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from pathlib import Path

import duckdb
import pytest
import yaml

from cdp.config import load_settings, packaged
from cdp.privacy import analyst_file
from cdp.tables import spec

PHONE = "13800138000"
MODELS = packaged("dbt_project") / "models"
READS = re.compile(r"""(?:ref\(\s*'stg_silver__(\w+)'|source\(\s*'silver'\s*,\s*'(\w+)')""")


def declared_models() -> dict[str, dict]:
    """Every model of the dbt YAML: name -> {column: is it declared pii}."""
    models = {}
    for path in MODELS.rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            models[model["name"]] = {
                c["name"]: (c.get("meta") or {}).get("pii") is True
                for c in model.get("columns", [])
            }
    return models


def silver_tables_read(model: str) -> set[str]:
    """The silver tables a model reads directly (its staging views or the source)."""
    sql = next(MODELS.rglob(f"{model}.sql")).read_text()
    return {a or b for a, b in READS.findall(sql)}


def test_the_dbt_yaml_and_the_catalogue_agree_on_personal_columns():
    # Where a model passes a silver column on under its own name, the YAML says pii exactly
    # when the catalogue calls that silver column personal.
    disagreements, checked = [], 0
    for model, columns in declared_models().items():
        for table in silver_tables_read(model):
            silver = spec(f"silver.{table}")
            for column in set(columns) & set(silver.schema.names):
                checked += 1
                if columns[column] != (column in silver.personal):
                    disagreements.append(f"{model}.{column} vs silver.{table}")
    assert checked > 100 and disagreements == []


def test_every_staging_view_of_a_personal_table_declares_its_personal_columns():
    models = declared_models()
    declared = {m: {c for c, pii in cols.items() if pii} for m, cols in models.items()}
    assert declared["stg_silver__members"] == {"phone", "name", "birthday", "email"}
    assert declared["stg_silver__orders"] == {"member_phone"}
    assert declared["int_orders__people"] == {"member_phone"}
    assert declared["int_identity__keys"] == {"identifier_value"}
    assert declared["customer_360"] == {"name", "phone", "birthday", "age"}
    assert declared["customer_360_masked"] == set()


# -- publishing ----------------------------------------------------------------------------
def node(schema: str, name: str, pii: tuple[str, ...] = (), resource: str = "model") -> dict:
    return {
        "resource_type": resource,
        "schema": schema,
        "name": name,
        "columns": {c: {"name": c, "meta": {"pii": True}} for c in pii},
    }


@pytest.fixture
def built(tmp_path):
    """Settings of a workspace whose restricted file and manifest a build left."""
    settings = load_settings(workspace=tmp_path / "workspace")
    restricted = settings.restricted_marts_db
    restricted.parent.mkdir(parents=True)
    with duckdb.connect(str(restricted)) as con:
        con.execute(
            f"""
            CREATE TABLE customer_360 AS SELECT 'o1' AS one_id, '{PHONE}' AS phone,
                DATE '1990-05-04' AS birthday, 3 AS order_count
                UNION ALL SELECT 'o2', NULL, NULL, 0;
            CREATE TABLE fct_orders AS SELECT 'o1' AS one_id, 100 AS paid_amount_fen;
            CREATE SCHEMA staging;
            CREATE VIEW staging.stg_silver__members AS SELECT '{PHONE}' AS phone;
            CREATE TABLE stray AS SELECT '{PHONE}' AS phone;
            """
        )
    manifest = {
        "nodes": {
            "a": node("main", "customer_360", ("phone", "birthday")),
            "b": node("main", "fct_orders"),
            "c": node("staging", "stg_silver__members", ("phone",)),
            "d": node("main", "customer_360_test", resource="test"),
        }
    }
    target = analyst_file.manifest_path(settings)
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(manifest))
    return settings


def contents(database: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "SELECT schema_name || '.' || table_name FROM duckdb_tables() ORDER BY 1"
        ).fetchall()
        views = con.execute("SELECT count(*) FROM duckdb_views() WHERE NOT internal").fetchone()
        assert views == (0,)
        return {t: con.execute(f"FROM {t} ORDER BY ALL").fetchall() for (t,) in tables}


def test_personal_columns_are_hashed_views_and_unknown_tables_left_out(built):
    published = analyst_file.publish_files(built)
    tables = contents(built.marts_db)
    assert sorted(tables) == ["main.customer_360", "main.fct_orders"]
    assert published.left_out == ["main.stray"]
    assert published.hashed == {"main.customer_360": ["birthday", "phone"]}
    with duckdb.connect(str(built.marts_db), read_only=True) as con:
        columns = [row[0] for row in con.execute("DESCRIBE customer_360").fetchall()]
    assert columns == ["one_id", "phone_hash", "birthday_hash", "order_count"]
    (o1, phone_hash, birthday_hash, orders), (o2, *nulls, _) = tables["main.customer_360"]
    assert (o1, orders, o2, nulls) == ("o1", 3, "o2", [None, None])
    assert re.fullmatch(r"[0-9a-f]{64}", phone_hash) and re.fullmatch(
        r"[0-9a-f]{64}", birthday_hash
    )
    # keyed: not the plain SHA-256 anyone can compute for every phone number
    assert phone_hash != hashlib.sha256(PHONE.encode()).hexdigest()
    assert PHONE.encode() not in built.marts_db.read_bytes()
    assert tables["main.fct_orders"] == [("o1", 100)]


def test_hashes_are_stable_across_builds_and_files_are_restricted(built):
    analyst_file.publish_files(built)
    first = contents(built.marts_db)
    analyst_file.publish_files(built)
    assert contents(built.marts_db) == first
    for path in (built.restricted_marts_db, analyst_file.hash_key_path(built)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    leftovers = [p.name for p in built.marts_db.parent.iterdir() if ".publishing" in p.name]
    assert leftovers == []


def test_without_a_manifest_publishing_says_so(built):
    analyst_file.manifest_path(built).unlink()
    with pytest.raises(analyst_file.PublishError, match=r"manifest.json: no dbt manifest"):
        analyst_file.publish_files(built)
    assert not built.marts_db.exists()
