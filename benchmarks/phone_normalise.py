"""Phone normalisation on 1M values in the embedded engine: the SQL fast path alone, the fast
path with the pandas UDF for the rest (what silver runs), and the UDF for every value.

    .venv/bin/python benchmarks/phone_normalise.py --values 1000000

Prints seconds per variant (best of ``--runs``); a script for figures, not a test.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import pyarrow as pa
from pyspark.sql import functions as F

from cdp.config import load_settings
from cdp.runtime import spark_session
from spark_jobs import normalise as n

FULL_WIDTH = str.maketrans("0123456789+", "０１２３４５６７８９＋")


def spellings(count: int, seed: int = 7) -> list[str | None]:
    """Phones as channels send them: 55% plain, the rest spelled, 5% foreign or broken."""
    rng = np.random.default_rng(seed)
    numbers = [
        f"1{p}{s:09d}"
        for p, s in zip(rng.integers(3, 10, count).tolist(), rng.integers(0, 10**8, count).tolist())
    ]
    kind = rng.random(count)
    out: list[str | None] = []
    for number, k in zip(numbers, kind.tolist()):
        if k < 0.55:
            out.append(number)
        elif k < 0.70:
            out.append(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}")
        elif k < 0.80:
            out.append("0086 " + number)
        elif k < 0.88:
            out.append(number.translate(FULL_WIDTH))
        elif k < 0.93:
            out.append("(+86)" + number)
        elif k < 0.95:
            out.append(f"+1 310 {number[-7:-4]} {number[-4:]}")
        elif k < 0.97:
            out.append(f"{number[0]}.{number[1:6]}E+10")
        elif k < 0.99:
            out.append(number[:-1])
        else:
            out.append(None)
    return out


def timed(df, column, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        df.select(F.count(column), F.max(column)).collect()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--values", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    values = spellings(args.values)
    settings = load_settings(workspace=tempfile.mkdtemp(prefix="phone-bench-"))
    with spark_session(settings) as spark:
        # Staged as Parquet: a local relation would be sent again with every query.
        path = f"{settings.workspace}/phones.parquet"
        spark.createDataFrame(pa.table({"raw": pa.array(values, pa.string())})).write.parquet(path)
        df = spark.read.parquet(path)
        udf_only = n._phone_udf()(F.col("raw"), F.lit(None).cast("string"))
        variants = {
            "length only (baseline)": F.length("raw"),
            "SQL fast path only": F.expr(n._plain_mainland("raw", None)),
            "fast path + UDF for the rest": n.phone_result("raw"),
            "UDF for every value": udf_only,
        }
        for name, column in variants.items():
            print(f"{name:32s} {timed(df, column, args.runs):6.2f} s for {args.values:,} values")


if __name__ == "__main__":
    main()
