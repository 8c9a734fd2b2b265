"""SQL twins of ``cdp.normalise``: expressions the silver jobs apply to columns.

Each function takes a SQL expression and returns SQL text, so the rules are unit-testable and
portable between Sail and Spark. The Python reference and these must agree (tested).
"""

from __future__ import annotations

FULL_WIDTH_FROM = "０１２３４５６７８９＋－（）　"
FULL_WIDTH_TO = "0123456789+-() "


def _digits(col: str) -> str:
    folded = f"translate({col}, '{FULL_WIDTH_FROM}', '{FULL_WIDTH_TO}')"
    return f"regexp_replace({folded}, '[^0-9]', '')"


def phone(col: str) -> str:
    """11-digit mainland mobile number, or NULL."""
    d = _digits(col)
    national = (f"CASE WHEN length({d}) = 15 AND {d} LIKE '0086%' THEN substr({d}, 5) "
                f"WHEN length({d}) = 13 AND {d} LIKE '86%' THEN substr({d}, 3) ELSE {d} END")
    sci = f"translate({col}, '{FULL_WIDTH_FROM}', '{FULL_WIDTH_TO}') RLIKE '[0-9][eE][+-]?[0-9]'"
    return (f"CASE WHEN {col} IS NULL OR {sci} THEN NULL "
            f"WHEN ({national}) RLIKE '^1[3-9][0-9]{{9}}$' THEN ({national}) END")


def phone_status(col: str) -> str:
    """'valid', 'invalid' or 'missing', as ``cdp.normalise.phone_status``."""
    return (f"CASE WHEN {col} IS NULL OR trim({col}) = '' THEN 'missing' "
            f"WHEN ({phone(col)}) IS NOT NULL THEN 'valid' ELSE 'invalid' END")


def email(col: str) -> str:
    e = f"lower(trim({col}))"
    return f"CASE WHEN {e} RLIKE '^[^@\\\\s]+@[^@\\\\s]+\\\\.[^@\\\\s]+$' THEN {e} END"


def fen(col: str) -> str:
    """Yuan decimal(18,2) to integer fen (exact: the decimal has two places)."""
    return f"CAST({col} * 100 AS bigint)"


def china_date(col: str) -> str:
    """Business date in China (UTC+8) of a UTC timestamp."""
    return f"to_date(from_utc_timestamp({col}, 'Asia/Shanghai'))"
