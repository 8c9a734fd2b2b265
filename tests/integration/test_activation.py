"""Activation end to end on the shared ``marts`` build (copied: exports write to the workspace).

The example segment is exported; its manifest must add up, list every file with its checksum,
and agree with the files, the marts and silver; exporting again must rewrite the same bytes;
a second run as of an earlier day must give who entered and who left.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from cdp.activation import export, history
from cdp.activation.channels import DMP_CHANNELS
from cdp.config import load_settings
from cdp.lakehouse import Lakehouse, Table
from cdp.marts import run_dbt

pytestmark = pytest.mark.integration

SEGMENT = "autumn_art_lovers"
GROUP = ("wechat_cs", "wechat_template", "sms")  # the shipped exclusive group


@pytest.fixture(scope="module")
def workspace(marts, tmp_path_factory):
    settings, _ = marts
    ws = tmp_path_factory.mktemp("activation") / "workspace"
    shutil.copytree(settings.workspace, ws)
    return load_settings(workspace=ws)


@pytest.fixture(scope="module")
def first(workspace):
    return export.export_segment(workspace, SEGMENT)


def read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def expected_members(settings) -> set[str]:
    """The example segment's rule, written by hand over the marts and silver."""
    lakehouse = Lakehouse(settings.lakehouse_dir)
    identity = lakehouse.to_arrow(Table("silver", "identity_map"))
    with duckdb.connect(str(settings.marts_db), read_only=True) as con:
        con.register("identity", identity)
        return {
            one_id
            for (one_id,) in con.sql("""
            WITH day AS (SELECT max(as_of) AS as_of FROM customer_lifecycle),
            views AS (
                SELECT one_id, count(*) AS n FROM customer_timeline, day
                WHERE channel = 'web' AND event_type = 'page_view'
                  AND event_date > day.as_of - 30 AND event_date <= day.as_of
                GROUP BY one_id)
            SELECT l.one_id FROM customer_lifecycle AS l
            LEFT JOIN views USING (one_id)
            WHERE (l.one_id IN (SELECT one_id FROM customer_tags WHERE tag = 'art_buyer_90d')
                   OR (l.lifecycle_stage IN ('follower', 'member', 'member_never_bought')
                       AND coalesce(views.n, 0) >= 3))
              AND l.one_id NOT IN (SELECT one_id FROM customer_tags WHERE tag = 'coupon_scalper')
              AND l.one_id NOT IN (SELECT one_id FROM identity
                                   WHERE identifier_type = 'phone'
                                     AND identifier_value = '13800000000')""").fetchall()
        }


def test_segment_is_listed_with_its_size(workspace, first):
    listed = {s.name: s for s in export.segments_list(workspace)}
    assert listed[SEGMENT].size == first.manifest["counts"]["segment"] > 0
    shown = export.segment_preview(workspace, SEGMENT, sample_size=5)
    assert shown.size == listed[SEGMENT].size
    phones = [row[shown.sample_columns.index("phone")] for row in shown.sample]
    assert all(p is None or "****" in p for p in phones)


def test_export_end_to_end(workspace, first):
    manifest = json.loads((first.folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest == first.manifest
    counts = manifest["counts"]
    assert first.folder == workspace.workspace / "exports" / SEGMENT / manifest["run_id"]
    assert manifest["run_id"] == f"{first.as_of:%Y%m%d}-{manifest['definition_sha256'][:12]}"

    # who: the hand-written rule; the split: recorded, and adding up
    assignment = read_csv(first.folder / "assignment.csv")
    assert {row["one_id"] for row in assignment} == expected_members(workspace)
    assert counts["segment"] == len(assignment) == counts["treatment"] + counts["control"]
    assert counts["control"] == sum(row["group"] == "control" for row in assignment)
    assert counts["control"] == counts["suppressed"].get("control_group", 0)
    assert counts["segment"] == counts["exported"] + sum(counts["suppressed"].values())

    # every file is in the manifest with its checksum, and nothing else is there
    on_disk = {
        p.relative_to(first.folder).as_posix(): p
        for p in first.folder.rglob("*")
        if p.is_file() and p.name != "manifest.json"
    }
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == {
        name: sha256(path) for name, path in on_disk.items()
    }

    # the packs hold what the manifest counts; CSV and XLSX agree
    control = {row["one_id"] for row in assignment if row["group"] == "control"}
    reached: dict[str, set[str]] = {}
    for channel, info in manifest["channels"].items():
        if channel in DMP_CHANNELS:
            assert manifest["dmp"][channel]["dropped"] == {}
            written = manifest["dmp"][channel].get(
                "rows_written", manifest["dmp"][channel].get("ids_written")
            )
            assert written == info["exported"]
            continue
        rows = []
        for name in info["files"]:
            if name.endswith(".csv"):
                assert (first.folder / name).read_bytes().startswith(b"\xef\xbb\xbf")
                from_csv = read_csv(first.folder / name)
                sheet = load_workbook(
                    first.folder / name.replace(".csv", ".xlsx"), read_only=True
                ).active
                values = [[c or None for c in r] for r in sheet.iter_rows(values_only=True)]
                assert values[1:] == [[v or None for v in row.values()] for row in from_csv]
                rows += from_csv
        assert len(rows) == info["exported"]
        reached[channel] = {row["one_id"] for row in rows}
        assert not reached[channel] & control
        assert info["exported"] + sum(info["suppressed"].values()) <= counts["treatment"]
    # one channel of the exclusive group per person
    for a in GROUP:
        for b in GROUP:
            if a < b:
                assert not reached.get(a, set()) & reached.get(b, set())


def test_sms_pack_honours_consent(workspace, first):
    sms = read_csv(first.folder / "sms.csv")
    lakehouse = Lakehouse(workspace.lakehouse_dir)
    consent = lakehouse.to_arrow(Table("silver", "consent")).to_pylist()
    cutoff = datetime.combine(first.as_of, time(16, 0), tzinfo=UTC)  # midnight in China
    latest: dict[tuple[str, str], tuple] = {}
    for r in consent:
        if (
            r["identifier_is_valid"]
            and r["channel"] in ("sms", "all")
            and r["occurred_at"] < cutoff
        ):
            key = (r["identifier_type"], r["identifier_value"])
            rank = (r["occurred_at"], r["status"] == "opt_out")
            if key not in latest or rank > latest[key][0]:
                latest[key] = (rank, r["status"])
    for row in sms:
        assert latest[("phone", row["phone"])][1] == "opt_in"
    assert len({row["phone"] for row in sms}) == len(sms)


def test_membership_and_touches_are_recorded(workspace, first):
    lakehouse = Lakehouse(workspace.lakehouse_dir)
    [run] = lakehouse.to_arrow(history.RUNS).to_pylist()
    counts = first.manifest["counts"]
    assert (run["segment"], run["run_id"], run["as_of"], run["members"], run["exported"]) == (
        SEGMENT,
        first.run_id,
        first.as_of,
        counts["segment"],
        counts["exported"],
    )
    membership = lakehouse.to_arrow(history.MEMBERSHIP).to_pylist()
    assert len(membership) == first.manifest["counts"]["segment"]
    assert {m["run_id"] for m in membership} == {first.run_id}
    # journeys sending in the shared run record their touches here too, under their own run ids
    touches = [
        t for t in lakehouse.to_arrow(history.TOUCHES).to_pylist() if t["run_id"] == first.run_id
    ]
    assert {t["segment"] for t in touches} == {SEGMENT}
    assert len(touches) == sum(c["exported"] for c in first.manifest["channels"].values())
    # sent at 10:00 China time the day after the as-of day
    assert {t["touched_at"] for t in touches} == {
        datetime.combine(first.as_of + timedelta(days=1), time(2, 0), tzinfo=UTC)
    }


def test_reexport_is_byte_identical(workspace, first):
    before = {p: sha256(p) for p in first.folder.rglob("*") if p.is_file()}
    again = export.export_segment(workspace, SEGMENT)
    assert again.run_id == first.run_id
    assert {p: sha256(p) for p in again.folder.rglob("*") if p.is_file()} == before
    lakehouse = Lakehouse(workspace.lakehouse_dir)
    assert lakehouse.count(history.MEMBERSHIP) == first.manifest["counts"]["segment"]
    assert lakehouse.count(history.RUNS) == 1


def test_membership_changes_after_a_run_as_of_another_day(workspace, first):
    earlier = first.as_of - timedelta(days=2)
    run_dbt(workspace, ["build"], as_of=earlier.isoformat())
    second = export.export_segment(workspace, SEGMENT)
    assert second.as_of == earlier and second.run_id != first.run_id
    changes = export.segment_changes(workspace, SEGMENT)
    assert changes.previous == (second.run_id, earlier)
    assert changes.latest == (first.run_id, first.as_of)
    then = {row["one_id"] for row in read_csv(second.folder / "assignment.csv")}
    now = {row["one_id"] for row in read_csv(first.folder / "assignment.csv")}
    assert changes.entered == sorted(now - then)
    assert changes.left == sorted(then - now)
    assert changes.entered  # people bought art in the last two days


def test_campaign_response_compares_treatment_and_control(workspace, first):
    # Runs after the export as of an earlier day: rebuild the marts as of the latest day, so
    # that export's window has two days of data.
    run_dbt(workspace, ["build"], as_of=first.as_of.isoformat())
    earlier = first.as_of - timedelta(days=2)
    lakehouse = Lakehouse(workspace.lakehouse_dir)
    membership = lakehouse.to_pandas(Table("gold", "segment_membership"))
    members = membership[membership["as_of"] == earlier]
    with duckdb.connect(str(workspace.marts_db), read_only=True) as con:
        row = con.execute("SELECT * FROM campaign_response WHERE as_of = ?", [earlier]).df().iloc[0]
        bought = {
            one_id
            for (one_id,) in con.execute(
                "SELECT DISTINCT one_id FROM fct_orders WHERE is_purchase AND order_date > ? "
                "AND order_date <= ?",
                [earlier, earlier + timedelta(days=60)],
            ).fetchall()
        }
    groups = {
        g: set(members.loc[members["group"] == g, "one_id"]) for g in ("treatment", "control")
    }
    assert row["days_observed"] == 2
    assert row["treatment_people"] == len(groups["treatment"]) > 0
    assert row["control_people"] == len(groups["control"]) > 0
    assert row["treatment_responders"] == len(groups["treatment"] & bought)
    assert row["control_responders"] == len(groups["control"] & bought)
    rate = row["treatment_responders"] / row["treatment_people"]
    assert row["uplift"] == pytest.approx(rate - row["control_responders"] / row["control_people"])
    assert row["uplift_low_95"] <= row["uplift"] <= row["uplift_high_95"]
