"""``cdp demo``: generate a small dataset, run every step, show what landed where."""

from __future__ import annotations

import shutil
from datetime import date

from cdp import pipeline, report
from cdp.activation.export import exports_dir
from cdp.config import Settings
from cdp.tables import GOLDEN_RECORDS

MARKER = ".cdp-demo"
DEMO_START = date(2026, 9, 1)


class DemoWorkspaceError(RuntimeError):
    """The workspace holds data that the demo did not create; it will not delete it."""


def reset_workspace(settings: Settings) -> None:
    """Empty a demo workspace of its data and everything derived from it (the marts too: a
    build over new data must not be incremental on the old data's marts); keep its segment and
    journey definitions and dbt's saved parse. Refuse to touch a folder the demo did not
    create."""
    root = settings.workspace
    if root.exists() and any(root.iterdir()) and not (root / MARKER).exists():
        raise DemoWorkspaceError(
            f"{root} is not empty and was not created by `cdp demo`; pass another "
            f"--workspace or remove it yourself"
        )
    for folder in (
        settings.landing_dir,
        settings.lakehouse_dir,
        settings.ground_truth_dir,
        settings.reports_dir,
        settings.marts_db.parent,
        exports_dir(settings),
    ):
        shutil.rmtree(folder, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    (root / MARKER).write_text("created by cdp demo; `cdp demo` may empty this folder\n")


def run_demo(
    settings: Settings, customers: int, days: int, seed: int, fresh: bool = True
) -> pipeline.RunSummary:
    from cdp.generator import generate

    if fresh:
        reset_workspace(settings)
    report.say(
        f"generating {customers:,} customers x {days} days of channel files "
        f"into {settings.landing_dir}"
    )
    with report.progress_bar() as advance:
        generated = generate(
            settings.landing_dir,
            customers,
            days,
            seed=seed,
            start=DEMO_START,
            truth=settings.ground_truth_dir,
            progress=advance,
        )
    report.console.print(generated.summary(), highlight=False)
    summary = pipeline.run(settings, progress=report.say)
    report.show_run(summary)
    report.show_tables(pipeline.lakehouse_of(settings))
    show_next_steps(settings)
    return summary


def _example_card(settings: Settings) -> str:
    """A member card of the person with most identifiers, for the explain example."""
    lakehouse = pipeline.lakehouse_of(settings)
    if not lakehouse.exists(GOLDEN_RECORDS):
        return "<card no.>"
    rows = [
        r
        for r in lakehouse.to_arrow(GOLDEN_RECORDS, ["member_card_no", "identifiers"]).to_pylist()
        if r["member_card_no"]
    ]
    return (
        max(rows, key=lambda r: (r["identifiers"], r["member_card_no"]))["member_card_no"]
        if rows
        else "<card no.>"
    )


def show_next_steps(settings: Settings) -> None:
    ws = settings.workspace
    report.console.print(
        f"""
[bold]Where the data is[/bold]
  landing zone   {settings.landing_dir}
  ground truth   {settings.ground_truth_dir}  (who is who, for identity accuracy)
  Delta tables   {settings.lakehouse_dir}/<bronze|silver|gold|meta>/<table>
  marts (DuckDB) {settings.marts_db}
  exports        {settings.workspace / "exports"}/<segment>/<run>/  (packs, DMP files, manifest.json)
  data docs      {settings.reports_dir / "data_docs"}/index.html

[bold]Try[/bold]
  cdp --workspace {ws} tables                        # every table: what it holds, who writes it
  cdp --workspace {ws} tables --schema silver.orders  # one table's columns
  cdp --workspace {ws} quarantine --limit 10
  cdp --workspace {ws} sql "SELECT channel, status, count(*) AS orders, sum(paid_amount_fen)/100 AS paid_yuan FROM silver_orders GROUP BY 1, 2 ORDER BY 1, 2"
  cdp --workspace {ws} identity stats
  cdp --workspace {ws} identity explain member_card {_example_card(settings)}   # why these ids are one person
  cdp --workspace {ws} identity accuracy     # OneID against the generator's ground truth
  cdp --workspace {ws} sql "SELECT one_id, name, city, channels FROM silver_golden_records LIMIT 5"
  cdp --workspace {ws} marts query "SELECT channel, count(*) AS orders, sum(net_amount_fen) / 100 AS net_yuan FROM fct_orders GROUP BY 1"
  cdp --workspace {ws} segments list
  cdp --workspace {ws} segments preview autumn_art_lovers
  cdp --workspace {ws} run        # re-run: nothing new, nothing changes

[bold]From Python[/bold]
  from cdp.lakehouse import Lakehouse; from cdp.tables import ORDERS   # tables: cdp/tables.py
  Lakehouse("{settings.lakehouse_dir}").to_pandas(ORDERS)
  import duckdb; duckdb.connect("{settings.marts_db}", read_only=True).sql("FROM fct_orders").df()
""",
        highlight=False,
    )
