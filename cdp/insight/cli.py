"""``cdp insight``: the insight marts as tables, and as PNG charts with ``--png``."""

from __future__ import annotations

from pathlib import Path

import click

from cdp import report
from cdp.insight import views

PNG = click.option(
    "--png",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the table as a chart into this PNG file.",
)
#: the breakdowns of funnels and paths: one RFM segment or one first-seen channel
SEGMENT = click.option(
    "--segment", default="All", show_default=True, help="An RFM segment, or All."
)
FIRST_SEEN_CHANNEL = click.option(
    "--channel",
    default="All",
    show_default=True,
    help="The channel people were first seen in (wechat, pos, ...), or All.",
)


def _one_breakdown(what: str, segment: str, channel: str) -> None:
    if segment != "All" and channel != "All":
        raise click.UsageError(f"the {what} are broken down by --segment or by --channel, not both")


def show_frame(title: str, rows) -> None:
    """Print a DataFrame as a table (numbers right-aligned, NULL as blank)."""
    import pandas as pd
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, column in enumerate(rows.columns):
        table.add_column(str(column), justify="left" if i == 0 else "right")
    for values in rows.itertuples(index=False):
        table.add_row(
            *["" if pd.isna(v) else f"{v:,}" if isinstance(v, int) else str(v) for v in values]
        )
    report.console.print(table)


def _show(obj, view: views.View, png: Path | None) -> None:
    """Print the view's rows from the analysts' marts file, and draw them when asked."""
    import duckdb

    database = obj.settings.marts_db
    if not database.exists():
        raise FileNotFoundError(f"{database}: no marts yet; run `cdp marts build` first")
    with duckdb.connect(str(database), read_only=True) as con:
        try:
            rows = con.sql(view.sql).df()
        except duckdb.CatalogException:
            raise LookupError(
                f"{database} has no {view.name} mart yet: run `cdp marts build` with this version"
            ) from None
    show_frame(view.title, rows)
    if png is not None:
        from cdp.insight.charts import write_png

        click.echo(f"chart: {write_png(view, rows, png)}")


@click.group()
def insight() -> None:
    """Analysis marts: funnels, retention, paths, attribution, customer value, recommendations."""


@insight.command("funnel")
@click.option("--name", help="One funnel of insight.yml [default: every funnel].")
@SEGMENT
@FIRST_SEEN_CHANNEL
@PNG
@click.pass_obj
def funnel(obj, name: str | None, segment: str, channel: str, png: Path | None) -> None:
    """People per funnel step and the conversion from the previous and the first step."""
    _one_breakdown("funnels", segment, channel)
    _show(obj, views.funnel(name, segment, channel), png)


@insight.command("retention")
@click.option("--grain", type=click.Choice(["week", "month"]), default="month", show_default=True)
@click.option(
    "--channel",
    default="All",
    show_default=True,
    help="The channel of the first start event (pos, tmall, wechat, ...), or All.",
)
@PNG
@click.pass_obj
def retention(obj, grain: str, channel: str, png: Path | None) -> None:
    """Retention by cohort of the first start event (insight.yml) and return window."""
    _show(obj, views.retention(grain, channel), png)


@insight.command("paths")
@click.option("--limit", default=10, show_default=True, help="Paths to show.")
@SEGMENT
@FIRST_SEEN_CHANNEL
@PNG
@click.pass_obj
def paths(obj, limit: int, segment: str, channel: str, png: Path | None) -> None:
    """The most common event paths after (or before) the anchor event of insight.yml."""
    _one_breakdown("paths", segment, channel)
    _show(obj, views.paths(limit, segment, channel), png)


@insight.command("attribution")
@click.option("--limit", default=15, show_default=True, help="Touch sources to show.")
@PNG
@click.pass_obj
def attribution(obj, limit: int, png: Path | None) -> None:
    """Orders attributed to touches: first, last, linear, position-based, time decay."""
    _show(obj, views.attribution(limit), png)


@insight.command("ltv")
@click.option(
    "--predict",
    is_flag=True,
    help="Fit BG/NBD + Gamma-Gamma (needs the ltv extra) and check it on a holdout.",
)
@click.option(
    "--holdout-days", default=14, show_default=True, help="Days after the calibration period."
)
@click.option(
    "--horizon-days", default=90, show_default=True, help="Days of predicted value per person."
)
@PNG
@click.pass_obj
def ltv(obj, predict: bool, holdout_days: int, horizon_days: int, png: Path | None) -> None:
    """Customer value by first-purchase cohort; with --predict, the predicted value per person
    and how well the model calibrated on the earlier days predicts the holdout."""
    if not predict:
        _show(obj, views.ltv_cohorts(), png)
        return
    from cdp.insight import ltv as ltv_model

    check = ltv_model.run(obj.settings.marts_db, holdout_days, horizon_days, progress=report.say)
    show_frame("Holdout check (calibration -> holdout purchases)", check.calibration)
    show_frame(f"Top predicted value, next {horizon_days} days", check.top_customers)
    click.echo(check.summary())


@insight.command("recommend")
@click.option("--one-id", help="One person's recommendations [default: the most recommended].")
@click.option("--limit", default=20, show_default=True, help="Items to show.")
@PNG
@click.pass_obj
def recommend(obj, one_id: str | None, limit: int, png: Path | None) -> None:
    """Top-N recommendations per customer (item-to-item, with popularity fallbacks)."""
    _show(obj, views.recommendations(one_id, limit), png)
