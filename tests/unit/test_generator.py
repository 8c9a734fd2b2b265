"""The channel data generator: deterministic, contract-shaped, with the traps of real data."""

import csv
import json
from datetime import date

import pytest

from cdp.datagen import generate
from cdp.datagen.channels import TEST_PHONES, ZERO_DEVICE
from cdp.normalise import normalise_phone
from spark_jobs.contracts import CONTRACTS


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    report = generate(root / "landing", 400, 10, seed=3, start=date(2026, 9, 1))
    return root, report


def _files(root):
    return sorted(p for p in (root / "landing").rglob("*") if p.is_file())


def test_same_seed_same_bytes(generated, tmp_path):
    root, _ = generated
    generate(tmp_path / "landing", 400, 10, seed=3, start=date(2026, 9, 1))
    first = {p.relative_to(root): p.read_bytes() for p in _files(root)}
    again = {p.relative_to(tmp_path): p.read_bytes() for p in _files(tmp_path)}
    assert first == again


def test_files_land_in_channel_and_delivery_folders(generated):
    root, report = generated
    for path in _files(root):
        channel, day = path.parent.parent.name, path.parent.name
        assert channel in CONTRACTS
        assert date.fromisoformat(day) >= date(2026, 9, 1)
    assert report.files == len(_files(root))
    assert set(report.rows) == set(CONTRACTS)


def _records(root, channel):
    for path in sorted((root / "landing" / channel).rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def test_rows_follow_their_contract(generated):
    root, _ = generated
    for channel, contract in CONTRACTS.items():
        if contract.format != "jsonl":
            continue
        good = 0
        for record in _records(root, channel):
            fine = all(str(record.get(f.name, "")).strip() for f in contract.fields if f.required)
            fine = fine and all(str(record[f.name]) in f.allowed for f in contract.fields
                                if f.allowed and f.name in record)
            good += fine
        assert good > 0, channel


def test_real_world_traps_are_present(generated):
    root, report = generated
    pos_text = ""
    gb18030 = 0
    for path in (root / "landing" / "pos_tickets").rglob("*.csv"):
        data = path.read_bytes()
        try:
            pos_text += data.decode("utf-8")
        except UnicodeDecodeError:
            pos_text += data.decode("gb18030")
            gb18030 += 1
    assert gb18030 > 0
    assert TEST_PHONES[0] in pos_text
    assert "+86 " in pos_text or "0086" in pos_text
    devices = [r.get("device_id") for r in _records(root, "web_events")]
    assert ZERO_DEVICE in devices
    assert report.redelivered_files > 0 and report.late_files > 0
    resent = [p for p in _files(root) if "_resend" in p.name]
    originals = {p.name: p for p in _files(root) if "_resend" not in p.name}
    assert any(originals[p.name.replace("_resend", "")].read_bytes() == p.read_bytes()
               for p in resent)


def test_malformed_rows_are_counted_by_kind(generated):
    _, report = generated
    kinds = {kind for per_channel in report.malformed.values() for kind in per_channel}
    assert kinds <= {"unparseable", "missing_required", "wrong_type", "impossible_value"}
    assert sum(sum(k.values()) for k in report.malformed.values()) > 0


def test_ground_truth_covers_people_and_excludes_traps(generated):
    root, _ = generated
    truth = root / "ground_truth"
    people = list(csv.DictReader((truth / "people.csv").open(encoding="utf-8")))
    ids = list(csv.DictReader((truth / "identifiers.csv").open(encoding="utf-8")))
    assert len(people) == 400
    assert {r["person_id"] for r in ids} == {p["person_id"] for p in people}
    traps = {(r["identifier_type"], r["identifier_value"])
             for r in csv.DictReader((truth / "traps.csv").open(encoding="utf-8"))}
    assert not traps & {(r["identifier_type"], r["identifier_value"]) for r in ids}
    phones = [r["identifier_value"] for r in ids if r["identifier_type"] == "phone"]
    assert all(normalise_phone(p) == p for p in phones)
    households = {}
    for p in people:
        households.setdefault(p["household_id"], []).append(p["person_id"])
    assert any(len(members) > 1 for members in households.values())
