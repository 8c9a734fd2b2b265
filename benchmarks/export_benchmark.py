"""Export a 1M-person segment to every format; print seconds per step, total and peak RSS.

Run from the repo root: ``.venv/bin/python benchmarks/export_benchmark.py [--people 1000000]``.

The people are synthesised straight into a workspace shaped like the platform's (running the
whole pipeline on 1M customers takes far longer than the export): a marts DuckDB file with the
tables a segment and its packs read (customer_lifecycle, customer_tags, tag_catalog,
customer_rfm, rfm_segment_map, member_tiers, loyalty_tiers, customer_360) and the silver Delta
tables suppression reads (identity_map, consent, followers, events). Proportions follow the
generator: ~40% members with a card, ~80% with a phone, ~60% following one of three official
accounts, SMS opt-ins for half the members, template opt-ins for a fifth of the followers,
10% later opt-outs, an interaction in the last two days for a tenth of the followers, some
template deliveries. The segment holds everyone; the campaign uses every channel, a 10%
control group stratified by RFM segment.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
from peak_rss import PeakRss

from cdp.activation.export import export_segment
from cdp.config import load_settings, packaged
from cdp.lakehouse import Lakehouse, Table

AS_OF = date(2026, 9, 30)
APPS = ("wx25d23a36b4108fee", "wx2a46fba12fb87970", "wxdb627ea56f644d5a")
SEGMENT = """\
name: everyone
owner: benchmark
description: Every person of the synthetic base (the benchmark's 1M-person segment).
rules: {kind: tag, tags: [everyone]}
campaign:
  salt: benchmark
  control_ratio: 0.1
  stratify_by: rfm_segment
  channels: [wechat_cs, wechat_template, sms, pos, tencent, oceanengine, google, meta]
"""

PEOPLE_SQL = """
CREATE TABLE people AS
SELECT i,
       'O' || upper(substr(md5('person' || i), 1, 15)) AS one_id,
       CASE WHEN (hash(i, 'phone') % 10)::BIGINT < 8
            THEN '1' || (3 + i % 7) || lpad((i * 7919 % 1000000000)::VARCHAR, 9, '0')
       END AS phone,
       CASE WHEN (hash(i, 'member') % 10)::BIGINT < 4
            THEN '8' || lpad(i::VARCHAR, 10, '0') END AS card,
       list_extract(['王宁', '李娜', '张伟', '刘洋', '陈静', '杨帆', NULL], 1 + i % 7) AS name,
       list_extract(['Champions', 'Loyal Customers', 'At Risk', 'Hibernating', 'Lost', NULL],
                    1 + (hash(i, 'rfm') % 6)::BIGINT) AS segment,
       CASE WHEN (hash(i, 'follow') % 10)::BIGINT < 6
            THEN list_extract({apps}, 1 + (hash(i, 'app') % 3)::BIGINT) END AS app_id,
       'o' || substr(md5('openid' || i), 1, 27) AS openid
FROM range({n}) AS t(i)
"""

MARTS_SQL = """
CREATE TABLE customer_lifecycle AS
    SELECT DATE '{as_of}' AS as_of, one_id,
           CASE WHEN card IS NULL THEN 'visitor' ELSE 'member' END AS lifecycle_stage
    FROM people;
CREATE TABLE customer_tags AS
    SELECT one_id, 'everyone' AS tag, 'profile' AS category, DATE '{as_of}' AS as_of FROM people;
CREATE TABLE tag_catalog AS SELECT 'everyone' AS tag, DATE '{as_of}' AS as_of;
CREATE TABLE customer_rfm AS
    SELECT DATE '{as_of}' AS as_of, one_id, segment FROM people WHERE segment IS NOT NULL;
CREATE SCHEMA intermediate;
CREATE TABLE intermediate.rfm_segment_map AS
    SELECT * FROM (VALUES ('Champions'), ('Loyal Customers'), ('At Risk'), ('Hibernating'),
                          ('Lost')) AS t(segment);
CREATE TABLE member_tiers AS
    SELECT one_id, card AS member_card_no, DATE '{as_of}' AS as_of,
           list_extract(['silver', 'silver', 'gold', 'platinum'], 1 + i % 4) AS tier
    FROM people WHERE card IS NOT NULL;
CREATE TABLE loyalty_tiers AS SELECT * FROM (VALUES ('silver'), ('gold'), ('platinum')) t(tier);
CREATE TABLE customer_360 AS
    SELECT p.one_id, DATE '{as_of}' AS as_of, p.name, p.phone, p.card AS member_card_no,
           t.tier
    FROM people AS p LEFT JOIN member_tiers AS t USING (one_id);
"""

# as_of 2026-09-30 China = the day ends 2026-09-30 16:00 UTC; the send is 2026-10-01 02:00 UTC
SILVER_SQL = {
    "identity_map": """
        SELECT 'phone' AS identifier_type, phone AS identifier_value, one_id FROM people
        WHERE phone IS NOT NULL
        UNION ALL SELECT 'member_card', card, one_id FROM people WHERE card IS NOT NULL
        UNION ALL SELECT 'openid', app_id || '/' || openid, one_id FROM people
        WHERE app_id IS NOT NULL""",
    "followers": """
        SELECT app_id, openid, (hash(i, 'unfollow') % 20)::BIGINT <> 0 AS is_subscribed,
               TIMESTAMPTZ '2026-09-01 00:00:00+00' + to_seconds(i % 2000000) AS subscribed_at
        FROM people WHERE app_id IS NOT NULL""",
    "consent": """
        WITH given AS (
            SELECT i, 'phone' AS identifier_type, phone AS identifier_value, 'sms' AS channel
            FROM people
            WHERE card IS NOT NULL AND phone IS NOT NULL AND (hash(i, 'sms') % 2)::BIGINT = 0
            UNION ALL
            SELECT i, 'openid', app_id || '/' || openid, 'wechat_template' FROM people
            WHERE app_id IS NOT NULL AND (hash(i, 'tpl') % 5)::BIGINT = 0)
        SELECT identifier_type, identifier_value, TRUE AS identifier_is_valid, channel,
               'opt_in' AS status, TIMESTAMPTZ '2026-09-02 00:00:00+00' AS occurred_at
        FROM given
        UNION ALL
        SELECT identifier_type, identifier_value, TRUE, channel, 'opt_out',
               TIMESTAMPTZ '2026-09-20 00:00:00+00'
        FROM given WHERE (hash(i, 'out') % 10)::BIGINT = 0""",
    "events": """
        SELECT 'wechat' AS source, app_id, openid, 'menu_click' AS event_type,
               TIMESTAMPTZ '2026-09-29 12:00:00+00' + to_seconds(i % 86400) AS occurred_at
        FROM people WHERE app_id IS NOT NULL AND (hash(i, 'cs') % 10)::BIGINT = 0
        UNION ALL
        SELECT 'wechat', app_id, openid, 'template_delivered',
               TIMESTAMPTZ '2026-09-10 00:00:00+00' + to_seconds(d * 86400)
        FROM people, range(5) AS t(d)
        WHERE app_id IS NOT NULL AND (hash(i, 'tpl_sent') % 20)::BIGINT = 0""",
}


def synthesise(workspace: Path, people: int) -> None:
    settings = load_settings(workspace=workspace)
    # the restricted file: exports read it (the packs carry raw phones)
    settings.restricted_marts_db.parent.mkdir(parents=True, exist_ok=True)
    lakehouse = Lakehouse(settings.lakehouse_dir)
    with duckdb.connect(str(settings.restricted_marts_db)) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(PEOPLE_SQL.format(n=people, apps=list(APPS)))
        con.execute(MARTS_SQL.format(as_of=AS_OF))
        for name, sql in SILVER_SQL.items():
            lakehouse.overwrite_arrow(con.sql(sql).to_arrow_table(), Table("silver", name))
        con.execute("DROP TABLE people")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, help="keep the workspace here (default: temp dir)")
    args = parser.parse_args()

    workspace = args.out or Path(tempfile.mkdtemp(prefix="export-benchmark-"))
    segments_dir = workspace / "segments"
    segments_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(packaged("segments") / "_activation.yml", segments_dir)
    (segments_dir / "everyone.yml").write_text(SEGMENT, encoding="utf-8")
    started = time.perf_counter()
    synthesise(workspace, args.people)
    print(
        f"synthesised {args.people:,} people in {time.perf_counter() - started:.1f} s "
        f"-> {workspace}"
    )

    steps: list[tuple[str, float]] = []

    def progress(message: str) -> None:
        steps.append((message, time.perf_counter()))

    settings = load_settings(workspace=workspace)
    with PeakRss() as rss:
        started = time.perf_counter()
        result = export_segment(settings, "everyone", segments_dir, progress)
        total = time.perf_counter() - started
    ends = [at for _, at in steps[1:]] + [started + total]
    print(f"\n{'step':<78} {'seconds':>8}")
    for (message, at), end in zip(steps, ends):
        print(f"{message[:78]:<78} {end - at:8.1f}")
    print(f"{'total':<78} {total:8.1f}")
    print(f"peak RSS {rss.peak:,.0f} MiB\n")
    print(result.summary())
    size = sum(f["bytes"] for f in result.manifest["files"])
    print(f"{len(result.manifest['files'])} files, {size / 2**20:,.0f} MiB")
    if args.out is None:
        shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    main()
