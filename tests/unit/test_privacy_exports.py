"""Erasure in the export history: packs lose the person's rows, the manifest its old
checksums. No engine."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import date

from openpyxl import load_workbook

from cdp.activation.dmp.common import file_digest
from cdp.activation.packs import write_csv, write_xlsx
from cdp.privacy import exports

PHONE, OTHER = "13800138000", "13900139000"


def _export(root):
    folder = root / "spring" / "20260906-abc"
    rows = [("O1", PHONE, "李娜"), ("O2", OTHER, "王芳")]
    write_csv(folder / "sms.csv", ["one_id", "phone", "name"], rows)
    write_xlsx(folder / "sms.xlsx", "spring", ["one_id", "phone", "name"], rows, date(2026, 9, 6))
    (folder / "dmp").mkdir()
    with zipfile.ZipFile(folder / "dmp" / "tencent_0001.zip", "w") as archive:
        lines = [hashlib.md5(p.encode()).hexdigest() for p in (PHONE, OTHER)]
        archive.writestr("tencent_0001.txt", "".join(f"{line}\n" for line in lines))
    names = ["sms.csv", "sms.xlsx", "dmp/tencent_0001.zip"]
    manifest = {"files": [file_digest(folder / n) | {"name": n} for n in names]}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_the_person_leaves_every_pack_and_the_manifest_is_updated(tmp_path):
    folder = _export(tmp_path)
    is_theirs = exports.matcher(
        exports_forms := {"O1", PHONE, hashlib.md5(PHONE.encode()).hexdigest()}
    )
    assert exports.remaining(tmp_path, is_theirs) == 3
    removed = exports.scrub_exports(tmp_path, is_theirs, {"person": "2026-09-07T00:00:00+00:00"})
    assert removed == {
        "person": {
            "spring/20260906-abc/dmp/tencent_0001.zip": 1,
            "spring/20260906-abc/sms.csv": 1,
            "spring/20260906-abc/sms.xlsx": 1,
        }
    }
    assert exports.remaining(tmp_path, is_theirs) == 0
    assert (folder / "sms.csv").read_text(encoding="utf-8-sig").splitlines()[1:] == [
        f"O2,{OTHER},王芳"
    ]
    sheet = load_workbook(folder / "sms.xlsx").worksheets[0]
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["one_id", "phone", "name"],
        ["O2", OTHER, "王芳"],
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    for entry in manifest["files"]:
        assert entry == file_digest(folder / entry["name"]) | {"name": entry["name"]}
    assert manifest["erasures"][0]["rows_removed"]["sms.csv"] == 1
    assert PHONE not in json.dumps(manifest) and not exports_forms & set(
        json.dumps(manifest).split('"')
    )


def test_scrubbing_again_changes_nothing(tmp_path):
    folder = _export(tmp_path)
    is_theirs = exports.matcher({"O1", PHONE, hashlib.md5(PHONE.encode()).hexdigest()})
    exports.scrub_exports(tmp_path, is_theirs, {"person": "t"})
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert exports.scrub_exports(tmp_path, is_theirs, {"person": "t"}) == {}
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_a_batch_reads_each_pack_once_and_credits_each_request_its_rows(tmp_path):
    folder = _export(tmp_path)
    owner_of = exports.owners(
        {"r1": {"O1", PHONE, hashlib.md5(PHONE.encode()).hexdigest()}, "r2": {"O2"}, "r3": {"O9"}}
    )
    removed = exports.scrub_exports(tmp_path, owner_of, {"r1": "t1", "r2": "t2", "r3": "t3"})
    files = "spring/20260906-abc/"
    assert removed == {
        "r1": {f"{files}dmp/tencent_0001.zip": 1, f"{files}sms.csv": 1, f"{files}sms.xlsx": 1},
        "r2": {f"{files}sms.csv": 1, f"{files}sms.xlsx": 1},
    }
    assert (folder / "sms.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "one_id,phone,name"
    ]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [(e["request_id"], e["at"]) for e in manifest["erasures"]] == [
        ("r1", "t1"),
        ("r2", "t2"),
    ]
    assert exports.remaining(tmp_path, owner_of) == 0
    # r2 named only O2's OneID: the DMP file's line of O2's phone hash is not found by it
    assert (
        exports.remaining(tmp_path, exports.matcher({hashlib.md5(OTHER.encode()).hexdigest()})) == 1
    )


def test_an_ocean_engine_line_loses_the_person_s_ids_only(tmp_path):
    from cdp.activation.dmp.oceanengine import write_oceanengine

    out = tmp_path / "dmp" / "oceanengine"
    write_oceanengine([PHONE, OTHER, "13700137000"], "MOBILE_HASH_SHA256", out)
    [path] = sorted(out.glob("*.zip"))
    is_theirs = exports.matcher({hashlib.sha256(PHONE.encode()).hexdigest()})
    assert exports.remaining(tmp_path, is_theirs) == 1
    assert exports.scrub_zip(path, is_theirs) == {"person": 1}
    with zipfile.ZipFile(path) as archive:
        [line] = archive.read(archive.namelist()[0]).decode().splitlines()
    assert exports.decode_dmp_line(line) == [
        hashlib.sha256(p.encode()).hexdigest() for p in (OTHER, "13700137000")
    ]
    assert exports.remaining(tmp_path, is_theirs) == 0
