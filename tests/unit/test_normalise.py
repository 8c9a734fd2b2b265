import pytest

from cdp.normalise import normalise_email, normalise_phone, phone_status, yuan_to_fen
from spark_jobs import normalise as sql

SPELLINGS = {
    "13800138000": "13800138000",
    "+86 138-0013-8000": "13800138000",
    "8613800138000": "13800138000",
    "138 0013 8000": "13800138000",
    "+86-13800138000": "13800138000",
    "(+86)13800138000": "13800138000",
    "0086 13800138000": "13800138000",
    "１３８００１３８０００": "13800138000",
    "＋８６ １３８００１３８０００": "13800138000",
    "  15912345678  ": "15912345678",
    "1.38001E+10": None,  # Excel lost the last digits
    "1.3800138E10": None,
    "12345678901": None,  # not a mobile prefix
    "1380013800": None,  # 10 digits
    "021-62345678": None,  # landline
    "": None,
    "n/a": None,
}


@pytest.mark.parametrize("raw,expected", SPELLINGS.items())
def test_phone_spellings(raw, expected):
    assert normalise_phone(raw) == expected


def test_phone_status():
    assert phone_status(None) == "missing"
    assert phone_status("  ") == "missing"
    assert phone_status("1.38001E+10") == "invalid"
    assert phone_status("+86 138-0013-8000") == "valid"


def test_email():
    assert normalise_email("  Li.Na@Example.COM ") == "li.na@example.com"
    assert normalise_email("not-an-email") is None
    assert normalise_email("a@b") is None


def test_yuan_to_fen_is_exact():
    assert yuan_to_fen("0.29") == 29  # float arithmetic would give 28
    assert yuan_to_fen("1234.50") == 123450


def test_sql_twins_agree_with_python(spark):
    rows = [(raw,) for raw in SPELLINGS] + [(None,)]
    df = spark.createDataFrame(rows, "raw string")
    out = df.selectExpr("raw", f"{sql.phone('raw')} AS phone",
                        f"{sql.phone_status('raw')} AS status").collect()
    for row in out:
        assert row["phone"] == normalise_phone(row["raw"]), row["raw"]
        assert row["status"] == phone_status(row["raw"]), row["raw"]


def test_sql_email_and_china_date(spark):
    df = spark.createDataFrame([("  Li.Na@Example.COM ",), ("bad",)], "raw string")
    got = [r[0] for r in df.selectExpr(sql.email("raw")).collect()]
    assert got == ["li.na@example.com", None]
    # 2026-09-01 20:00 UTC is already 2026-09-02 in China.
    expr = sql.china_date("timestamp'2026-09-01 20:00:00'")
    day = spark.sql(f"SELECT {expr} AS d").first().d
    assert str(day) == "2026-09-02"
