import unicodedata
from types import SimpleNamespace

import pytest

from cdp.normalise import (
    PHONE_STATUSES,
    REMOVED,
    canonical_card,
    clean_identifier,
    normalise_email,
    normalise_phone,
    parse_phone,
    phone_status,
    yuan_to_fen,
)
from spark_jobs import normalise as sql

# raw -> (canonical value, status); numbers without "+" / "00" are read as mainland
SPELLINGS = {
    "13800138000": ("13800138000", "valid"),
    "+86 138-0013-8000": ("13800138000", "valid"),
    "8613800138000": ("13800138000", "valid"),
    "138 0013 8000": ("13800138000", "valid"),
    "+86-13800138000": ("13800138000", "valid"),
    "(+86)13800138000": ("13800138000", "valid"),
    "(+86) 138 0013 8000": ("13800138000", "valid"),
    "0086 13800138000": ("13800138000", "valid"),
    "１３８００１３８０００": ("13800138000", "valid"),
    "＋８６ １３８００１３８０００": ("13800138000", "valid"),
    "  15912345678  ": ("15912345678", "valid"),
    "138\u200b0013\u00a08000\ufeff": ("13800138000", "valid"),
    "13107188897": ("13107188897", "valid"),  # a mainland 131 number
    "+1 310 718 8897": ("+13107188897", "valid"),  # ... and a US one: never the same
    "+1 (310) 718-8897": ("+13107188897", "valid"),
    "001 310 718 8897": ("+13107188897", "valid"),
    "+852 9123 4567": ("+85291234567", "valid"),
    "1.38001E+10": (None, "invalid:excel_scientific"),  # Excel lost the last digits
    "1.3800138E10": (None, "invalid:excel_scientific"),
    "12345678901": (None, "invalid:unallocated"),  # no mobile range starts with 12
    "1380013800": (None, "invalid:too_short"),
    "10086": (None, "invalid:too_short"),
    "138001380001": (None, "invalid:too_long"),
    "021-62345678": (None, "invalid:not_mobile"),  # a Shanghai landline
    "400-820-8820": (None, "invalid:not_mobile"),
    "+44 20 7946 0958": (None, "invalid:not_mobile"),
    "+999 1234567": (None, "invalid:unknown_country"),
    "n/a": (None, "invalid:not_a_number"),
    "1380013800a": (None, "invalid:not_a_number"),
    "138+00138000": (None, "invalid:not_a_number"),
    "": (None, "missing"),
    " \u200b ": (None, "missing"),
}

# (phone_number, country_code) as the mini-program sends them -> (value, status)
WITH_COUNTRY_CODE = {
    ("15124513932", "86"): ("15124513932", "valid"),
    ("8615124513932", "86"): ("15124513932", "valid"),  # the code carried twice
    ("+8615124513932", "86"): ("15124513932", "valid"),  # WeChat's phoneNumber
    ("0086 15124513932", "+86"): ("15124513932", "valid"),
    ("15124513932", "0086"): ("15124513932", "valid"),
    ("15124513932", None): ("15124513932", "valid"),
    ("3107188897", "1"): ("+13107188897", "valid"),
    ("13107188897", "1"): ("+13107188897", "valid"),  # a US number carrying its code
    ("+13107188897", "1"): ("+13107188897", "valid"),
    ("+13107188897", "86"): ("+13107188897", "valid"),  # the number's own "+" wins
    ("91234567", "852"): ("+85291234567", "valid"),
    ("13800138000", "999"): (None, "invalid:unknown_country"),
    ("13800138000", "abc"): (None, "invalid:unknown_country"),
    (None, "86"): (None, "missing"),
}


@pytest.mark.parametrize("raw,expected", SPELLINGS.items())
def test_phone_spellings(raw, expected):
    assert parse_phone(raw) == expected
    assert normalise_phone(raw) == expected[0]
    assert phone_status(raw) == expected[1]


@pytest.mark.parametrize("pair,expected", WITH_COUNTRY_CODE.items())
def test_phone_with_a_separate_country_code(pair, expected):
    assert parse_phone(*pair) == expected


def test_phone_statuses_are_the_documented_vocabulary():
    seen = {status for _, status in [*SPELLINGS.values(), *WITH_COUNTRY_CODE.values()]}
    assert seen == set(PHONE_STATUSES)
    assert phone_status(None) == "missing"
    assert normalise_phone(13800138000) == "13800138000"  # exports pass ints


IDENTIFIERS = {
    "oX6AF5m-ZxRZM2-pK08iuPW4OENv": "oX6AF5m-ZxRZM2-pK08iuPW4OENv",  # case kept
    "oX6AF5m\u200b": "oX6AF5m",
    "\ufeffoX6AF5m": "oX6AF5m",
    "\u00a080005284182": "80005284182",
    "８０００５２８４１８２": "80005284182",
    " 80005284182 \t\n": "80005284182",
    "ＡＢＣ－１２３": "ABC-123",
    "\U0001d7ce\U0001d7cf": "01",  # mathematical bold digits
    "沪Ａ12345": "沪A12345",  # a plate keeps its province character
    "ﬁ": "fi",  # NFKC expands ligatures (Python only: see spark_jobs.normalise.nfkc_table)
    "\u200b \u00a0": None,
    "": None,
    None: None,
}


@pytest.mark.parametrize("raw,expected", IDENTIFIERS.items())
def test_clean_identifier(raw, expected):
    assert clean_identifier(raw) == expected


CARD = SimpleNamespace(name="loyalty_card", match="^[0-9]{1,11}$", digits_only=True, width=11)
PLASTIC = SimpleNamespace(name="plastic", match="^P[0-9 -]+$", digits_only=True, width=None)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("80005284182", "80005284182"),
        ("05284182\u200b", "00005284182"),  # Excel dropped three zeros, a paste added a ZWSP
        ("\u00a0０１２３４５６７８９０", "01234567890"),
        (" 1 ", "00000000001"),
        ("800052841820", "800052841820"),  # 12 digits: no programme, left as cleaned text
        ("VIP-001", "VIP-001"),
        ("P12 34-5", "12345"),  # the second programme
        (" ", None),
    ],
)
def test_canonical_card(raw, expected):
    assert canonical_card(raw, [CARD, PLASTIC]) == expected


def test_canonical_card_without_programmes_only_cleans():
    assert canonical_card("05284182\u200b") == "05284182"


def test_email():
    assert normalise_email("  Li.Na@Example.COM ") == "li.na@example.com"
    assert normalise_email("li.na\u200b@example.com") == "li.na@example.com"
    assert normalise_email("not-an-email") is None
    assert normalise_email("a@b") is None


def test_yuan_to_fen_is_exact():
    assert yuan_to_fen("0.29") == 29  # float arithmetic would give 28
    assert yuan_to_fen("1234.50") == 123450


def _translate(text: str) -> str:
    source, target = sql.nfkc_table()
    return text.translate(
        {ord(s): (target[i] if i < len(target) else None) for i, s in enumerate(source)}
    )


def test_nfkc_table_is_nfkc_for_every_character_it_maps():
    source, target = sql.nfkc_table()
    mapped = source[: len(target)]
    assert len(mapped) > 3000 and set(source[len(target) :]) == set(REMOVED)
    assert all(unicodedata.normalize("NFKC", s) == t for s, t in zip(mapped, target))
    assert "０" in mapped and "Ａ" in mapped and "\u3000" in mapped
    # strings of mapped characters, ASCII and CJK: translating each character is NFKC
    sample = mapped[::7] + "abcXYZ019-_/ 沪京"
    for start in range(0, len(sample), 5):
        text = sample[start : start + 9]
        assert _translate(text) == unicodedata.normalize("NFKC", text), repr(text)


def test_sql_twins_agree_with_python(spark):
    rows = [(raw, None) for raw in SPELLINGS] + list(WITH_COUNTRY_CODE) + [(None, None)]
    df = spark.createDataFrame(rows, "raw string, code string")
    out = (
        sql.with_phone(df, "raw", "code")
        .selectExpr(
            "raw",
            "code",
            f"{sql.phone_of('_phone')} AS phone",
            f"{sql.phone_status_of('_phone')} AS status",
        )
        .collect()
    )
    assert len(out) == len(rows)
    for row in out:
        assert (row["phone"], row["status"]) == parse_phone(row["raw"], row["code"]), row


def test_sql_phone_without_a_country_code_column(spark):
    df = spark.createDataFrame([(raw,) for raw in SPELLINGS], "raw string")
    out = sql.with_phone(df, "raw").selectExpr("raw", sql.phone_of("_phone")).collect()
    assert {r[0]: r[1] for r in out} == {raw: value for raw, (value, _) in SPELLINGS.items()}


def test_sql_identifier_and_card_agree_with_python(spark):
    source, target = sql.nfkc_table()
    # every mapped character once, between ASCII, as one identifier each
    values = [
        *IDENTIFIERS,
        *(f"a{ch}1" for ch in source[: len(target)]),
        "05284182\u200b",
        "\u00a0０１２３４５６７８９０",
        "P12 34-5",
        "800052841820",
    ]
    values = [v for v in values if v != "ﬁ"]  # multi-character NFKC forms are Python's only
    df = spark.createDataFrame([(v,) for v in values], "raw string")
    out = df.selectExpr(
        "raw",
        f"{sql.identifier('raw')} AS clean",
        f"{sql.member_card('raw', [CARD, PLASTIC])} AS card",
    ).collect()
    assert len(out) == len(values)
    for row in out:
        assert row["clean"] == clean_identifier(row["raw"]), repr(row["raw"])
        assert row["card"] == canonical_card(row["raw"], [CARD, PLASTIC]), repr(row["raw"])


def test_sql_email_and_business_date(spark):
    df = spark.createDataFrame(
        [("  Li.Na@Example.COM ",), ("bad",), ("li\u200b@x.cn",)], "raw string"
    )
    got = [r[0] for r in df.selectExpr(sql.email("raw")).collect()]
    assert got == ["li.na@example.com", None, "li@x.cn"]

    # 2026-09-01 15:30 UTC is 23:30 in China, but already 2026-09-02 in Tokyo.
    def day(tz: str) -> str:
        expr = sql.business_date("timestamp'2026-09-01 15:30:00'", tz)
        return str(spark.sql(f"SELECT {expr} AS d").first().d)

    assert day("Asia/Shanghai") == "2026-09-01"
    assert day("Asia/Tokyo") == "2026-09-02"
