"""The settings' source_timezone reaches every step that reads source local times (engine)."""

from datetime import datetime

from cdp import pipeline
from cdp.config import load_settings
from spark_jobs.standardise import silver_table as silver

from .landing_files import tmall_trade, write_lines, write_pos

# Half an hour after midnight, local time: the business date is 2026-09-01 in any zone the
# times are read in, while a date taken in another zone than the times falls on 08-31.
POS_ROW = (
    "SH01,艺术生活,100,1,SALE,,2026/09/01 00:30,13800138000,,K9,Book,Books,1,30.00,0,"
    "30.00,WeChat Pay"
)


def test_ingest_and_silver_read_local_times_in_the_configured_zone(spark, tmp_path):
    settings = load_settings(workspace=tmp_path / "tokyo", source_timezone="Asia/Tokyo")
    write_pos(settings.landing_dir / "pos_tickets/2026-09-01/SH01.csv", [POS_ROW])
    write_lines(
        settings.landing_dir / "tmall_orders/2026-09-01/t.jsonl",
        [tmall_trade("T1", created="2026-09-01 00:30:00")],
    )
    pipeline.ingest(settings, spark)
    pipeline.standardise(settings, spark)
    lakehouse = pipeline.lakehouse_of(settings)
    orders = {o["channel"]: o for o in lakehouse.to_arrow(silver("orders")).to_pylist()}
    # In China time (the default) both would be 2026-08-31 16:30 UTC: Tokyo is an hour ahead.
    for channel in ("pos", "tmall"):
        ordered_at = orders[channel]["ordered_at"].replace(tzinfo=None)
        assert ordered_at == datetime(2026, 8, 31, 15, 30), channel
        assert str(orders[channel]["order_date"]) == "2026-09-01", channel
