"""``cdp``: the command line of the platform."""

from __future__ import annotations

import logging
import os
import re
import sys
from datetime import date
from pathlib import Path

import click

from cdp import report
from cdp.config import ConfigError, load_settings
from cdp.insight.cli import insight as insight_commands


class Context:
    def __init__(self, workspace: str | None, landing: str | None):
        self.workspace = workspace
        self.landing = landing

    @property
    def settings(self):
        return load_settings(workspace=self.workspace, landing=self.landing)


pass_context = click.make_pass_decorator(Context)


class DayParam(click.ParamType):
    """A real calendar day written YYYY-MM-DD, passed on as that text.

    ``date.fromisoformat`` alone would also take ``20260902``; delivery folders and business
    days are only ever written with dashes and two-digit months and days.
    """

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            try:
                date.fromisoformat(value)
                return value
            except ValueError:
                pass
        self.fail(f"{value!r} is not a real date written YYYY-MM-DD (e.g. 2026-09-02)", param, ctx)


DAY = DayParam()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--workspace",
    envvar="CDP_HOME",
    metavar="DIR",
    help="Where the platform keeps its data [env CDP_HOME; default ./cdp_data].",
)
@click.option(
    "--landing",
    envvar="CDP_LANDING",
    metavar="DIR",
    help="Landing zone of channel files [env CDP_LANDING; default WORKSPACE/landing].",
)
@click.option("-v", "--verbose", is_flag=True, help="Log engine and library details.")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, landing: str | None, verbose: bool) -> None:
    """Customer data platform on a lakehouse: land channel data, standardise, check quality.

    Start with `cdp demo`: it generates a small dataset and runs every step on it.
    """
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if verbose:
        os.environ.setdefault("RUST_LOG", "info")
    ctx.obj = Context(workspace, landing)


@cli.command()
@click.option("--customers", default=2000, show_default=True, help="Number of people.")
@click.option("--days", default=30, show_default=True, help="Days of activity.")
@click.option("--seed", default=42, show_default=True, help="Random seed (same seed, same files).")
@click.option("--start", default="2026-09-01", show_default=True, help="First day (YYYY-MM-DD).")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Landing zone to write [default: the workspace's landing zone].",
)
@click.option(
    "--truth",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the ground truth [default: next to the landing zone].",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    help="Processes simulating people (the files are the same for any number).",
)
@click.option("--overwrite", is_flag=True, help="Replace the channel folders of an earlier run.")
@pass_context
def generate(
    obj: Context,
    customers: int,
    days: int,
    seed: int,
    start: str,
    out: Path | None,
    truth: Path | None,
    workers: int,
    overwrite: bool,
) -> None:
    """Generate realistic channel files (and the identity ground truth)."""
    from cdp.generator import generate as run_generate

    out = out or obj.settings.landing_dir
    with report.progress_bar() as advance:
        result = run_generate(
            out,
            customers,
            days,
            seed=seed,
            start=date.fromisoformat(start),
            truth=truth,
            progress=advance,
            workers=workers,
            overwrite=overwrite,
        )
    click.echo(result.summary())


@cli.command()
@click.option(
    "--channel", "channels", multiple=True, help="Only this channel (repeatable) [default: all]."
)
@click.option(
    "--through-date", type=DAY, help="Only delivery folders up to this date (for backfills)."
)
@pass_context
def ingest(obj: Context, channels: tuple[str, ...], through_date: str | None) -> None:
    """Land new channel files in bronze; files already ingested are skipped."""
    from cdp import pipeline

    result = pipeline.ingest(
        obj.settings,
        channels=list(channels) or None,
        through_date=through_date,
        progress=report.say,
    )
    report.show_ingest(result)


@cli.command()
@pass_context
def standardise(obj: Context) -> None:
    """Upsert pending bronze batches into the silver tables."""
    from cdp import pipeline

    report.show_silver(pipeline.standardise(obj.settings, progress=report.say))


@cli.command()
@click.argument("layer", type=click.Choice(["bronze", "silver", "identity"]))
@click.option(
    "--full",
    is_flag=True,
    help="Validate every row [default: silver and identity only the rows written since the "
    "gate last passed; bronze always the batches about to flow into silver].",
)
@pass_context
def check(obj: Context, layer: str, full: bool) -> None:
    """Run the Great Expectations gate of a layer or of OneID (exit code 1 when it fails)."""
    from cdp import pipeline

    report.show_gate(pipeline.check(obj.settings, layer, full=full))


@cli.command()
@click.option(
    "--through-date", type=DAY, help="Only delivery folders up to this date (for backfills)."
)
@click.option(
    "--full",
    is_flag=True,
    help="Rebuild instead of updating: OneID re-solved from scratch, a dbt full refresh of the "
    "marts, the silver and identity gates over every row.",
)
@pass_context
def run(obj: Context, through_date: str | None, full: bool) -> None:
    """Run the pipeline end to end: ingest, bronze gate, standardise, silver gate, OneID,
    identity gate, marts (dbt build), daily segment exports.

    Holds the workspace lock throughout: a second run on the same workspace refuses (or
    waits `lock_wait_seconds`) instead of interleaving with this one."""
    from cdp import pipeline

    summary = pipeline.run(obj.settings, through_date=through_date, progress=report.say, full=full)
    report.show_run(summary)


@cli.command()
@click.option("--customers", default=2000, show_default=True, help="Number of people.")
@click.option("--days", default=30, show_default=True, help="Days of activity.")
@click.option("--seed", default=42, show_default=True, help="Random seed.")
@click.option(
    "--keep",
    is_flag=True,
    help="Keep an existing demo workspace instead of "
    "starting afresh (the run then only picks up what is new).",
)
@pass_context
def demo(obj: Context, customers: int, days: int, seed: int, keep: bool) -> None:
    """Generate a small dataset and run every step on it, then show what landed where."""
    from cdp.demo import run_demo

    run_demo(obj.settings, customers, days, seed, fresh=not keep)


@cli.command()
@pass_context
def maintain(obj: Context) -> None:
    """Compact small files, vacuum files older than `vacuum_retention_hours`, checkpoint and
    clean up the Delta log of every table, then checkpoint the marts file (holds the
    workspace lock)."""
    from cdp.maintenance import maintain as run_maintenance

    report.show_maintenance(run_maintenance(obj.settings, progress=report.say))


@cli.command()
@click.option(
    "--schema",
    "name",
    metavar="NAME",
    help="Print the columns of one table, e.g. silver.orders (or orders).",
)
@pass_context
def tables(obj: Context, name: str | None) -> None:
    """List every table of the catalogue (cdp/tables.py): what it holds, who writes it, row
    counts and locations, including tables not written yet."""
    from cdp.pipeline import lakehouse_of

    if name:
        report.show_table_schema(lakehouse_of(obj.settings), name)
    else:
        report.show_tables(lakehouse_of(obj.settings))


@cli.command()
@click.option("--channel", help="Only this channel.")
@click.option("--limit", default=20, show_default=True, help="Rows to show.")
@pass_context
def quarantine(obj: Context, channel: str | None, limit: int) -> None:
    """Show quarantined rows: file, line, reason and the raw text."""
    from cdp.pipeline import lakehouse_of

    report.show_quarantine(lakehouse_of(obj.settings), channel, limit)


@cli.command()
@click.argument("query")
@click.option("--limit", default=50, show_default=True, help="Rows to print.")
@pass_context
def sql(obj: Context, query: str, limit: int) -> None:
    """Run a Spark SQL query; tables are views named <layer>_<table>, e.g. silver_orders."""
    from cdp.pipeline import lakehouse_of
    from cdp.runtime import spark_session

    lakehouse = lakehouse_of(obj.settings)
    with spark_session(obj.settings) as spark:
        for table in lakehouse.tables():
            lakehouse.read(spark, table).createOrReplaceTempView(f"{table.layer}_{table.name}")
        spark.sql(query).show(limit, truncate=False)


@cli.group()
def identity() -> None:
    """OneID: resolve identities, explain why identifiers belong together, statistics."""


@identity.command("resolve")
@click.option(
    "--engine",
    type=click.Choice(["auto", "embedded", "spark"]),
    default=None,
    help="Connected-components engine [default: setting identity_engine, auto].",
)
@click.option(
    "--rules",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    default=None,
    help="Identity rules YAML [default: identity/rules.yml].",
)
@click.option(
    "--force",
    is_flag=True,
    help="Resolve even when silver and the rules are unchanged since the last run.",
)
@click.option(
    "--full",
    is_flag=True,
    help="Re-solve the whole graph [default: only the people whose silver records changed].",
)
@pass_context
def identity_resolve(
    obj: Context, engine: str | None, rules: Path | None, force: bool, full: bool
) -> None:
    """Resolve OneIDs from silver: graph, rules, components, stable ids, golden records."""
    from cdp import pipeline

    settings = obj.settings.model_copy(
        update={k: v for k, v in {"identity_engine": engine, "identity_rules": rules}.items() if v}
    )
    outcome = pipeline.resolve_identity(settings, progress=report.say, force=force, full=full)
    if outcome is not None:
        report.show_identity(outcome)


@identity.command("explain")
@click.argument("identifier_type")
@click.argument("value")
@click.option(
    "--to",
    "to",
    nargs=2,
    metavar="TYPE VALUE",
    help="Show the chain of records joining the first identifier to this one.",
)
@click.option("--show-personal", is_flag=True, help="Print phones and e-mails unmasked.")
@pass_context
def identity_explain(
    obj: Context, identifier_type: str, value: str, to: tuple[str, str] | None, show_personal: bool
) -> None:
    """Show the person an identifier belongs to, and why (e.g. `explain phone 13912345678`)."""
    from cdp.pipeline import lakehouse_of
    from identity import explain

    result = explain(lakehouse_of(obj.settings), identifier_type, value, tuple(to) if to else None)
    report.show_explanation(result, show_personal)


@identity.command("stats")
@pass_context
def identity_stats(obj: Context) -> None:
    """OneID size distribution, hubs, rule effects and recent runs."""
    from cdp.pipeline import lakehouse_of
    from identity.explain import stats

    report.show_identity_stats(stats(lakehouse_of(obj.settings)))


@identity.command("lookup")
@click.argument("identifier_type")
@click.argument("value")
@pass_context
def identity_lookup(obj: Context, identifier_type: str, value: str) -> None:
    """Print the OneID of an identifier (exit code 1 when it has none)."""
    from cdp.pipeline import lakehouse_of
    from identity import lookup

    one_id = lookup(lakehouse_of(obj.settings), identifier_type, value)
    if one_id is None:
        report.error(f"{identifier_type}:{value} has no OneID")
        sys.exit(1)
    click.echo(one_id)


@identity.command("accuracy")
@pass_context
def identity_accuracy(obj: Context) -> None:
    """Pairwise precision and recall against the generator's ground truth, then per trap
    whether it merged strangers and per reality how many affected people were resolved."""
    from cdp.pipeline import lakehouse_of
    from identity.accuracy import pairwise_accuracy, trap_accuracy
    from identity.resolve import LINKS, MAP
    from identity.rules import load_rules

    settings = obj.settings
    lakehouse = lakehouse_of(settings)
    truth = settings.ground_truth_dir / "identifiers.csv"
    identity_map, links = lakehouse.to_arrow(MAP), lakehouse.to_arrow(LINKS)
    click.echo(f"all identifiers:     {pairwise_accuracy(identity_map, links, truth).summary()}")
    joining = load_rules(settings.identity_rules).joining_types
    click.echo(
        f"joining identifiers: {pairwise_accuracy(identity_map, links, truth, joining).summary()}"
    )
    for line in trap_accuracy(identity_map, links, truth.parent, joining).lines():
        click.echo(f"  {line}")


@cli.group()
def marts() -> None:
    """Marts on DuckDB (dbt): build, document, query."""


@marts.command("build")
@click.option(
    "--as-of",
    type=DAY,
    help="Business day to compute the marts as of [default: the last day with data].",
)
@click.option("--select", metavar="SELECTOR", help="dbt node selection, e.g. +customer_rfm.")
@click.option(
    "--unit-tests",
    is_flag=True,
    help="Also run the dbt unit tests (fixed inputs, expected rows): after changing the SQL.",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Rebuild every mart from all history [default: only what changed since the last "
    "build; a full refresh by itself when the project or the mart rules changed].",
)
@pass_context
def marts_build(
    obj: Context, as_of: str | None, select: str | None, unit_tests: bool, full_refresh: bool
) -> None:
    """Run `dbt build` (the models and their data tests) into the marts DuckDB file."""
    from cdp import pipeline

    result = pipeline.build_marts(
        obj.settings,
        as_of=as_of,
        select=select,
        progress=report.say,
        unit_tests=unit_tests,
        full_refresh=full_refresh,
    )
    report.show_marts(result)


@marts.command("docs")
@click.option(
    "--serve", is_flag=True, help="Then serve the site on http://127.0.0.1:PORT until Ctrl-C."
)
@click.option("--port", default=8080, show_default=True, help="Port of --serve (0: any free one).")
@pass_context
def marts_docs(obj: Context, serve: bool, port: int) -> None:
    """Generate dbt's documentation site (every model and column) for the marts: one file that
    opens offline, and with --serve the full site on a local web server."""
    from cdp.marts import run_dbt
    from cdp.marts import target_dir as marts_target_dir

    # --static: a single page with the manifest and catalog inside, which a browser opens from
    # file:// (index.html fetches them, which browsers only allow over HTTP).
    run_dbt(obj.settings, ["docs", "generate", "--static"])
    target = marts_target_dir(obj.settings)
    click.echo(f"dbt docs (one file, opens offline): {target / 'static_index.html'}")
    if serve:
        from cdp.docs_server import serve as serve_docs

        serve_docs(
            target, port, lambda url: click.echo(f"serving dbt docs on {url} (Ctrl-C stops)")
        )


@marts.command("query")
@click.argument("query")
@click.option("--limit", default=50, show_default=True, help="Rows to print.")
@pass_context
def marts_query(obj: Context, query: str, limit: int) -> None:
    """Run a SQL query on the marts DuckDB file (read-only), e.g. "FROM customer_rfm"."""
    report.show_query(obj.settings.marts_db, query, limit)


@cli.group()
def segments() -> None:
    """Segments as code (segments/*.yml): list, preview, export audience packs, changes."""


@segments.command("list")
@pass_context
def segments_list(obj: Context) -> None:
    """Every segment with its owner and size as of the marts (or why it does not compile)."""
    from cdp.activation.export import segments_list as list_them

    report.show_segments(list_them(obj.settings))


@segments.command("preview")
@click.argument("name")
@click.option("--sample", default=10, show_default=True, help="People to show (masked).")
@click.option("--sql", "show_sql", is_flag=True, help="Print the compiled SQL.")
@pass_context
def segments_preview(obj: Context, name: str, sample: int, show_sql: bool) -> None:
    """Size, overlap with the other segments and a masked sample of a segment."""
    from cdp.activation.export import segment_preview

    report.show_preview(segment_preview(obj.settings, name, sample_size=sample), show_sql)


@segments.command("export")
@click.argument("name")
@pass_context
def segments_export(obj: Context, name: str) -> None:
    """Export a segment's audience packs (CSV, XLSX, DMP files, manifest) as of the marts."""
    from cdp import pipeline
    from cdp.activation.export import export_segment

    with pipeline.locked(obj.settings):
        report.show_export(export_segment(obj.settings, name, progress=report.say))


@segments.command("changes")
@click.argument("name")
@click.option("--limit", default=20, show_default=True, help="OneIDs to print per list.")
@pass_context
def segments_changes(obj: Context, name: str, limit: int) -> None:
    """Who entered and who left a segment between its two latest exports."""
    from cdp.activation.export import segment_changes

    report.show_changes(segment_changes(obj.settings, name), limit)


@cli.group()
def journeys() -> None:
    """Journeys as code (journeys/*.yml): list, validate, dry-run, status, report."""


@journeys.command("list")
@pass_context
def journeys_list(obj: Context) -> None:
    """Every journey with its owner, entry and steps (or why it is invalid)."""
    from cdp.journeys.commands import list_journeys

    click.echo(list_journeys(obj.settings))


@journeys.command("validate")
@pass_context
def journeys_validate(obj: Context) -> None:
    """Validate every journey file; exit 2 naming the file and key of the first error."""
    from cdp.journeys.commands import validate_journeys

    click.echo(validate_journeys(obj.settings))


@journeys.command("dry-run")
@click.argument("names", nargs=-1)
@pass_context
def journeys_dry_run(obj: Context, names: tuple[str, ...]) -> None:
    """Who would enter, move, leave and be messaged as of the marts; records nothing."""
    from cdp.journeys.runs import run_journeys

    for run in run_journeys(obj.settings, list(names), dry_run=True, progress=report.say):
        click.echo(run.summary())


@journeys.command("run")
@click.argument("names", nargs=-1)
@pass_context
def journeys_run(obj: Context, names: tuple[str, ...]) -> None:
    """Advance the journeys as of the marts, export their messages and record the day."""
    from cdp import pipeline

    for run in pipeline.run_journeys(obj.settings, list(names), progress=report.say):
        click.echo(run.summary())


@journeys.command("status")
@pass_context
def journeys_status(obj: Context) -> None:
    """People per journey and step after the latest run, and how the others left."""
    from cdp.journeys.commands import status

    click.echo(status(obj.settings))


@journeys.command("report")
@click.argument("name")
@pass_context
def journeys_report(obj: Context, name: str) -> None:
    """Per step counts, sends and suppressions, conversions and revenue against control."""
    from cdp.journeys.commands import journey_report

    click.echo(journey_report(obj.settings, name))


@cli.group()
def privacy() -> None:
    """Erasure of a person and the audit log (see README "Privacy")."""


@privacy.command("erase")
@click.option("--type", "identifier_type", help="Identifier type (phone, email, openid, ...).")
@click.option("--value", help="The identifier's value, in any spelling silver reads.")
@click.option("--one-id", help="Erase this OneID instead of an identifier's person.")
@click.option(
    "--file",
    "requests_file",
    type=click.Path(path_type=Path),
    help="CSV of many requests: identifier_type,value or one_id columns.",
)
@pass_context
def privacy_erase(
    obj: Context,
    identifier_type: str | None,
    value: str | None,
    one_id: str | None,
    requests_file: Path | None,
) -> None:
    """Erase people from every table, old Delta version, the marts and the exports; a
    tombstone keeps them out of later deliveries. Writes a report per request."""
    from cdp.privacy.erase import erase, report_of
    from cdp.privacy.requests import read_requests, request_of
    from identity.rules import load_rules

    settings = obj.settings
    rules = load_rules(settings.identity_rules)
    if requests_file and (identifier_type or value or one_id):
        raise click.UsageError("give --file or one request (--type/--value or --one-id), not both")
    requests = (
        read_requests(requests_file, rules.types, rules.member_cards)
        if requests_file
        else [request_of(identifier_type, value, one_id, rules.types, rules.member_cards)]
    )
    for erasure in erase(settings, requests, progress=report.say):
        summary = report_of(erasure)
        found = summary["verification"]["rows_found"]
        click.echo(
            f"{summary['request']}: {summary['status']}, {summary['rows_removed']:,} rows "
            f"removed, verification found {found}"
        )


@privacy.command("audit")
@click.option("--limit", default=50, show_default=True, help="Entries to print (newest).")
@pass_context
def privacy_audit(obj: Context, limit: int) -> None:
    """The audit log: exports of raw personal values and erasures, who and when."""
    from cdp.pipeline import lakehouse_of
    from cdp.privacy.audit import entries

    for row in entries(lakehouse_of(obj.settings))[-limit:]:
        click.echo(
            f"{row['at']:%Y-%m-%d %H:%M:%S} {row['actor']} {row['event']}: {row['what']} "
            f"({row['people']:,} people, {row['rows']:,} rows)"
        )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port (0: any free port).")
@pass_context
def serve(obj: Context, host: str, port: int) -> None:
    """The console and the API (see README "Console and API") on http://HOST:PORT/ until
    Ctrl-C; add a user first (`cdp users add`)."""
    from cdp.console.app import serve as run_server

    settings = obj.settings
    click.echo(f"console on http://{host}:{port}/ (API docs /docs) over {settings.workspace}")
    run_server(settings, host, port)


@cli.group()
def users() -> None:
    """Console users: add, list, disable (roles: admin, marketer, crm, operations, analyst,
    store_staff; scope: group, region:R, city:C, mall:M or store:S)."""


def _user_store(obj: Context):
    from cdp.console.users import UserStore, users_db

    return UserStore(users_db(obj.settings.workspace))


def _echo_principals(principals, disabled_word: str) -> None:
    """A line per user or token: name, role, scope, and ``disabled_word`` when it is off."""
    for p in principals:
        state = f" ({disabled_word})" if p.is_disabled else ""
        click.echo(f"{p.name}: {p.role}, scope {p.scope}{state}")


@users.command("add")
@click.argument("username")
@click.option(
    "--role", required=True, help="admin, marketer, crm, operations, analyst, store_staff."
)
@click.option(
    "--scope", default="group", show_default=True, help="e.g. store:SH001, mall:MALL_SH01."
)
@click.password_option(help="At least 8 characters (asked for when not given).")
@pass_context
def users_add(obj: Context, username: str, role: str, scope: str, password: str) -> None:
    """Add a console user (the password is stored as an argon2 hash)."""
    user = _user_store(obj).add_user(username, password, role, scope)
    click.echo(f"user {user.name}: role {user.role}, scope {user.scope}")


@users.command("list")
@pass_context
def users_list(obj: Context) -> None:
    """Every console user with role, scope and whether disabled."""
    _echo_principals(_user_store(obj).users(), "disabled")


@users.command("disable")
@click.argument("username")
@pass_context
def users_disable(obj: Context, username: str) -> None:
    """Disable a user: no more logins, open sessions end at their next request."""
    _user_store(obj).disable_user(username)
    click.echo(f"user {username} disabled")


@cli.group()
def tokens() -> None:
    """API tokens, one per system (POS, customer service): add, list, revoke."""


@tokens.command("add")
@click.argument("system")
@click.option("--role", default="operations", show_default=True, help="The role the token acts as.")
@click.option("--scope", default="group", show_default=True, help="e.g. mall:MALL_SH01.")
@pass_context
def tokens_add(obj: Context, system: str, role: str, scope: str) -> None:
    """Issue a token for SYSTEM; it is printed once (only its SHA-256 is stored)."""
    click.echo(_user_store(obj).issue_token(system, role, scope))


@tokens.command("list")
@pass_context
def tokens_list(obj: Context) -> None:
    """Every token's system, role and scope (revoked ones marked)."""
    _echo_principals(_user_store(obj).tokens(), "revoked")


@tokens.command("revoke")
@click.argument("system")
@pass_context
def tokens_revoke(obj: Context, system: str) -> None:
    """Revoke the token of SYSTEM."""
    _user_store(obj).revoke_token(system)
    click.echo(f"token {system} revoked")


@cli.group("spark-server")
def spark_server() -> None:
    """A local JVM Spark Connect server with Delta Lake (jars from Maven Central via mvn);
    run jobs on it with SPARK_REMOTE=sc://127.0.0.1:PORT."""


SPARK_SERVER_PORT = click.option(
    "--port", default=15002, show_default=True, help="Port on 127.0.0.1."
)


@spark_server.command("fetch")
def spark_server_fetch() -> None:
    """Fetch the server's jars with mvn into the cache (once; `start` does it too)."""
    from cdp import spark_server as server

    click.echo(server.fetch_jars(say=report.say))


@spark_server.command("start")
@SPARK_SERVER_PORT
@click.option("--memory", default="4g", show_default=True, help="JVM heap (-Xmx).")
@click.option("--cores", type=int, help="Local task slots [default: number of cores].")
@click.option(
    "--conf", "confs", multiple=True, metavar="KEY=VALUE", help="A Spark setting (repeatable)."
)
def spark_server_start(port: int, memory: str, cores: int | None, confs: tuple[str, ...]) -> None:
    """Fetch the jars once (cached), start the server and wait until it answers."""
    from cdp import spark_server as server

    extra = {}
    for conf in confs:
        key, sep, value = conf.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{conf!r} is not KEY=VALUE", param_hint="--conf")
        extra[key] = value
    state = server.start(port, memory=memory, cores=cores, say=report.say, extra_conf=extra)
    click.echo(f"export SPARK_REMOTE={state.url}")


@spark_server.command("stop")
@SPARK_SERVER_PORT
def spark_server_stop(port: int) -> None:
    """Stop the server started on PORT."""
    from cdp import spark_server as server

    server.stop(port, say=click.echo)


@spark_server.command("status")
@SPARK_SERVER_PORT
def spark_server_status(port: int) -> None:
    """Whether a server runs on PORT, with its pid and log."""
    from cdp import spark_server as server

    click.echo(server.status(port))


# cdp insight: its commands live with the insight package.
cli.add_command(insight_commands)


def main() -> None:
    """Entry point: known failures print a readable message and an exit code, no traceback."""
    from cdp.demo import DemoWorkspaceError
    from cdp.docs_server import DocsServerError
    from cdp.marts import MartsBuildFailed
    from cdp.runtime import EngineError
    from cdp.workspace_lock import WorkspaceBusy

    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (
        ConfigError,
        DemoWorkspaceError,
        FileNotFoundError,
        LookupError,
        ValueError,
        MartsBuildFailed,
        WorkspaceBusy,
        EngineError,
        DocsServerError,
    ) as exc:
        if "-v" in sys.argv or "--verbose" in sys.argv:
            raise
        report.error(str(exc))
        sys.exit(2)
    except Exception as exc:
        from cdp.quality import QualityGateFailed

        if isinstance(exc, QualityGateFailed):
            report.error(str(exc))
            sys.exit(1)
        raise


if __name__ == "__main__":
    main()
