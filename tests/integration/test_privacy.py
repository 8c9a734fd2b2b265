"""Erasure end to end on a private copy of the shared run: a person seen in several channels
is erased, and no value of theirs is left in any table, any Delta file still on disk (data and
log), the marts file or any export; a re-delivery of their raw lines lands without them; other
people's rows and OneIDs are unchanged; a second request changes nothing."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cdp import pipeline
from cdp.activation import export
from cdp.cli import cli
from cdp.config import load_settings
from cdp.lakehouse import Lakehouse
from cdp.marts import run_dbt
from cdp.privacy.exports import decode_dmp_line
from cdp.privacy.keys import hashed_forms, identifier_key, key_hash, search_terms
from cdp.tables import (
    CONSENT,
    GOLDEN_RECORDS,
    IDENTIFIERS,
    IDENTITY_MAP,
    INGEST_LOG,
    SEGMENT_RUNS,
    TOUCHES,
    bronze,
)

pytestmark = pytest.mark.integration


def _person(lakehouse: Lakehouse, exports: Path) -> tuple[str, list[str]]:
    """A exported person with a phone whose identifiers were seen by the most sources."""
    mapped = lakehouse.to_arrow(IDENTITY_MAP).to_pylist()
    seen = lakehouse.to_arrow(IDENTIFIERS, ["identifier_type", "identifier_value", "source"])
    sources: dict[str, set] = {}
    one_id_of = {(r["identifier_type"], r["identifier_value"]): r["one_id"] for r in mapped}
    for r in seen.to_pylist():
        one_id = one_id_of.get((r["identifier_type"], r["identifier_value"]))
        sources.setdefault(one_id, set()).add(r["source"].split(":")[0])
    sms = "\n".join(p.read_text(encoding="utf-8-sig") for p in exports.rglob("sms.csv"))
    phones = {r["one_id"]: r["identifier_value"] for r in mapped if r["identifier_type"] == "phone"}
    candidates = [o for o in phones if o in sms] or list(phones)
    one_id = max(sorted(candidates), key=lambda o: len(sources.get(o, ())))
    keys = sorted(
        identifier_key(r["identifier_type"], r["identifier_value"])
        for r in mapped
        if r["one_id"] == one_id
    )
    return one_id, keys


def _their_values(lakehouse: Lakehouse, one_id: str, keys: list[str]) -> set[str]:
    """Values only this person has: identifiers, their raw openids, and the golden record's
    name when nobody else has it."""
    values = set(search_terms(keys)) | {one_id}
    golden = lakehouse.to_arrow(GOLDEN_RECORDS, ["one_id", "name"]).to_pylist()
    names = [r["name"] for r in golden if r["name"]]
    mine = [r["name"] for r in golden if r["one_id"] == one_id and r["name"]]
    values |= {n for n in mine if names.count(n) == 1 and len(n) > 1}
    return values


def _texts_on_disk(lakehouse_dir: Path) -> dict[Path, str]:
    """The text of every Delta file on disk: parquet files' rows and the log's bytes."""
    texts = {}
    for path in sorted(p for p in lakehouse_dir.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            texts[path] = json.dumps(
                pq.read_table(path).to_pylist(), default=str, ensure_ascii=False
            )
        else:
            texts[path] = path.read_bytes().decode("utf-8", "replace")
    return texts


def _marts_text(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE'"
        ).fetchall()
        return json.dumps(
            [con.sql(f'SELECT * FROM "{s}"."{t}"').fetchall() for s, t in tables],
            default=str,
            ensure_ascii=False,
        )


def _exports_text(root: Path) -> str:
    texts = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix in (".zip", ".xlsx"):
            with zipfile.ZipFile(path) as archive:
                texts += [archive.read(n).decode("utf-8", "replace") for n in archive.namelist()]
            if path.name.startswith("oceanengine_"):  # base64 lines of many ids
                texts += [" ".join(decode_dmp_line(line)) for line in texts.pop().splitlines()]
        else:
            texts.append(path.read_text(encoding="utf-8-sig", errors="replace"))
    return "\n".join(texts)


def _someone_else(identity_map) -> str:
    return next(
        v
        for t, v in zip(
            identity_map["identifier_type"].to_pylist(),
            identity_map["identifier_value"].to_pylist(),
            strict=True,
        )
        if t == "phone"
    )


def _sampled_files(settings, phone: str, other_phone: str) -> tuple[list[Path], Path]:
    """A validation result and a data-docs page sampling the person's phone (as a failing
    expectation leaves them) and a dbt log line with it; a result sampling someone else."""
    docs = settings.reports_dir / "data_docs"
    results = docs.with_name("data_docs_validation_results") / "silver" / "run"
    page = docs / "validations" / "silver" / "run.html"
    log = settings.workspace / "dbt" / "logs" / "dbt.log"
    for path in (results, page.parent, log.parent):
        path.mkdir(parents=True, exist_ok=True)
    sample = {"partial_unexpected_list": [phone]}
    (results / "theirs.json").write_text(json.dumps(sample))
    page.write_text(f"<td>{phone}</td>")
    with log.open("a") as out:
        out.write(f"Database Error: Conversion Error: '{phone}'\n")
    kept = results / "other.json"
    kept.write_text(json.dumps({"partial_unexpected_list": [other_phone]}))
    return [results / "theirs.json", page, log], kept


def _derived_text(settings) -> str:
    from cdp.privacy.files import derived_roots

    roots = [r for r in derived_roots(settings) if r.exists()]
    paths = [p for r in roots for p in ([r] if r.is_file() else r.rglob("*"))]
    return "\n".join(p.read_text(errors="replace") for p in paths if p.is_file())


def _found(values: set[str], text: str) -> list[str]:
    return sorted(v for v in values if v in text)


def _redeliver(landing: Path, terms: list[str], target: Path) -> tuple[str, int]:
    """Copy the person's raw lines of one landing file as a new delivery in ``target``;
    (channel, lines)."""
    for path in sorted(landing.rglob("*.jsonl")):
        every = path.read_text(encoding="utf-8").splitlines()
        lines = [line for line in every if any(t in line for t in terms)]
        # a file of their lines only would be a copy, skipped by its checksum
        if lines and len(lines) < len(every):
            channel, day = path.parts[-3], path.parts[-2]
            out = target / channel / day / f"redelivered_{path.name}"
            out.parent.mkdir(parents=True)
            out.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
            return channel, len(lines)
    raise AssertionError("no landing file carries the person")


def test_an_erased_person_leaves_no_trace_and_stays_erased(shared_copy, tmp_path):
    settings = shared_copy
    lakehouse = Lakehouse(settings.lakehouse_dir)
    exports = settings.workspace / "exports"
    one_id, keys = _person(lakehouse, exports)
    phone = next(k.split(":", 1)[1] for k in keys if k.startswith("phone:"))
    values = _their_values(lakehouse, one_id, keys)
    hashes = hashed_forms(keys) - set(search_terms(keys))
    assert len({k.split(":")[0] for k in keys}) >= 2, keys
    before = {str(t): lakehouse.count(t) for t in lakehouse.tables()}
    others = lakehouse.to_arrow(IDENTITY_MAP, ["identifier_type", "identifier_value", "one_id"])
    others = others.filter(pc.not_equal(others["one_id"], one_id)).sort_by(
        [("identifier_type", "ascending"), ("identifier_value", "ascending")]
    )
    assert _found(values, "\n".join(_texts_on_disk(settings.lakehouse_dir).values()))
    planted, kept = _sampled_files(settings, phone, _someone_else(others))

    workspace = ["--workspace", str(settings.workspace), "--landing", str(settings.landing_dir)]
    runner = CliRunner()
    result = runner.invoke(
        cli, [*workspace, "privacy", "erase", "--type", "phone", "--value", phone]
    )
    assert result.exit_code == 0, result.output
    assert "erased" in result.output and "verification found 0" in result.output

    # no value of theirs anywhere: tables, every Delta file on disk, the marts, the exports
    disk = _texts_on_disk(settings.lakehouse_dir)
    leftovers = {str(p): _found(values, t) for p, t in disk.items() if _found(values, t)}
    assert not leftovers
    for database in (settings.restricted_marts_db, settings.marts_db):
        assert not _found(values, _marts_text(database)), database
    # reports and logs that sampled their values are gone, others' are kept
    assert not any(p.exists() for p in planted) and kept.exists()
    assert not _found(values, _derived_text(settings))
    exported = _exports_text(exports)
    assert not _found(values | hashes, exported)
    # the report: what went where, and a verification that found nothing
    [report_path] = (settings.reports_dir / "privacy").glob("erasure-*.json")
    report = json.loads(report_path.read_text())
    assert report["status"] == "erased" and report["one_id_sha256"] == key_hash(one_id)
    assert report["verification"]["rows_found"] == 0
    assert sum(report["removed"]["lakehouse"].values()) > 0
    assert not _found(values, report_path.read_text())
    assert set(report["removed"]["files"]) == {
        p.relative_to(settings.workspace).as_posix() for p in planted
    }
    kept_lines = report["landing"]["lines_per_file"]
    assert kept_lines and all(Path(f).is_file() for f in kept_lines)
    assert sum(kept_lines.values()) == sum(
        n for t, n in report["removed"]["lakehouse"].items() if t.startswith("bronze.")
    )
    # only their rows went; other people's OneIDs are unchanged
    after = {str(t): lakehouse.count(t) for t in lakehouse.tables()}
    for table, removed in report["removed"]["lakehouse"].items():
        assert before[table] - after[table] == removed, table
    untouched = (
        set(before)
        - set(report["removed"]["lakehouse"])
        - {"gold.audit_log", "meta.erasure_tombstones"}
    )
    assert {t: after[t] for t in untouched} == {t: before[t] for t in untouched}
    remaining = lakehouse.to_arrow(IDENTITY_MAP, ["identifier_type", "identifier_value", "one_id"])
    assert remaining.sort_by(
        [("identifier_type", "ascending"), ("identifier_value", "ascending")]
    ).equals(others)
    audit = runner.invoke(cli, [*workspace, "privacy", "audit"])
    assert "erasure" in audit.output and "export" in audit.output

    # a second request finds nothing and changes nothing
    versions = {str(t): lakehouse.version(t) for t in lakehouse.tables()}
    again = runner.invoke(
        cli, [*workspace, "privacy", "erase", "--type", "phone", "--value", phone]
    )
    assert again.exit_code == 0, again.output
    assert "already erased" in again.output
    assert {str(t): lakehouse.version(t) for t in lakehouse.tables()} == versions

    # a re-delivery of their raw lines lands without them, every row accounted for
    landing = tmp_path / "redelivery"
    channel, lines = _redeliver(settings.landing_dir, search_terms(keys), landing)
    redelivered = load_settings(workspace=settings.workspace, landing=landing)
    outcome = pipeline.ingest(redelivered)
    [file] = [f for f in outcome.files if f.status == "loaded"]
    assert (file.rows_in, file.loaded, file.quarantined, file.erased) == (lines, 0, 0, lines)
    log = lakehouse.to_arrow(INGEST_LOG).to_pylist()
    assert [
        r["erased"] for r in log if r["source_file"] == file.source_file and r["status"] == "loaded"
    ] == [lines]
    assert lakehouse.count(bronze(channel)) == after[f"bronze.{channel}"]
    assert not _found(values, "\n".join(_texts_on_disk(settings.lakehouse_dir).values()))

    # the next export, a day later, lists who left since the last one: the erased person
    # (counted, not named) and someone it reached who opted out since
    [last] = lakehouse.to_arrow(SEGMENT_RUNS).to_pylist()
    reached = lakehouse.to_arrow(TOUCHES, ["one_id", "channel"]).to_pylist()
    leaver = min(r["one_id"] for r in reached if r["channel"] == "sms")
    _opt_out(lakehouse, leaver, last["as_of"] + timedelta(days=1))
    run_dbt(settings, ["build"], as_of=(last["as_of"] + timedelta(days=1)).isoformat())
    following = export.export_segment(settings, last["segment"])
    left = following.manifest["left_since_last_export"]
    assert left["previous_run"] == last["run_id"]
    assert left["opted_out"] == [{"one_id": leaver, "reason": "opt_out", "channels": ["sms"]}]
    assert left["erased"] == {"people": 1, "requests": [report["request_id"]]}
    written = json.loads((following.folder / "manifest.json").read_text())
    assert written["left_since_last_export"] == left


def _opt_out(lakehouse: Lakehouse, one_id: str, day) -> None:
    """A withdrawal of SMS consent by the person's phone at noon of ``day`` (China time)."""
    mapped = lakehouse.to_arrow(IDENTITY_MAP).to_pylist()
    phone = next(
        r["identifier_value"]
        for r in mapped
        if r["one_id"] == one_id and r["identifier_type"] == "phone"
    )
    template = lakehouse.to_arrow(CONSENT).slice(0, 1).to_pylist()[0]
    noon = datetime.combine(day, time(4, 0), tzinfo=UTC)
    row = template | {
        "identifier_type": "phone",
        "identifier_value": phone,
        "identifier_is_valid": True,
        "channel": "sms",
        "status": "opt_out",
        "occurred_at": noon,
    }
    if "event_id" in row:
        row["event_id"] = f"test-opt-out-{one_id}"
    schema = lakehouse.to_arrow(CONSENT).schema
    lakehouse.append_arrow(pa.Table.from_pylist([row], schema=schema), CONSENT)
