"""The three example journeys over N customers for D daily runs: seconds per run, peak RSS.

Run from the repo root:
``.venv/bin/python benchmarks/journeys_benchmark.py [--people 1000000] [--days 30]``.

Running the whole pipeline for every day at 1M customers takes far longer than the journeys,
so the people are synthesised straight into a workspace shaped like the platform's, as
``export_benchmark`` does (its marts and silver tables: segments, contacts, consent,
followers, caps), plus what the journeys read: behavioural events (web page views and clicks,
about 0.3 per person and day; add-to-cart by members, ~1.2 per member and month; scans of the
campaign QR code, ~6% of people a month), the campaign's coupon claims (three in four
scanners, within hours) and redemptions, orders (~1 per person and month), the tags
``art_buyer_90d`` (10%) and ``coupon_scalper`` (0.5%). The D runs are the D days ending on the
marts' day (2026-09-30), each the newest (it sends: suppression, packs, manifest, touches),
replayed on those marts (``run_journeys(as_of=...)``); the autumn wave is moved to the first
run's day so that its audience enters, is sent the seeding wave and waits.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb
import export_benchmark
import yaml
from peak_rss import PeakRss

from cdp.config import load_settings, packaged
from cdp.journeys.runs import run_journeys

AS_OF = export_benchmark.AS_OF

# slots: one per day and person; a slot holds an event when its hash falls below the share
ACTIVITY_SQL = """
CREATE TABLE slots AS
    SELECT i, one_id, card, k,
           TIMESTAMPTZ '{first}T00:00:00+08:00' + to_seconds(k * 86400 + hash(i, k) % 86400)
               AS slot_at,
           (hash(i, k, 'kind') % 1000)::BIGINT AS roll
    FROM people, range({days}) AS t(k);
CREATE TABLE intermediate.int_activity__events AS
    SELECT 'web:' || i || ':' || k AS event_id, one_id, 'web' AS event_source,
           CASE WHEN roll % 3 = 0 THEN 'click' ELSE 'page_view' END AS event_type,
           slot_at AS occurred_at, NULL::VARCHAR AS scene, NULL::VARCHAR AS campaign,
           NULL::BIGINT AS amount_fen
    FROM slots WHERE roll < 300
    UNION ALL
    SELECT 'cart:' || i || ':' || k, one_id, 'web', 'add_to_cart', slot_at + INTERVAL 1 HOUR,
           NULL, NULL, NULL
    FROM slots WHERE card IS NOT NULL AND roll BETWEEN 300 AND 339
    UNION ALL
    SELECT 'qr:' || i || ':' || k, one_id, 'mall', 'qr_scan', slot_at + INTERVAL 2 HOUR,
           'mall_qr_national_day_atrium', NULL, NULL
    FROM slots WHERE roll BETWEEN 340 AND 341;
CREATE TABLE intermediate.int_activity__coupon_events AS
    WITH claims AS (
        SELECT i, k, one_id, slot_at + INTERVAL 2 HOUR + to_seconds(hash(i, k, 'claim') % 72000)
                   AS claimed_at
        FROM slots WHERE roll BETWEEN 340 AND 341 AND hash(i, k, 'claims') % 4 <> 0
    )
    SELECT 'claim:' || i || ':' || k AS event_id, one_id, 'claim' AS event_type,
           claimed_at AS occurred_at, 'campaign_qr_national_day' AS campaign_id,
           5000 AS face_value_fen
    FROM claims
    UNION ALL
    SELECT 'redeem:' || i || ':' || k, one_id, 'redeem',
           claimed_at + to_seconds(86400 * (1 + hash(i, k, 'r') % 7)),
           'campaign_qr_national_day', 5000
    FROM claims WHERE hash(i, k, 'redeems') % 100 < 45;
CREATE TABLE fct_orders AS
    SELECT 'pos:' || i || ':' || k AS order_key, one_id, 'pos' AS channel,
           slot_at + INTERVAL 3 HOUR AS ordered_at, 10000 + hash(i, k) % 90000 AS net_amount_fen,
           TRUE AS is_purchase
    FROM slots WHERE roll BETWEEN 342 AND 374;
INSERT INTO tag_catalog VALUES ('art_buyer_90d', DATE '{as_of}'), ('coupon_scalper', DATE '{as_of}');
INSERT INTO customer_tags
    SELECT one_id, 'art_buyer_90d', 'purchase', DATE '{as_of}' FROM people WHERE i % 10 = 3
    UNION ALL
    SELECT one_id, 'coupon_scalper', 'risk', DATE '{as_of}' FROM people WHERE i % 200 = 7;
-- the packs may name each person's recommended items: none here
CREATE TABLE IF NOT EXISTS customer_recommendations (
    one_id VARCHAR, sku VARCHAR, product_name VARCHAR, recommendation_rank BIGINT
);
DROP TABLE slots;
DROP TABLE people;
"""


def synthesise(workspace: Path, people: int, days: int) -> date:
    """The export benchmark's workspace plus the journeys' activity; the first run's day."""
    export_benchmark.synthesise(workspace, people)
    settings = load_settings(workspace=workspace)
    first = AS_OF - timedelta(days=days - 1)
    with duckdb.connect(str(settings.restricted_marts_db)) as con:
        con.execute("SET TimeZone = 'UTC'")
        apps = list(export_benchmark.APPS)
        con.execute(export_benchmark.PEOPLE_SQL.format(n=people, apps=apps))
        con.execute(ACTIVITY_SQL.format(first=first, days=days, as_of=AS_OF))
    return first


def copy_definitions(workspace: Path, first: date) -> None:
    """The activation rules and the example journeys, the autumn wave on the first day."""
    segments = workspace / "segments"
    segments.mkdir(parents=True, exist_ok=True)
    shutil.copy(packaged("segments") / "_activation.yml", segments)
    journeys = workspace / "journeys"
    shutil.copytree(packaged("journeys"), journeys, ignore=shutil.ignore_patterns("*.py"))
    autumn = journeys / "autumn_waves.yml"
    spec = yaml.safe_load(autumn.read_text(encoding="utf-8"))
    spec["entry"]["dates"] = [first.isoformat()]
    autumn.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--out", type=Path, help="keep the workspace here (default: temp dir)")
    args = parser.parse_args()

    workspace = args.out or Path(tempfile.mkdtemp(prefix="journeys-benchmark-"))
    started = time.perf_counter()
    first = synthesise(workspace, args.people, args.days)
    copy_definitions(workspace, first)
    print(
        f"synthesised {args.people:,} people, {args.days} days in "
        f"{time.perf_counter() - started:.1f} s -> {workspace}"
    )
    settings = load_settings(workspace=workspace)
    seconds = []
    with PeakRss() as rss:
        for offset in range(args.days):
            day = first + timedelta(days=offset)
            began = time.perf_counter()
            runs = run_journeys(settings, as_of=day)
            seconds.append(time.perf_counter() - began)
            print(f"{day} {seconds[-1]:6.1f} s")
            for run in runs:
                print(f"  {run.summary()}")
    print(
        f"\n{args.days} daily runs of {args.people:,} customers: mean {sum(seconds) / len(seconds):.1f}"
        f" s, max {max(seconds):.1f} s, total {sum(seconds):.1f} s; peak RSS {rss.peak:,.0f} MiB"
    )
    if args.out is None:
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
