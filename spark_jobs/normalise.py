"""SQL twins of ``cdp.normalise``: expressions the silver jobs apply to columns.

Each function takes a SQL expression and returns SQL text (or, for phones, adds a column), so
the rules are unit-testable and portable between Sail and Spark. The Python reference and these
must agree (tested).

Phones take two paths. Plain mainland spellings (``13800138000``, ``+86 138-0013-8000``,
``0086…``, full-width digits) are parsed by a SQL expression; every other value (foreign
numbers, a separate non-mainland country code, invalid values that need a reason) goes to
``cdp.normalise.parse_phone`` in a pandas UDF, which caches distinct values. On 1M distinct
phone values (95% mainland spellings, 5% foreign, mangled or short, which the UDF parses;
benchmarks/phone_normalise.py, embedded engine, shared 2-core machine, three runs): SQL fast
path alone 0.9-1.8 s, fast path + UDF for the rest 2.6-4.2 s, the UDF for every value 38-55 s
(phonenumbers takes ~20 us a number, ~250 us a foreign one).
"""

from __future__ import annotations

import unicodedata
from functools import cache

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from cdp.normalise import PHONE_SEPARATORS, PLAIN_MAINLAND, REMOVED, TRIMMED, parse_phone
from cdp.sql_literals import SPARK


def regex_class(chars: str) -> str:
    """A regex character class of ASCII ``chars``, each as ``\\xHH`` (the same in Rust, Java
    and Python regex, whatever the character)."""
    return "[" + "".join(f"\\x{ord(ch):02X}" for ch in chars) + "]"


_TRIM = regex_class(TRIMMED)
_PHONE_SEPARATORS = regex_class(PHONE_SEPARATORS)
# Text with nothing to normalise: printable ASCII, no space (NFKC and trimming change nothing).
_PLAIN_ASCII = "^[!-~]+$"


sql_literal = SPARK.string  # a Spark SQL string literal (backslash escapes are on by default)


@cache
def nfkc_table() -> tuple[str, str]:
    """(from, to) for ``translate()``: every code point whose NFKC form is one other character,
    derived from ``unicodedata``, then the removed characters (no counterpart: deleted).

    Combining marks and characters that become Hangul jamo are left out: their NFKC form
    depends on their neighbours (a base and its accent compose), which a per-character table
    cannot do; Python's reference handles them, and identifiers rarely hold them. Built once
    (0.5-1 s), on first use.
    """
    sources, targets = [], []
    for code_point in range(0x110000):
        if 0xD800 <= code_point <= 0xDFFF:  # surrogates are not characters
            continue
        char = chr(code_point)
        if char in REMOVED or unicodedata.combining(char):
            continue
        folded = unicodedata.normalize("NFKC", char)
        if (
            folded != char
            and len(folded) == 1
            and not unicodedata.combining(folded)
            and not "\u1100" <= folded <= "\u11ff"
        ):
            sources.append(char)
            targets.append(folded)
    return "".join(sources) + REMOVED, "".join(targets)


@cache
def _nfkc_literals() -> tuple[str, str]:
    return tuple(sql_literal(part) for part in nfkc_table())


def identifier(col: str) -> str:
    """The cleaned identifier, as ``cdp.normalise.clean_identifier``: zero-width characters,
    BOMs and NBSPs removed, NFKC (per character, see ``nfkc_table``), trimmed; NULL when empty.

    Plain printable ASCII (most ids) skips the translation: on 1M ids the check costs 0.04 s,
    translating and trimming 0.14 s.
    """
    source, target = _nfkc_literals()
    trimmed = (
        f"regexp_replace(translate({col}, {source}, {target}), "
        f"{sql_literal(f'^{_TRIM}+|{_TRIM}+$')}, '')"
    )
    return f"(CASE WHEN {col} RLIKE '{_PLAIN_ASCII}' THEN {col} ELSE nullif({trimmed}, '') END)"


def _plain_mainland(raw: str, country_code: str | None) -> str:
    """SQL: the 11 digits of a plain mainland spelling of ``raw``, else NULL.

    Trimming is not needed: the separators include the whitespace it removes.
    """
    source, target = _nfkc_literals()
    compact = (
        f"regexp_replace(translate({raw}, {source}, {target}), "
        f"{sql_literal(_PHONE_SEPARATORS)}, '')"
    )
    digits = f"nullif(regexp_extract({compact}, {sql_literal(PLAIN_MAINLAND.pattern)}, 1), '')"
    if country_code is None:
        return digits
    # cdp.normalise reads a country code "86", "+86", "(+86)" or "0086" (or none) as mainland.
    mainland = f"coalesce({identifier(country_code)}, '86') RLIKE '^[+(]*(00)?86[)]*$'"
    return f"CASE WHEN {mainland} THEN {digits} END"


def _encoded_phone(raw, country_code) -> str:
    result = parse_phone(
        raw if isinstance(raw, str) else None,
        country_code if isinstance(country_code, str) else None,
    )
    return result.value if result.value is not None else result.status


def _parse_phones(raw: pd.Series, country_code: pd.Series) -> pd.Series:
    """The UDF's body: ``parse_phone`` of each (raw, code) pair, encoded as one string; each
    distinct pair of the batch is parsed once (most rows are the NULLs the fast path left)."""
    parsed: dict = {}
    out = []
    for pair in zip(raw.tolist(), country_code.tolist()):
        value = parsed.get(pair)
        if value is None:
            value = parsed[pair] = _encoded_phone(*pair)
        out.append(value)
    return pd.Series(out, dtype=object)


@cache
def _phone_udf():
    # Created on first use: pyspark picks the UDF kind (Connect or classic) from the session
    # active when the UDF is made, and none is at import time.
    from pyspark.sql.functions import pandas_udf

    return pandas_udf(_parse_phones, StringType())


def phone_result(raw: str, country_code: str | None = None) -> Column:
    """Column: the canonical phone of SQL expression ``raw`` (with its separate
    ``country_code``) when valid, else its status (``missing`` / ``invalid:<why>``).

    Read it with ``phone_of`` and ``phone_status_of``; ``with_phone`` adds it to a frame.
    """
    fast = F.expr(_plain_mainland(raw, country_code))
    code = F.expr(country_code) if country_code else F.lit(None).cast("string")
    # The UDF sees only the values the fast path left: NULLs cross to Python almost for free.
    return F.coalesce(fast, _phone_udf()(F.when(fast.isNull(), F.expr(raw)), code))


def with_phone(df, raw: str, country_code: str | None = None, name: str = "_phone"):
    """``df`` with column ``name`` = ``phone_result(raw, country_code)``."""
    return df.withColumn(name, phone_result(raw, country_code))


def phone_of(result: str) -> str:
    """SQL: the canonical phone (11 mainland digits or E.164) of a ``phone_result``, or NULL."""
    return f"CASE WHEN {result} RLIKE '^[+0-9]' THEN {result} END"


def phone_status_of(result: str) -> str:
    """SQL: the status of a ``phone_result``, as ``cdp.normalise.phone_status``."""
    return f"CASE WHEN {result} RLIKE '^[+0-9]' THEN 'valid' ELSE {result} END"


def email(col: str) -> str:
    """SQL: the cleaned, lower-cased e-mail address, or NULL."""
    e = f"lower({identifier(col)})"
    return f"CASE WHEN {e} RLIKE '^[^@\\\\s]+@[^@\\\\s]+\\\\.[^@\\\\s]+$' THEN {e} END"


def _card_form(clean: str, programme) -> str:
    value = f"regexp_replace({clean}, '[^0-9]', '')" if programme.digits_only else clean
    if programme.width:
        # lpad also cuts longer values: pad only the short ones.
        value = (
            f"CASE WHEN length({value}) < {programme.width} "
            f"THEN lpad({value}, {programme.width}, '0') ELSE {value} END"
        )
    return f"nullif({value}, '')"


def member_card(col: str, programmes=()) -> str:
    """SQL: the member card number, as ``cdp.normalise.canonical_card``: cleaned, then in the
    form of the first programme (``identity.rules.CardProgramme``) whose pattern matches."""
    clean = identifier(col)
    cases = " ".join(
        f"WHEN {clean} RLIKE {sql_literal(p.match)} THEN {_card_form(clean, p)}" for p in programmes
    )
    return f"CASE {cases} ELSE {clean} END" if cases else clean


def fen(col: str) -> str:
    """Yuan decimal(18,2) to integer fen (exact: the decimal has two places)."""
    return f"CAST({col} * 100 AS bigint)"


def business_date(col: str, tz: str) -> str:
    """SQL: the business date of UTC timestamp ``col``, its day in time zone ``tz`` (the
    settings' ``source_timezone``)."""
    return f"to_date(from_utc_timestamp({col}, {sql_literal(tz)}))"
