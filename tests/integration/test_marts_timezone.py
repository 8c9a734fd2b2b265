"""The marts' business dates are days in the settings' source time zone (a real dbt run)."""

from datetime import UTC, date, datetime

from dbt.cli.main import dbtRunner

from cdp import marts
from cdp.config import load_settings

# 15:30 UTC is 23:30 in China (the default) but already the next day in Tokyo.
SQL = (
    "select {{ china_date(\"TIMESTAMPTZ '2026-09-01 15:30:00+00'\") }} as business_date, "
    "{{ loyalty_china_day_start(\"DATE '2026-09-02'\") }} as day_starts_at"
)


def test_the_dbt_macros_read_the_source_time_zone(tmp_path):
    settings = load_settings(workspace=tmp_path, source_timezone="Asia/Tokyo")
    settings.marts_db.parent.mkdir(parents=True)
    with marts._environment(marts.environment(settings)), marts.in_workspace(settings):
        outcome = dbtRunner().invoke(marts.dbt_args(settings, ["show", "--inline", SQL]))
    assert outcome.success, outcome.exception
    [row] = outcome.result.results[0].agate_table.rows
    assert row[0] == date(2026, 9, 2)
    assert row[1] == datetime(2026, 9, 1, 15, 0, tzinfo=UTC)
