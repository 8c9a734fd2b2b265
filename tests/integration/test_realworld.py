"""Acceptance on a landing zone written by others: tests/fixtures/realworld.

The fixture was written by hand from docs/sources.md and spark_jobs/contracts.py, not by our
generator, with the spellings, corrections and broken files real partners deliver. Its
``expected.yml`` says what must happen to every file, which identifiers must (not) share a
OneID and which silver values must result; these tests check each entry on a copy of it.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from cdp import pipeline
from cdp.config import load_settings
from cdp.lakehouse import Lakehouse, Table
from cdp.runtime import spark_session
from cdp.tables import IDENTITY_MAP
from spark_jobs.ingest import INGEST_LOG, QUARANTINE

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "realworld"
LANDING = FIXTURE / "landing"
EXPECTED = yaml.safe_load((FIXTURE / "expected.yml").read_text(encoding="utf-8"))
#: what the ingest log may finally say about a file (``started`` is only a step on the way)
FINAL_STATUSES = {"loaded", "unreadable", "duplicate", "ignored"}


# -- the fixture itself (no engine) ------------------------------------------------------------
def delivered_files() -> list[str]:
    """Every file of the fixture's landing zone, relative to it."""
    return sorted(str(p.relative_to(LANDING)) for p in LANDING.rglob("*") if p.is_file())


def data_lines(path: Path) -> int:
    """Records in a readable file counted without the platform: lines split on LF only (a
    U+2028 inside a value is no line break), a leading BOM dropped, a CSV header not counted."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # the POS contract's other encoding
        text = data.decode("gb18030")
    lines = text.lstrip("\ufeff").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return len(lines) - (1 if path.suffix == ".csv" else 0)


def test_expected_yml_describes_every_delivered_file():
    assert sorted(EXPECTED["files"]) == delivered_files()


@pytest.mark.parametrize(
    "name", [n for n, e in EXPECTED["files"].items() if e["status"] == "loaded"]
)
def test_expected_row_counts_match_the_files_lines(name):
    expected = EXPECTED["files"][name]
    assert expected["rows_in"] == data_lines(LANDING / name)
    assert expected["rows_in"] == expected["loaded"] + expected["quarantined"]
    assert sum(expected.get("reasons", {}).values()) == expected["quarantined"]


# -- one run of ingest, standardise and OneID on a copy ----------------------------------------
STEPS = ("ingest", "standardise", "resolve_identity")


@pytest.fixture(scope="module")
def run_steps(tmp_path_factory):
    """ingest -> standardise -> OneID, sharing one Spark session, on a copy of the fixture's
    landing zone: (settings, ingest report, {step: error}). A step that raises stops the run;
    its error is kept so that the checks of the steps before it still report on their own."""
    workspace = tmp_path_factory.mktemp("realworld")
    shutil.copytree(LANDING, workspace / "landing")
    settings = load_settings(workspace=workspace)
    report, errors = None, {}
    with spark_session(settings) as spark:
        for step in STEPS:
            try:
                result = getattr(pipeline, step)(settings, spark)
            except Exception as exc:  # noqa: BLE001 -- reported by each check needing the step
                errors[step] = f"{type(exc).__name__}: {exc}"
                break
            report = result if step == "ingest" else report
    return settings, report, errors


def completed(run_steps, step: str):
    """(settings, lakehouse, ingest report), failing the check when ``step`` did not run."""
    settings, report, errors = run_steps
    for earlier in STEPS[: STEPS.index(step) + 1]:
        if earlier in errors:
            pytest.fail(f"pipeline.{earlier} raised {errors[earlier]}")
    return settings, Lakehouse(settings.lakehouse_dir), report


@pytest.fixture(scope="module")
def realworld(run_steps):
    """After ingest only: what bronze, the quarantine and the ingest log hold."""
    return completed(run_steps, "ingest")


@pytest.fixture(scope="module")
def standardised(run_steps):
    return completed(run_steps, "standardise")


@pytest.fixture(scope="module")
def resolved(run_steps):
    return completed(run_steps, "resolve_identity")


def relative(source_file: str, landing: Path) -> str:
    path = Path(source_file)
    return str(path.resolve().relative_to(landing.resolve()) if path.is_absolute() else path)


@pytest.fixture(scope="module")
def log_by_file(realworld) -> dict[str, dict]:
    """The ingest log's final entry of every file, by path relative to the landing zone."""
    settings, lakehouse, _ = realworld
    rows = sorted(lakehouse.to_arrow(INGEST_LOG).to_pylist(), key=lambda r: r["ingested_at"])
    final = {}
    for row in rows:
        if row["status"] != "started":
            final[relative(row["source_file"], settings.landing_dir)] = row
    return final


def rows_by_file(realworld, table: Table) -> Counter:
    settings, lakehouse, _ = realworld
    if not lakehouse.exists(table):
        return Counter()
    files = lakehouse.to_arrow(table, ["_source_file"]).column("_source_file").to_pylist()
    return Counter(relative(f, settings.landing_dir) for f in files)


@pytest.fixture(scope="module")
def quarantine(realworld) -> list[dict]:
    settings, lakehouse, _ = realworld
    rows = lakehouse.to_arrow(QUARANTINE).to_pylist() if lakehouse.exists(QUARANTINE) else []
    return [{**r, "file": relative(r["_source_file"], settings.landing_dir)} for r in rows]


def test_the_ingest_log_accounts_for_every_file(log_by_file):
    missing = sorted(set(delivered_files()) - set(log_by_file))
    assert not missing, f"files the ingest log does not mention: {missing}"
    odd = {
        name: row["status"]
        for name, row in log_by_file.items()
        if row["status"] not in FINAL_STATUSES
    }
    assert not odd, f"files neither loaded, unreadable, duplicate nor ignored: {odd}"


def test_every_line_is_loaded_or_quarantined(realworld, log_by_file):
    _, lakehouse, _ = realworld
    bronze = Counter()
    for table in lakehouse.tables("bronze"):
        if table != QUARANTINE:
            bronze += rows_by_file(realworld, table)
    quarantined = rows_by_file(realworld, QUARANTINE)
    for name, row in log_by_file.items():
        assert row["rows_in"] == row["loaded"] + row["quarantined"], name
        if row["status"] == "loaded":
            assert (bronze[name], quarantined[name]) == (row["loaded"], row["quarantined"]), name


@pytest.mark.parametrize("name", sorted(EXPECTED["files"]))
def test_file_outcome(name, realworld, log_by_file, quarantine):
    settings, _, _ = realworld
    expected = EXPECTED["files"][name]
    assert name in log_by_file, f"{name}: not in the ingest log"
    row = log_by_file[name]
    assert row["status"] == expected["status"], f"{name}: {row}"
    if expected["status"] == "loaded":
        counts = {k: row[k] for k in ("rows_in", "loaded", "quarantined")}
        assert counts == {k: expected[k] for k in counts}, name
        reasons = Counter(r["reason"] for r in quarantine if r["file"] == name)
        assert reasons == Counter(expected.get("reasons", {})), name
    elif expected["status"] == "unreadable":
        reasons = [r["reason"] for r in quarantine if r["file"] == name]
        assert len(reasons) == 1 and reasons[0].startswith(expected["reason"]), (
            f"{name}: quarantine reasons {reasons}, expected one starting {expected['reason']!r}"
        )
    elif expected["status"] == "ignored":
        assert row.get("reason"), f"{name}: ignored without a reason: {row}"
    elif expected["status"] == "duplicate":
        assert relative(row["duplicate_of"], settings.landing_dir) == expected["duplicate_of"]


def test_the_run_reports_unreadable_and_ignored_files(realworld):
    settings, _, report = realworld
    reported = {relative(f.source_file, settings.landing_dir): f.status for f in report.files}
    for name, expected in EXPECTED["files"].items():
        if expected["status"] in ("unreadable", "ignored"):
            assert reported.get(name) == expected["status"], name


# -- OneID -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def one_ids(resolved) -> dict[tuple[str, str], str]:
    _, lakehouse, _ = resolved
    rows = lakehouse.to_arrow(IDENTITY_MAP, ["identifier_type", "identifier_value", "one_id"])
    return {(t, v): o for t, v, o in zip(*[c.to_pylist() for c in rows.columns])}


def _pair_id(entry: dict) -> str:
    return " ~ ".join(f"{t}:{v}" for t, v in entry["pair"])


def _lookup(one_ids, identifier) -> str:
    kind, value = identifier
    assert (kind, value) in one_ids, f"{kind} {value!r} is not in silver.identity_map"
    return one_ids[(kind, value)]


@pytest.mark.parametrize("entry", EXPECTED["same_person"], ids=_pair_id)
def test_same_person(entry, one_ids):
    first, second = (_lookup(one_ids, i) for i in entry["pair"])
    assert first == second, f"{entry['why']}: two OneIDs {first} and {second}"


@pytest.mark.parametrize("entry", EXPECTED["different_people"], ids=_pair_id)
def test_different_people(entry, one_ids):
    first, second = (_lookup(one_ids, i) for i in entry["pair"])
    assert first != second, f"{entry['why']}: merged into {first}"


def test_identifier_values_are_canonical(one_ids):
    clean = re.compile(EXPECTED["clean_value_pattern"])
    patterns = {k: re.compile(p) for k, p in EXPECTED["identifier_patterns"].items()}
    unclean = sorted((k, v) for k, v in one_ids if not clean.match(v))
    off_pattern = sorted((k, v) for k, v in one_ids if k in patterns and not patterns[k].match(v))
    absent = [tuple(i) for i in EXPECTED["absent_identifiers"] if tuple(i) in one_ids]
    assert (unclean, off_pattern, absent) == ([], [], [])


# -- silver ------------------------------------------------------------------------------------
def _silver_id(check: dict) -> str:
    return f"{check['table']}:" + ",".join(f"{v}" for v in check["where"].values())


@pytest.mark.parametrize("check", EXPECTED["silver"], ids=_silver_id)
def test_silver_values(check, standardised):
    _, lakehouse, _ = standardised
    table = Table("silver", check["table"])
    assert lakehouse.exists(table), f"{table} does not exist"
    rows = [
        r
        for r in lakehouse.to_arrow(table).to_pylist()
        if all(r.get(k) == v for k, v in check["where"].items())
    ]
    why = check["why"]
    if "rows" in check:
        assert len(rows) == check["rows"], f"{why}: {rows}"
    for column, value in check.get("expect", {}).items():
        assert rows and [r[column] for r in rows] == [value] * len(rows), f"{why}: {column}"
    for column, prefix in check.get("startswith", {}).items():
        assert rows and all(str(r[column]).startswith(prefix) for r in rows), f"{why}: {rows}"
    for column, values in check.get("values", {}).items():
        assert sorted(r[column] for r in rows) == sorted(values), f"{why}: {column}"
    for column, total in check.get("sum", {}).items():
        assert sum(r[column] for r in rows) == total, f"{why}: {column}"


# -- the whole run -----------------------------------------------------------------------------
def test_the_whole_run_builds_the_marts_on_this_channel_mix(tmp_path):
    """`cdp run` on channels some of which never deliver (no coupons, loyalty, consent or
    WeChat events) and with broken files among good ones: it completes, marts built."""
    import duckdb

    shutil.copytree(LANDING, tmp_path / "landing")
    settings = load_settings(workspace=tmp_path)
    summary = pipeline.run(settings)
    assert [(g.layer, g.success) for g in summary.gates] == [
        ("bronze", True),
        ("silver", True),
        ("identity", True),
    ]
    assert summary.marts is not None and settings.marts_db.is_file()
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        orders = con.sql("select count(*) from fct_orders").fetchone()[0]
        people = con.sql("select count(*) from customer_360").fetchone()[0]
    assert orders > 0 and people > 0
