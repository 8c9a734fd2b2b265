"""Dates on the command line: only a real day written YYYY-MM-DD gets past option parsing."""

import pytest
from click.testing import CliRunner

from cdp.cli import cli


@pytest.mark.parametrize(
    "command",
    [["ingest", "--through-date"], ["run", "--through-date"], ["marts", "build", "--as-of"]],
)
@pytest.mark.parametrize("value", ["garbage", "2026-9-2", "20260902", "2026-02-30"])
def test_a_date_that_is_not_a_real_day_is_a_usage_error(tmp_path, command, value):
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path), *command, value])
    assert result.exit_code == 2
    assert f"'{value}' is not a real date written YYYY-MM-DD" in result.output


def test_a_real_day_is_passed_on_as_text():
    from cdp.cli import DAY

    assert DAY.convert("2024-02-29", None, None) == "2024-02-29"
