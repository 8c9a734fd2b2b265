"""Silver on real-world spellings: phones with separate country codes, foreign numbers, member
cards with invisible characters, full-width digits and dropped zeros, through the standardise
job with the shipped card programmes."""

from __future__ import annotations

from identity.rules import load_rules
from spark_jobs.ingest import run_ingest
from spark_jobs.standardise import run_standardise, silver_table

from .landing_files import write_lines, write_pos


def member(card: str, phone: str | None, code: str | None, updated_at: str, **extra) -> dict:
    row = {
        "app_id": "wx63ebf9a4c4584347",
        "openid": "oX6AF5m-ZxRZM2-pK08iuPW4OENv",
        "unionid": None,
        "member_card_no": card,
        "phone_number": phone,
        "country_code": code,
        "name": "王宁嘉",
        "gender": 2,
        "birthday": "1963-01-09",
        "city": "Shanghai",
        "email": None,
        "register_channel": "wechat_oa_menu",
        "register_store": None,
        "registered_at": "2026-09-01 01:20:18",
        "updated_at": updated_at,
    }
    row.update(extra)
    return row


def rows_of(lakehouse, table: str, key: str) -> dict:
    return {r[key]: r for r in lakehouse.to_arrow(silver_table(table)).to_pylist()}


def test_standardise_normalises_phones_and_cards(spark, lakehouse, settings):
    land = settings.landing_dir
    write_lines(
        land / "miniprogram_members/2026-09-01/a.jsonl",
        [
            member("00005284182", "15124513932", "86", "2026-09-01 01:20:18"),
            # the same card re-delivered: a ZWSP, full-width digits, Excel's lost zeros; WeChat's
            # phoneNumber form with the code in the number too
            member(
                "\u200b５２８４１８２",
                "+8615124513932",
                "86",
                "2026-09-02 10:00:00",
                openid="\ufeffoX6AF5m-ZxRZM2-pK08iuPW4OENv\u00a0",
            ),
            member(
                "80015341312",
                "8615124513933",
                "86",
                "2026-09-01 02:00:00",
                openid="og78NKs9HkW6o52DXp1oHXyWHjCo",
            ),
            member(
                "80015341313",
                "3107188897",
                "1",
                "2026-09-01 03:00:00",
                openid="og78NKs9HkW6o52DXp1oHXyWHjC1",
            ),
            member(
                "80015341314",
                "1.38001E+10",
                "86",
                "2026-09-01 04:00:00",
                openid="og78NKs9HkW6o52DXp1oHXyWHjC2",
            ),
        ],
    )
    write_pos(
        land / "pos_tickets/2026-09-01/SH01.csv",
        [
            "SH01,F&B,100,1,SALE,,2026/09/01 12:00,+1 310 718 8897,,K9,Tea,Drinks,1,30.00,0,30.00,Cash",
            "SH01,F&B,101,1,SALE,,2026/09/01 13:00,,\u00a05284182 ,K9,Tea,Drinks,1,30.00,0,30.00,Cash",
            "SH01,F&B,102,1,SALE,,2026/09/01 14:00,021-62345678,,K9,Tea,Drinks,1,30.00,0,30.00,Cash",
        ],
    )
    run_ingest(spark, lakehouse, settings.landing_dir)
    run_standardise(spark, lakehouse, card_programmes=load_rules().member_cards)

    members = rows_of(lakehouse, "members", "member_id")
    assert set(members) == {"00005284182", "80015341312", "80015341313", "80015341314"}
    first = members["00005284182"]
    assert (first["phone"], first["phone_status"]) == ("15124513932", "valid")
    assert first["openid"] == "oX6AF5m-ZxRZM2-pK08iuPW4OENv"
    assert members["80015341312"]["phone"] == "15124513933"
    assert members["80015341313"]["phone"] == "+13107188897"  # not the mainland 13107188897
    assert (members["80015341314"]["phone"], members["80015341314"]["phone_status"]) == (
        None,
        "invalid:excel_scientific",
    )

    orders = rows_of(lakehouse, "orders", "order_id")
    assert (orders["SH01-100"]["member_phone"], orders["SH01-100"]["member_phone_status"]) == (
        "+13107188897",
        "valid",
    )
    assert orders["SH01-101"]["member_card_no"] == "00005284182"  # the member's card
    assert orders["SH01-101"]["member_phone_status"] == "missing"
    assert orders["SH01-102"]["member_phone_status"] == "invalid:not_mobile"

    seen = {
        (r["identifier_type"], r["identifier_value"])
        for r in lakehouse.to_arrow(silver_table("identifiers")).to_pylist()
    }
    cards = {value for kind, value in seen if kind == "member_card"}
    assert cards == {"00005284182", "80015341312", "80015341313", "80015341314"}
    assert ("phone", "+13107188897") in seen and ("phone", "13107188897") not in seen
