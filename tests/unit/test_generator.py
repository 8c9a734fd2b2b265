"""The synthetic landing-zone generator: determinism, layout, contracts, traps, ground truth.

Rows are checked by a small pure-Python re-implementation of the contract rules (the same
rules ``spark_jobs.validation`` turns into SQL), so these tests need no engine.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections import Counter
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import phonenumbers
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
            return datetime.fromtimestamp(int(t) / 1000, UTC) if INTEGER.fullmatch(text) else None
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
        return datetime(2010, 1, 1, tzinfo=UTC) <= value < datetime(2100, 1, 1, tzinfo=UTC)
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
    report = generate(
        root / "landing",
        CUSTOMERS,
        DAYS,
        seed=7,
        start=START,
        progress=lambda stage, done, total: stages.append((stage, done, total)),
    )
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
        record_day = re.search(r"_(\d{8})(_correction)?(_part\d+)?(_resend)?\.", name).group(1)
        assert record_day <= day.replace("-", "")
        late = record_day < day.replace("-", "")
        assert late == (
            rel in report.late_files
            or rel in report.redelivered_files
            or rel in report.history_files
            or rel in report.correction_files
        )
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
        original = next(
            p
            for p in (root / "landing" / rel.split("/")[0]).rglob("*")
            if p.name == copy.name.replace("_resend", "")
        )
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
    assert {
        "test_phone",
        "store_phone",
        "hub_device",
        "staff_openid",
        "shared_family_device",
    } <= kinds
    pos_phones = [
        r["member_phone"]
        for rel, records in landed.items()
        if rel.startswith("pos_tickets")
        for r in records
        if r
    ]
    assert "13800000000" in pos_phones or "11111111111" in pos_phones
    store_phones = {t["identifier_value"] for t in traps if t["trap"] == "store_phone"}
    assert store_phones & set(pos_phones)
    web = [
        r for rel, records in landed.items() if rel.startswith("web_events") for r in records if r
    ]
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
    assert kinds <= {
        "unionid",
        "openid",
        "phone",
        "member_card",
        "tmall_ouid",
        "jd_pin",
        "douyin_open_id",
        "email",
        "device_id",
        "cookie_id",
        "device_mac_hash",
    }
    for i in identifiers:
        if i["identifier_type"] == "phone":
            assert re.fullmatch(r"1[3-9][0-9]{9}|\+[1-9][0-9]{7,14}", i["identifier_value"])
        if i["identifier_type"] == "member_card":
            assert re.fullmatch(r"[08][0-9]{10}", i["identifier_value"])
        if i["identifier_type"] == "openid":
            app_id, openid = i["identifier_value"].split("/")
            assert app_id.startswith("wx") and len(openid) == 28
    family = {t["identifier_value"] for t in traps if t["trap"] == "shared_family_device"}
    # Shared identifiers are nobody's; a reassigned phone is its current owner's, a foreign
    # look-alike its foreign owner's.
    others = {
        (t["identifier_type"], t["identifier_value"])
        for t in traps
        if t["trap"] in ("test_phone", "store_phone", "hub_device", "staff_openid")
    }
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
    blob = "\n".join(
        p.read_bytes().decode("utf-8", errors="replace")
        for p in (root / "landing").rglob("*.jsonl")
    )
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
                assert Decimal(r["payment"]) == Decimal(r["total_fee"]) - Decimal(
                    r["discount_fee"]
                ) + Decimal(r["post_fee"])


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


# --- realities of real customers' files -----------------------------------------------------


def _records(landed, channel: str):
    """(relative path, record) of every record of a channel that meets its contract."""
    return [
        (rel, r)
        for rel, records in landed.items()
        if rel.startswith(channel + "/")
        for r in records
        if reject_reason(CONTRACTS[channel], r) is None
    ]


def _digits(text: str) -> str:
    return re.sub(r"[^0-9]", "", unicodedata.normalize("NFKC", text))


def test_mini_program_phones_come_with_and_without_the_country_code(run, landed):
    root, _, _ = run
    rows = [r for _, r in _records(landed, "miniprogram_members") if r.get("phone_number")]
    mainland = [r["phone_number"] for r in rows if r["country_code"] == "86"]
    forms = {re.sub(r"[0-9]{11}$", "N", p) for p in mainland}
    # getPhoneNumber's purePhoneNumber, and the code prepended in every common way.
    assert {"N", "86N", "+86N", "0086N", "(+86)N"} <= forms
    foreign = [r for r in rows if r["country_code"] != "86"]
    assert foreign and all(
        r["phone_number"].startswith("+" + r["country_code"])
        or not r["phone_number"].startswith("+")
        for r in foreign
    )
    coded = [r for r in _truth(root, "realities.csv") if r["reality"] == "country_code_phone"]
    assert coded
    # Like identifiers.csv, realities.csv counts rows later made malformed (still readable).
    written = {
        r.get("phone_number", "")[-11:]
        for rel, records in landed.items()
        if rel.startswith("miniprogram_members/")
        for r in records
        if r and len(r.get("phone_number") or "") > 11
    }
    assert {r["identifier_value"] for r in coded} <= written


def test_foreign_shoppers_keep_their_country_code_and_one_looks_mainland(run, landed):
    root, _, _ = run
    identifiers = _truth(root, "identifiers.csv")
    foreign = {
        i["identifier_value"]: i["person_id"]
        for i in identifiers
        if i["identifier_type"] == "phone" and i["identifier_value"].startswith("+")
    }
    assert foreign
    for number in foreign:
        parsed = phonenumbers.parse(number)
        assert phonenumbers.is_valid_number(parsed) and parsed.country_code != 86, number
    listed = {
        r["identifier_value"]
        for r in _truth(root, "realities.csv")
        if r["reality"] == "foreign_phone"
    }
    assert listed == set(foreign)
    written = [r.get("member_phone") or "" for _, r in _records(landed, "pos_tickets")]
    written += [
        r.get("mobile") or ""
        for c in ("tmall_members", "jd_members")
        for _, r in _records(landed, c)
    ]
    spelled = {
        w
        for w in written
        if w.startswith(("+", "00")) and not _digits(w).startswith(("86", "0086"))
    }
    assert spelled
    # Every foreign spelling keeps the country code ("+" or "00"), never a bare national number.
    for w in spelled:
        assert "+" + _digits(w).removeprefix("00") in foreign, w
    (trap,) = [t for t in _truth(root, "traps.csv") if t["trap"] == "foreign_lookalike"]
    number = trap["identifier_value"]
    owner, stranger = re.findall(r"P[0-9]{8}", trap["note"])
    assert number.startswith("+1") and foreign[number] == owner
    mainland = {
        i["identifier_value"]: i["person_id"]
        for i in identifiers
        if i["identifier_type"] == "phone"
    }
    assert mainland[number[1:]] == stranger != owner
    assert phonenumbers.is_valid_number(phonenumbers.parse(number[1:], "CN"))
    tills = {_digits(w) for w in written}
    assert number[1:] in tills  # both are typed at a till: dropping "+" merges strangers


def test_foreign_numbers_are_spelled_with_their_country_code():
    from cdp.generator.spelling import mini_program_phone, spell_foreign

    assert [spell_foreign("+13107188897", k) for k in range(4)] == [
        "+13107188897",
        "+1 310 718 8897",
        "+1 310-718-8897",
        "0013107188897",
    ]
    assert spell_foreign("+85251234567", 1) == "+852 5123 4567"
    # getPhoneNumber: phoneNumber carries "+<code>", purePhoneNumber not; countryCode apart.
    assert mini_program_phone("+85251234567", 0.1) == ("+85251234567", "852", True)
    assert mini_program_phone("+85251234567", 0.9) == ("51234567", "852", False)
    assert mini_program_phone("15124513932", 0.1) == ("15124513932", "86", False)


def test_reassigned_phones_belong_to_their_current_owner(run, landed):
    root, report, _ = run
    traps = [t for t in _truth(root, "traps.csv") if t["trap"] == "reassigned_phone"]
    assert len(traps) >= 2
    owners: dict[tuple, set] = {}
    for i in _truth(root, "identifiers.csv"):
        owners.setdefault((i["identifier_type"], i["identifier_value"]), set()).add(i["person_id"])
    cards = {next(iter(v)): k[1] for k, v in owners.items() if k[0] == "member_card"}
    first_folder = START.isoformat()
    pos = _records(landed, "pos_tickets")
    members = _records(landed, "miniprogram_members")
    for trap in traps:
        phone = trap["identifier_value"]
        previous, current = re.findall(r"P[0-9]{8}", trap["note"])
        until, since = re.findall(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", trap["note"])
        assert owners[("phone", phone)] == {current}
        assert date.fromisoformat(since) - date.fromisoformat(until) > timedelta(days=365)

        def times(records, card, field, phone=phone):
            return [
                (rel, r[field][:10].replace("/", "-"))
                for rel, r in records
                if r.get("member_card_no") == card
                and _digits(r.get("member_phone") or r.get("phone_number") or "").endswith(phone)
            ]

        old = times(pos, cards[previous], "ticket_time")
        assert old and all(day <= until for _, day in old)
        assert all(
            rel.split("/")[1] == first_folder and rel in report.history_files
            for rel, _ in old
            if rel not in report.redelivered_files
        ), old
        assert [day for _, day in times(pos, cards[current], "ticket_time") if day >= since]
        assert times(pos, cards[current], "ticket_time")[-1][1] >= START.isoformat()
        profiles = times(members, cards[previous], "updated_at")
        assert profiles and max(day for _, day in profiles) == until
        now = [
            r
            for _, r in members
            if r["member_card_no"] == cards[previous] and r["updated_at"] >= START.isoformat()
        ]
        assert now and all(r["registered_at"] < until for r in now)


def test_member_cards_are_written_in_many_spellings(run, landed):
    root, _, _ = run
    cards = {
        i["identifier_value"]: i["person_id"]
        for i in _truth(root, "identifiers.csv")
        if i["identifier_type"] == "member_card"
    }
    assert any(c.startswith("0") for c in cards) and any(c.startswith("8") for c in cards)
    written = [
        r.get("member_card_no")
        for c in ("pos_tickets", "coupons", "loyalty_events")
        for _, r in _records(landed, c)
    ]
    written = [w for w in written if w]
    assert "\u200b" in "".join(written) and "\u00a0" in "".join(written)
    assert any(w != w.strip(" ") for w in written)
    assert any(re.search("[０-９]", w) for w in written)
    dropped = [w for w in written if re.fullmatch(r"[1-9][0-9]{0,9}", w)]
    assert dropped and all(w.zfill(11) in cards for w in dropped)
    # Every spelling is recoverable: NFKC, no invisible characters, leading zeros restored.
    for w in written:
        clean = unicodedata.normalize("NFKC", w).replace("\u200b", "").strip()
        assert clean.zfill(11) in cards, repr(w)
    odd = {
        cards[unicodedata.normalize("NFKC", w).replace("\u200b", "").strip().zfill(11)]
        for w in written
        if w not in cards
    }
    listed = {
        r["person_id"] for r in _truth(root, "realities.csv") if r["reality"] == "card_spelling"
    }
    assert listed and listed <= odd


def test_corrections_arrive_later_with_the_same_key_and_other_content(run, landed):
    root, report, _ = run
    corrections = _truth(root, "corrections.csv")
    assert {c["channel"] for c in corrections} == {"pos_tickets", "tmall_orders"}
    assert report.correction_files
    pos_first = {
        (r["store_code"], r["ticket_no"], r["line_no"]): (rel, r)
        for rel, r in _records(landed, "pos_tickets")
        if rel not in report.correction_files and rel not in report.redelivered_files
    }
    tmall_first = {
        (r["tid"], r["modified"]): (rel, r)
        for rel, r in _records(landed, "tmall_orders")
        if rel not in report.correction_files
    }
    for c in corrections:
        if c["channel"] == "pos_tickets":
            key = tuple(c["business_key"].split("|"))
            first_rel, first = pos_first[key]
            ((rel, fixed),) = [
                (rel, r)
                for rel, r in _records(landed, "pos_tickets")
                if rel in report.correction_files
                and (r["store_code"], r["ticket_no"], r["line_no"]) == key
            ]
            assert fixed["ticket_time"] == first["ticket_time"]
            assert (first["line_amount"], fixed["line_amount"]) == (
                c["first_value"],
                c["corrected_value"],
            )
            assert Decimal(fixed["line_amount"]) == (
                Decimal(fixed["unit_price"]) * int(fixed["quantity"]) - Decimal(fixed["discount"])
            )
        else:
            key = tuple(c["business_key"].split("|"))
            first_rel, first = tmall_first[key]
            ((rel, fixed),) = [
                (rel, r)
                for rel, r in _records(landed, "tmall_orders")
                if rel in report.correction_files and (r["tid"], r["modified"]) == key
            ]
            assert (first["payment"], fixed["payment"]) == (c["first_value"], c["corrected_value"])
            assert fixed["status"] == first["status"] and fixed["orders"] == first["orders"]
        assert c["first_value"] != c["corrected_value"]
        assert rel.split("/")[1] > first_rel.split("/")[1] and "_correction" in rel


def test_jd_orders_sometimes_repeat_a_sku(landed):
    repeated = 0
    for _, r in _records(landed, "jd_orders"):
        skus = Counter(item["skuId"] for item in r["itemInfoList"])
        repeated += max(skus.values()) > 1
        assert Decimal(r["orderTotalPrice"]) == sum(
            Decimal(i["jdPrice"]) * int(i["itemTotal"]) for i in r["itemInfoList"]
        )
    assert repeated


# --- per-trap and per-reality accuracy -------------------------------------------------------

_TINY_TRUTH = {
    "identifiers.csv": """person_id,identifier_type,identifier_value
P1,phone,13100000001
P1,member_card,00000000001
P1,openid,wx1/o1
P2,phone,13500000002
P2,member_card,80000000002
P3,phone,+13107188897
P3,member_card,80000000003
P4,phone,13107188897
P4,member_card,80000000004
P5,phone,13100000005
P5,device_id,TABLET
P6,device_id,TABLET
P6,phone,13100000006
P6,member_card,80000000006
P7,member_card,80000000007
P8,member_card,80000000008
""",
    "traps.csv": """trap,identifier_type,identifier_value,note
test_phone,phone,13800000000,dummy typed by cashiers
store_phone,phone,19900000001,store SH001's own phone
shared_family_device,device_id,TABLET,tablet of household H1 used by P5 P6
reassigned_phone,phone,13500000002,P1's until 2024-05-16 then P2's from 2025-07-12
foreign_lookalike,phone,+13107188897,P3's foreign number; reads as P4's phone 13107188897
""",
    "realities.csv": """reality,person_id,identifier_type,identifier_value
card_spelling,P1,member_card,00000000001
country_code_phone,P2,phone,13500000002
country_code_phone,P6,phone,13100000006
foreign_phone,P3,phone,+13107188897
""",
}
# P1's openid split off; P3 merged with P4 (the look-alike); the store phone joins P7 and P8;
# P6's phone is missing from the map.
_TINY_MAP = [
    ("phone", "13100000001", "O1"),
    ("member_card", "00000000001", "O1"),
    ("openid", "wx1/o1", "O9"),
    ("phone", "13500000002", "O2"),
    ("member_card", "80000000002", "O2"),
    ("phone", "+13107188897", "O3"),
    ("member_card", "80000000003", "O3"),
    ("phone", "13107188897", "O3"),
    ("member_card", "80000000004", "O3"),
    ("phone", "13100000005", "O5"),
    ("device_id", "TABLET", "O5"),
    ("member_card", "80000000006", "O6"),
    ("member_card", "80000000007", "O7"),
    ("member_card", "80000000008", "O7"),
    ("phone", "19900000001", "O7"),
]
_TINY_LINKS = [
    ("member_card:00000000001", "phone:13100000001"),
    ("member_card:00000000001", "openid:wx1/o1"),
    ("phone:13500000002", "member_card:80000000002"),
    ("phone:+13107188897", "member_card:80000000003"),
    ("phone:13107188897", "member_card:80000000004"),
    ("phone:13100000005", "device_id:TABLET"),
    ("phone:13100000006", "member_card:80000000006"),
]


def test_trap_report_on_a_hand_made_identity_map(tmp_path):
    import pyarrow as pa

    from identity.accuracy import RealityOutcome, TrapOutcome, trap_accuracy

    for name, text in _TINY_TRUTH.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    identity_map = pa.table(
        dict(zip(("identifier_type", "identifier_value", "one_id"), map(list, zip(*_TINY_MAP))))
    )
    links = pa.table(dict(zip(("a_key", "b_key"), map(list, zip(*_TINY_LINKS)))))
    report = trap_accuracy(identity_map, links, tmp_path)
    assert report.traps == [
        TrapOutcome("foreign_lookalike", "pairs", 1, 1),
        TrapOutcome("reassigned_phone", "pairs", 1, 0),
        TrapOutcome("shared_family_device", "pairs", 1, 0),
        TrapOutcome("store_phone", "identifiers", 1, 1),
        TrapOutcome("test_phone", "identifiers", 1, 0),
    ]
    assert report.realities == [
        RealityOutcome("card_spelling", 1, 0, 2, 1, 0, 0),
        RealityOutcome("country_code_phone", 2, 1, 2, 1, 1, 0),
        RealityOutcome("foreign_phone", 1, 0, 1, 1, 0, 1),
    ]
    # Partners of other types (here P1's split openid) are no must-merge pairs.
    joining = trap_accuracy(identity_map, links, tmp_path, ["phone", "member_card"])
    assert joining.realities[0] == RealityOutcome("card_spelling", 1, 1, 1, 1, 0, 0)
    assert joining.traps == report.traps
    lines = report.lines()
    assert "reassigned_phone: 0 of 1 pairs of strangers merged" in lines
    assert "store_phone: 1 of 1 identifiers joined strangers" in lines
    assert lines[-1].startswith("foreign_phone: 0 of 1 people resolved correctly")
