"""The synthetic landing-zone generator: determinism, layout, contracts, traps, ground truth.

Rows are checked by a small pure-Python re-implementation of the contract rules (the same
rules ``spark_jobs.validation`` turns into SQL), so these tests need no engine.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from cdp.generator import generate
from spark_jobs.contracts import CONTRACTS, NON_NEGATIVE, PLAUSIBLE_TIME, POSITIVE, Contract, Field

CUSTOMERS, DAYS, START = 300, 5, date(2026, 9, 1)
CHINA = timezone(timedelta(hours=8))
INTEGER = re.compile(r"\s*[-+]?[0-9]{1,18}\s*")
MONEY = re.compile(r"\s*[-+]?[0-9]{1,16}(\.[0-9]{1,2})?\s*")
ISO_OFFSET = re.compile(r".*(Z|[+-][0-9]{2}:?[0-9]{2})\s*")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# --- a pure-Python contract checker --------------------------------------------------------

def _typed(kind: str, text: str):
    """The typed value of raw text, or None when it does not parse (as bronze types it)."""
    t = text.strip()
    try:
        if kind in ("int", "long", "fen"):
            return int(t) if INTEGER.fullmatch(text) else None
        if kind == "money":
            return Decimal(t) if MONEY.fullmatch(text) else None
        if kind == "epoch_seconds":
            return datetime.fromtimestamp(int(t), UTC) if INTEGER.fullmatch(text) else None
        if kind == "epoch_millis":
            return (datetime.fromtimestamp(int(t) / 1000, UTC)
                    if INTEGER.fullmatch(text) else None)
        if kind == "datetime_cn":
            return datetime.strptime(t, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
        if kind == "datetime_pos":
            for pattern in ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M"):
                try:
                    return datetime.strptime(t, pattern).replace(tzinfo=CHINA)
                except ValueError:
                    pass
            return None
        if kind == "datetime_iso":
            return datetime.fromisoformat(t) if ISO_OFFSET.fullmatch(text) else None
        if kind == "date":
            return datetime.strptime(t, "%Y-%m-%d").date() if DATE.fullmatch(text) else None
    except (ValueError, OverflowError):
        return None
    raise AssertionError(kind)


def _check_holds(check: str, value) -> bool:
    if check == NON_NEGATIVE:
        return value >= 0
    if check == POSITIVE:
        return value > 0
    if check == "{c} <> 0":
        return value != 0
    if check == PLAUSIBLE_TIME:
        return datetime(2010, 1, 1, tzinfo=UTC) <= value < datetime(2100, 1, 1,
                                                                               tzinfo=UTC)
    if "date'1900-01-01'" in check:
        return date(1900, 1, 1) <= value <= date.today()
    raise AssertionError(check)


def _field_failure(f: Field, raw) -> str | None:
    present = raw is not None and raw.strip() != ""
    if f.required and not present:
        return "missing_required"
    if not present:
        return None
    typed = raw if f.kind == "string" else _typed(f.kind, raw)
    if typed is None:
        return "wrong_type"
    if f.allowed and raw.strip() not in f.allowed:
        return "impossible_value"
    if f.check and not _check_holds(f.check, typed):
        return "impossible_value"
    return None


def _leaf(value):
    """JSON leaves read as text, like bronze does."""
    if value is None or isinstance(value, (list, dict)):
        return value
    return value if isinstance(value, str) else json.dumps(value)


def reject_reason(contract: Contract, record: dict | None) -> str | None:
    """The first reason a raw record fails its contract, or None."""
    if record is None or all(record.get(f.name) is None for f in contract.fields):
        return "unparseable"
    for f in contract.fields:
        raw = record.get(f.name)
        if f.kind == "items":
            if f.required and not raw:
                return "missing_required"
            for sub in f.items:
                for element in raw or []:
                    reason = _field_failure(sub, _leaf(element.get(sub.name)))
                    if reason:
                        return reason
            continue
        reason = _field_failure(f, _leaf(raw))
        if reason:
            return reason
    return None


def read_records(contract: Contract, path: Path) -> list[dict | None]:
    """Raw records of one landed file; None for a line that does not parse."""
    data = path.read_bytes()
    if contract.format == "csv":
        for encoding in contract.encodings:
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        lines = text.splitlines()
        header = next(csv.reader([lines[0]]))
        assert header == contract.field_names
        out = []
        for values in csv.reader(io.StringIO("\n".join(lines[1:]))):
            out.append(dict(zip(header, values)) if len(values) == len(header) else None)
        return out
    out = []
    for line in data.decode("utf-8").splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            value = None
        out.append(value if isinstance(value, dict) else None)
    return out


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    stages = []
    report = generate(root / "landing", CUSTOMERS, DAYS, seed=7, start=START,
                      progress=lambda stage, done, total: stages.append((stage, done, total)))
    return root, report, stages


@pytest.fixture(scope="module")
def landed(run):
    """{relative path: records} of every landed file."""
    root, _, _ = run
    files = {}
    for path in sorted((root / "landing").rglob("*")):
        if path.is_file():
            contract = CONTRACTS[path.relative_to(root / "landing").parts[0]]
            files[str(path.relative_to(root / "landing"))] = read_records(contract, path)
    return files


def _truth(root: Path, name: str) -> list[dict]:
    with (root / "ground_truth" / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- tests ---------------------------------------------------------------------------------

def test_same_arguments_give_byte_identical_files(run, tmp_path):
    root, _, _ = run
    generate(tmp_path / "landing", CUSTOMERS, DAYS, seed=7, start=START)
    first = {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert all(first[k] == second[k] for k in first)


def test_another_seed_gives_other_data(run, tmp_path):
    root, _, _ = run
    generate(tmp_path / "landing", 50, 2, seed=8, start=START)
    a = (root / "ground_truth" / "identifiers.csv").read_text(encoding="utf-8")
    b = (tmp_path / "ground_truth" / "identifiers.csv").read_text(encoding="utf-8")
    assert a.splitlines()[1] != b.splitlines()[1]


def test_files_land_in_channel_and_delivery_date_folders(run, landed):
    root, report, stages = run
    days = {(START + timedelta(days=d)).isoformat() for d in range(DAYS)}
    for rel in landed:
        channel, day, name = rel.split("/")
        assert channel in CONTRACTS and day in days
        assert name.startswith(channel + "_")
        assert name.endswith("." + CONTRACTS[channel].format)
        # A file is named after the day of its records, never later than its delivery day.
        record_day = re.search(r"_(\d{8})(_part\d+)?(_resend)?\.", name).group(1)
        assert record_day <= day.replace("-", "")
        late = record_day < day.replace("-", "")
        assert late == (rel in report.late_files or rel in report.redelivered_files)
    assert set(CONTRACTS) == {rel.split("/")[0] for rel in landed}
    assert not (root / "landing" / "ground_truth").exists()
    assert stages[-1][0] == "redeliver" and stages[0] == ("generate", 0, CUSTOMERS)
    assert ("generate", CUSTOMERS, CUSTOMERS) in stages


def test_every_row_meets_its_contract_except_the_counted_malformed_ones(run, landed):
    _, report, _ = run
    found: dict[str, Counter] = {}
    rows: Counter = Counter()
    for rel, records in landed.items():
        if rel in report.redelivered_files:
            continue
        channel = rel.split("/")[0]
        rows[channel] += len(records)
        for record in records:
            reason = reject_reason(CONTRACTS[channel], record)
            if reason:
                found.setdefault(channel, Counter())[reason] += 1
    assert dict(rows) == report.rows
    assert report.total_rows == sum(rows.values())
    expected = {c: Counter(k) for c, k in report.malformed.items() if sum(k.values())}
    assert found == expected
    assert 0 < report.malformed_total < report.total_rows * 0.01


def test_volume_and_report(run):
    _, report, _ = run
    assert 3 * CUSTOMERS < report.total_rows < 40 * CUSTOMERS
    assert report.files["pos_tickets"] > DAYS
    assert report.elapsed_seconds > 0
    text = report.summary()
    assert "web_events" in text and "re-delivered" in text


def test_redelivered_file_is_a_byte_copy_under_another_name(run):
    root, report, _ = run
    assert report.redelivered_files
    for rel in report.redelivered_files:
        copy = root / "landing" / rel
        original = next(p for p in (root / "landing" / rel.split("/")[0]).rglob("*")
                        if p.name == copy.name.replace("_resend", ""))
        assert copy.read_bytes() == original.read_bytes()
        assert original.parent.name < copy.parent.name


def test_some_pos_files_are_gb18030(run):
    root, _, _ = run
    gbk = []
    for path in (root / "landing" / "pos_tickets").rglob("*.csv"):
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            gbk.append(path)
            assert "艺术生活" in data.decode("gb18030") or "," in data.decode("gb18030")
    assert gbk


def test_traps_appear_in_the_data(run, landed):
    root, _, _ = run
    traps = _truth(root, "traps.csv")
    kinds = {t["trap"] for t in traps}
    assert {"test_phone", "store_phone", "hub_device", "staff_openid",
            "shared_family_device"} <= kinds
    pos_phones = [r["member_phone"] for rel, records in landed.items()
                  if rel.startswith("pos_tickets") for r in records if r]
    assert "13800000000" in pos_phones or "11111111111" in pos_phones
    store_phones = {t["identifier_value"] for t in traps if t["trap"] == "store_phone"}
    assert store_phones & set(pos_phones)
    web = [r for rel, records in landed.items() if rel.startswith("web_events")
           for r in records if r]
    family = {t["identifier_value"] for t in traps if t["trap"] == "shared_family_device"}
    devices_seen = Counter(r.get("device_id") for r in web)
    assert any(devices_seen[d] > 1 for d in family)
    # Phones are spelled in many ways across sources.
    assert any(p.startswith("+86") for p in pos_phones + [r.get("phone") or "" for r in web])


def test_ground_truth_covers_everyone_without_trap_identifiers(run):
    root, _, _ = run
    people = _truth(root, "people.csv")
    identifiers = _truth(root, "identifiers.csv")
    traps = _truth(root, "traps.csv")
    assert len(people) == CUSTOMERS == len({p["person_id"] for p in people})
    assert {p["gender"] for p in people} <= {"F", "M"}
    sizes = Counter(p["household_id"] for p in people)
    assert max(sizes.values()) <= 4
    known = {p["person_id"] for p in people}
    assert {i["person_id"] for i in identifiers} <= known
    kinds = {i["identifier_type"] for i in identifiers}
    assert {"unionid", "openid", "phone", "member_card", "cookie_id"} <= kinds
    assert kinds <= {"unionid", "openid", "phone", "member_card", "tmall_ouid", "jd_pin",
                     "douyin_open_id", "email", "device_id", "cookie_id", "device_mac_hash"}
    for i in identifiers:
        if i["identifier_type"] == "phone":
            assert re.fullmatch(r"1[3-9][0-9]{9}", i["identifier_value"])
        if i["identifier_type"] == "openid":
            app_id, openid = i["identifier_value"].split("/")
            assert app_id.startswith("wx") and len(openid) == 28
    family = {t["identifier_value"] for t in traps if t["trap"] == "shared_family_device"}
    others = {(t["identifier_type"], t["identifier_value"]) for t in traps
              if t["trap"] != "shared_family_device"}
    owners: dict[tuple, set] = {}
    for i in identifiers:
        key = (i["identifier_type"], i["identifier_value"])
        assert key not in others
        owners.setdefault(key, set()).add(i["person_id"])
    # Only a family tablet belongs to several people, and it is listed for each of them.
    shared = {k for k, v in owners.items() if len(v) > 1}
    assert shared and {v for _, v in shared} <= family
    assert not (root / "landing" / "identifiers.csv").exists()


def test_truth_identifiers_appear_in_the_landing_zone(run):
    root, _, _ = run
    blob = "\n".join(p.read_bytes().decode("utf-8", errors="replace")
                     for p in (root / "landing").rglob("*.jsonl"))
    for i in _truth(root, "identifiers.csv")[:200]:
        value = i["identifier_value"].split("/")[-1]
        if i["identifier_type"] in ("phone", "member_card", "email"):
            continue  # spelled differently or carried by POS CSVs
        assert value in blob, i


def test_orders_keep_line_items_consistent(landed):
    for rel, records in landed.items():
        if not rel.startswith("tmall_orders"):
            continue
        for r in records:
            if r and reject_reason(CONTRACTS["tmall_orders"], r) is None:
                lines = sum(Decimal(o["price"]) * int(o["num"]) for o in r["orders"])
                assert lines == Decimal(r["total_fee"])
                assert (Decimal(r["payment"]) == Decimal(r["total_fee"])
                        - Decimal(r["discount_fee"]) + Decimal(r["post_fee"]))


def test_big_days_are_split_into_parts_without_losing_rows(tmp_path, monkeypatch):
    from cdp.generator import writers

    monkeypatch.setattr(writers, "ROWS_PER_FILE", 40)
    report = generate(tmp_path / "landing", 150, 2, seed=3, start=START)
    parts = list((tmp_path / "landing").rglob("*_part2.*"))
    assert parts
    rows: Counter = Counter()
    for path in (tmp_path / "landing").rglob("*"):
        rel = str(path.relative_to(tmp_path / "landing"))
        if path.is_file() and rel not in report.redelivered_files:
            records = read_records(CONTRACTS[rel.split("/")[0]], path)
            assert len(records) <= 40
            rows[rel.split("/")[0]] += len(records)
    assert dict(rows) == report.rows
