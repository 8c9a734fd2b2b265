"""Time every DMP audience format on synthetic people and print seconds per format and in total.

Run from the repo root: ``.venv/bin/python benchmarks/dmp_benchmark.py [--people 1000000]``.
The people look like silver: mostly 11-digit phones with some raw spellings and junk, e-mails,
openids written ``<app_id>/<openid>`` (a tenth from another app), OAIDs (some all-zero).
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from peak_rss import PeakRss

from cdp.activation.dmp import write_google, write_meta, write_oceanengine, write_tencent

APP_ID, OTHER_APP_ID = "wx0123456789abcdef", "wxfedcba9876543210"
_OPENID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def synthetic_people(count: int, seed: int = 7) -> dict[str, list]:
    rng = random.Random(seed)
    phones, emails, openids, oaids = [], [], [], []
    for n in range(count):
        number = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        roll = rng.random()
        if roll < 0.01:
            phones.append(None)
        elif roll < 0.02:
            phones.append("1.38001E+10")
        elif roll < 0.05:
            phones.append(f"+86 {number[:3]}-{number[3:7]}-{number[7:]}")
        else:
            phones.append(number)
        domain = rng.choice(("qq.com", "163.com", "gmail.com", "example.com.cn"))
        emails.append(None if roll > 0.7 else f" User.{n}@{domain.upper() if n % 9 else domain}")
        app = OTHER_APP_ID if rng.random() < 0.1 else APP_ID
        openids.append(f"{app}/o" + "".join(rng.choices(_OPENID_CHARS, k=27)))
        oaids.append(
            "00000000-0000-0000-0000-000000000000"
            if roll < 0.02
            else str(uuid.UUID(int=rng.getrandbits(128)))
        )
    return {"phone": phones, "email": emails, "openid": openids, "oaid": oaids}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, help="keep the files here (default: a temp dir)")
    args = parser.parse_args()

    started = time.perf_counter()
    people = synthetic_people(args.people)
    rows = [{"email": e, "phone": p} for e, p in zip(people["email"], people["phone"])]
    print(f"generated {args.people:,} people in {time.perf_counter() - started:.1f} s")

    out = args.out or Path(tempfile.mkdtemp(prefix="dmp-benchmark-"))
    formats = [
        (
            "tencent HASH_MOBILE_PHONE",
            lambda d: write_tencent(people["phone"], "HASH_MOBILE_PHONE", d),
        ),
        (
            "tencent SHA256_MOBILE_PHONE",
            lambda d: write_tencent(people["phone"], "SHA256_MOBILE_PHONE", d),
        ),
        (
            "tencent WX_OPENID",
            lambda d: write_tencent(people["openid"], "WX_OPENID", d, app_id=APP_ID),
        ),
        ("tencent HASH_OAID", lambda d: write_tencent(people["oaid"], "HASH_OAID", d)),
        ("tencent MD5_SHA256_OAID", lambda d: write_tencent(people["oaid"], "MD5_SHA256_OAID", d)),
        (
            "oceanengine MOBILE_HASH_SHA256",
            lambda d: write_oceanengine(people["phone"], "MOBILE_HASH_SHA256", d),
        ),
        ("oceanengine OAID", lambda d: write_oceanengine(people["oaid"], "OAID", d)),
        ("oceanengine OAID_MD5", lambda d: write_oceanengine(people["oaid"], "OAID_MD5", d)),
        ("google Email,Phone", lambda d: write_google(rows, d)),
        ("meta email,phone", lambda d: write_meta(rows, d)),
    ]
    # CPU seconds beside wall seconds: on a shared machine the wall clock also counts waiting
    print(
        f"{'format':32} {'seconds':>8} {'cpu s':>6} {'written':>10} {'files':>5} {'MiB':>7}"
        "  dropped"
    )
    total = total_cpu = 0.0
    try:
        with PeakRss() as rss:
            for name, write in formats:
                started, started_cpu = time.perf_counter(), time.process_time()
                manifest = write(out / name.replace(" ", "_").replace(",", "_"))
                seconds = time.perf_counter() - started
                cpu = time.process_time() - started_cpu
                total += seconds
                total_cpu += cpu
                written = manifest.get("ids_written")
                if isinstance(written, dict):
                    written = manifest["rows_written"]
                size = sum(f["bytes"] for f in manifest["files"]) / 2**20
                print(
                    f"{name:32} {seconds:8.2f} {cpu:6.2f} {written:>10,} "
                    f"{len(manifest['files']):>5} {size:7.1f}  {manifest['dropped']}"
                )
        print(f"{'total':32} {total:8.2f} {total_cpu:6.2f}   (target < 60 s)")
        print(f"peak RSS {rss.peak:,.0f} MiB (the people and rows in memory included)")
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
