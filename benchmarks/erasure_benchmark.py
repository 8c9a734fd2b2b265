"""Erasure benchmark: K people erased in one batch request after a whole pipeline run.

Generates N customers x D days, runs the daily steps (ingest to marts and exports, each in
its own process as in pipeline_benchmark.py), picks K exported people with a phone (seeded), writes one CSV of requests by
OneID and runs ``cdp privacy erase --file`` on it in this process. Prints the time of every
stage of the erasure (from its progress messages), then what it rewrote per Delta table (data
files and bytes removed and written, versions whose log it expired), the marts files and the
exports. Not a test: it reports figures.

    python benchmarks/erasure_benchmark.py --customers 100000 --days 30 --people 100
    python benchmarks/erasure_benchmark.py --workspace ws --skip-pipeline --people 1000
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from generated import add_dataset_arguments, generate_landing
from pipeline_benchmark import START, daily_run

#: progress messages of cdp.privacy.erase that start a stage, and the stage's name
STAGES = [
    (r"^finding ", "find people (identity map)"),
    (r"^planning", "plan (rows per table, engine)"),
    (r"^erasing ", "delete (one MERGE per table)"),
    (r"^vacuuming", "vacuum + expire log history"),
    (r"^rebuilding the marts", "rebuild marts (dbt build + publish)"),
    (r"^removing the erased people", "scrub export packs"),
    (r"^removing data docs", "derived files (docs, logs)"),
    (r"^tombstones", "tombstones + verification + reports"),
]


@dataclass
class TableFiles:
    """The data files of a Delta table on disk (name -> bytes) and its log's commits."""

    data: dict[str, int]
    commits: int


def table_files(lakehouse_dir: Path) -> dict[str, TableFiles]:
    """Every Delta table under the lakehouse: ``<layer>.<name>`` -> its files."""
    tables = {}
    for log in sorted(lakehouse_dir.glob("*/*/_delta_log")):
        root = log.parent
        data = {
            p.relative_to(root).as_posix(): p.stat().st_size
            for p in root.rglob("*.parquet")
            if "_delta_log" not in p.parts
        }
        commits = sum(1 for p in log.glob("*.json") if re.fullmatch(r"\d+\.json", p.name))
        tables[f"{root.parent.name}.{root.name}"] = TableFiles(data, commits)
    return tables


def folder_bytes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []
    return len(files), sum(p.stat().st_size for p in files)


def run_pipeline(workspace: Path, days: int) -> float:
    """Every daily step through the last day, each in its own process (pipeline_benchmark)."""
    started = time.perf_counter()
    daily_run(workspace, (START + timedelta(days=days - 1)).isoformat(), "pipeline")
    return time.perf_counter() - started


def choose_people(workspace: Path, people: int, seed: int) -> list[str]:
    """OneIDs of ``people`` exported people with a phone (others when too few were exported)."""
    from cdp.config import load_settings
    from cdp.lakehouse import Lakehouse
    from cdp.tables import IDENTITY_MAP, SEGMENT_MEMBERSHIP

    lakehouse = Lakehouse(load_settings(workspace=workspace).lakehouse_dir)
    mapped = lakehouse.to_arrow(IDENTITY_MAP, ["identifier_type", "one_id"]).to_pylist()
    with_phone = sorted({r["one_id"] for r in mapped if r["identifier_type"] == "phone"})
    exported = set()
    if lakehouse.exists(SEGMENT_MEMBERSHIP):
        exported = set(lakehouse.to_arrow(SEGMENT_MEMBERSHIP, ["one_id"]).column(0).to_pylist())
    first = [o for o in with_phone if o in exported]
    rest = [o for o in with_phone if o not in exported]
    pick = random.Random(seed)
    pick.shuffle(first)
    pick.shuffle(rest)
    return (first + rest)[:people]


def write_requests(path: Path, one_ids: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["one_id"])
        writer.writerows([o] for o in one_ids)


def timed_erasure(workspace: Path, requests_file: Path) -> tuple[list, list[tuple[str, float]]]:
    """Run the erasure; its results and (stage, seconds) in order."""
    from cdp.config import load_settings
    from cdp.privacy.erase import erase
    from cdp.privacy.requests import read_requests
    from identity.rules import load_rules

    settings = load_settings(workspace=workspace)
    rules = load_rules(settings.identity_rules)
    requests = read_requests(requests_file, rules.types, rules.member_cards)
    marks: list[tuple[str, float]] = []

    def progress(message: str) -> None:
        for pattern, stage in STAGES:
            if re.match(pattern, message) and (not marks or marks[-1][0] != stage):
                marks.append((stage, time.perf_counter()))
                print(f"  {stage} ...", flush=True)

    started = time.perf_counter()
    marks.append(("start (lock, rules, engine)", started))
    erasures = erase(settings, requests, progress=progress)
    ended = time.perf_counter()
    stages = [
        (stage, (marks[i + 1][1] if i + 1 < len(marks) else ended) - at)
        for i, (stage, at) in enumerate(marks)
    ]
    return erasures, stages


def print_rewrites(before: dict[str, TableFiles], after: dict[str, TableFiles]) -> None:
    print(
        f"\n{'table':<32}{'files removed':>14}{'MB':>9}{'files written':>15}{'MB':>9}"
        f"{'versions expired':>18}"
    )
    totals = [0, 0, 0, 0, 0]
    for name in sorted(before):
        old, new = before[name], after.get(name, TableFiles({}, 0))
        removed = set(old.data) - set(new.data)
        written = set(new.data) - set(old.data)
        row = [
            len(removed),
            sum(old.data[f] for f in removed),
            len(written),
            sum(new.data[f] for f in written),
            max(old.commits - new.commits, 0),
        ]
        if any(row):
            totals = [t + r for t, r in zip(totals, row, strict=True)]
            print(
                f"{name:<32}{row[0]:>14,}{row[1] / 1e6:>9.1f}{row[2]:>15,}{row[3] / 1e6:>9.1f}"
                f"{row[4]:>18,}"
            )
    print(
        f"{'total':<32}{totals[0]:>14,}{totals[1] / 1e6:>9.1f}{totals[2]:>15,}"
        f"{totals[3] / 1e6:>9.1f}{totals[4]:>18,}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_dataset_arguments(parser, customers=100_000)
    parser.add_argument("--people", type=int, default=1000, help="people erased (one batch)")
    parser.add_argument(
        "--skip-pipeline",
        action="store_true",
        help="erase from the pipeline result already in --workspace (it is changed)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the workspace afterwards")
    args = parser.parse_args()
    if args.skip_pipeline and args.workspace is None:
        parser.error("--skip-pipeline needs --workspace")
    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="cdp-erasure-bench-"))
    if not args.skip_pipeline:
        for folder in ("lakehouse", "marts", "exports", "reports"):
            shutil.rmtree(workspace / folder, ignore_errors=True)
        print(f"generating {args.customers:,} customers x {args.days} days in {workspace}")
        print(
            f"  generated in {generate_landing(workspace, args.customers, args.days, args.seed):.0f} s"
        )
        print(f"  pipeline in {run_pipeline(workspace, args.days):.0f} s")
    one_ids = choose_people(workspace, args.people, args.seed)
    requests_file = workspace / "erasure_requests.csv"
    write_requests(requests_file, one_ids)
    lakehouse_dir = workspace / "lakehouse"
    before = table_files(lakehouse_dir)
    exports_before = folder_bytes(workspace / "exports")
    marts_before = folder_bytes(workspace / "marts")
    print(f"erasing {len(one_ids):,} people in one request file ({requests_file})")
    erasures, stages = timed_erasure(workspace, requests_file)
    total = sum(seconds for _, seconds in stages)
    print(f"\n{'stage':<40}{'time':>10}")
    for stage, seconds in stages:
        print(f"{stage:<40}{seconds:>8.1f} s")
    print(f"{'total':<40}{total:>8.1f} s   ({total / max(len(one_ids), 1):.2f} s per person)")
    rows = sum(sum(e.removed.values()) for e in erasures)
    marts_rows = sum(erasures[0].marts_removed.values()) if erasures else 0
    export_rows = sum(sum(e.exports_removed.values()) for e in erasures)
    found = sum(e.verification.get("rows_found", 0) for e in erasures)
    print(
        f"\nrows removed: lakehouse {rows:,}, marts history {marts_rows:,}, export packs "
        f"{export_rows:,}; verification found {found:,}"
    )
    print_rewrites(before, table_files(lakehouse_dir))
    for label, folder, was in (
        ("marts files", workspace / "marts", marts_before),
        ("exports", workspace / "exports", exports_before),
    ):
        now = folder_bytes(folder)
        print(
            f"{label}: {was[0]:,} files {was[1] / 1e6:.1f} MB -> {now[0]:,} files "
            f"{now[1] / 1e6:.1f} MB"
        )
    if not args.keep and args.workspace is None:
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
