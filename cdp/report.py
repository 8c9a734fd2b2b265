"""Terminal output: progress while work runs and tables of what it did."""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

# Piped output (CI logs, `| tee`) would otherwise wrap tables at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 130)
err_console = Console(stderr=True)
_started = time.monotonic()


def say(message: str) -> None:
    """One progress line, prefixed with the seconds since the command started."""
    console.print(f"[dim]{time.monotonic() - _started:7.1f}s[/dim] {message}", highlight=False)


def _file_line(message: str) -> None:
    """A line naming a file: never wrapped, so the path can be copied (and grepped) whole."""
    console.print(f"  {message}", highlight=False, soft_wrap=True)


def error(message: str) -> None:
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False)


@contextmanager
def progress_bar() -> Iterator:
    """Yield ``advance(stage, done, total)`` that drives one bar per stage."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, int] = {}

        def advance(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield advance


def _table(title: str, *columns: str) -> RichTable:
    table = RichTable(title=title, title_justify="left")
    for i, column in enumerate(columns):
        table.add_column(column, justify="left" if i == 0 else "right")
    return table


def show_ingest(result) -> None:
    """The ingest summary per channel, then every file that did not load as rows: copies,
    unreadable files (quarantined whole) and ignored files (outside <channel>/<date>/)."""
    table = _table(
        "Bronze ingest", "channel", "new files", "skipped", "rows in", "loaded", "quarantined"
    )
    read = [f for f in result.files if f.status != "ignored"]
    for channel in sorted({f.channel for f in read}):
        files = [f for f in read if f.channel == channel]
        new = [f for f in files if f.status in ("loaded", "unreadable")]
        table.add_row(
            channel,
            str(len(new)),
            str(len(files) - len(new)),
            f"{sum(f.rows_in for f in new):,}",
            f"{sum(f.loaded for f in new):,}",
            f"{sum(f.quarantined for f in new):,}",
        )
    new = [f for f in read if f.status in ("loaded", "unreadable")]
    table.add_row(
        "[bold]total",
        str(len(new)),
        str(len(read) - len(new)),
        f"{result.rows_in:,}",
        f"{result.loaded:,}",
        f"{result.quarantined:,}",
    )
    console.print(table)
    for f in result.by_status("duplicate"):
        _file_line(f"re-delivered copy skipped: {f.source_file} (same bytes as {f.duplicate_of})")
    for f in result.by_status("unreadable"):
        _file_line(f"unreadable file, quarantined whole: {f.source_file} ({f.reason})")
    for f in result.by_status("ignored"):
        _file_line(f"ignored (never read): {f.source_file} ({f.reason})")
    show_reasons(result.quarantine_reasons)


def show_reasons(reasons: Counter) -> None:
    if not reasons:
        return
    table = _table("Quarantined rows by reason", "channel", "reason", "rows")
    for (channel, reason), count in sorted(reasons.items()):
        table.add_row(channel, reason, f"{count:,}")
    console.print(table)


def show_silver(outcomes) -> None:
    table = _table(
        "Silver upserts (MERGE INTO)",
        "table",
        "source rows",
        "superseded",
        "inserted",
        "existing keys",
        "rows now",
    )
    for o in outcomes:
        table.add_row(
            o.table,
            f"{o.source_rows:,}",
            f"{o.superseded:,}",
            f"{o.inserted:,}",
            f"{o.matched:,}",
            f"{o.merge.rows_after:,}",
        )
    console.print(table)


def show_gate(result) -> None:
    console.print(result.summary(), highlight=False)


def show_tables(lakehouse) -> None:
    """Every table the catalogue (cdp/tables.py) declares, written or not, with what it holds,
    who writes it, its rows and where it lives; then any table the catalogue does not know."""
    from cdp.tables import catalogue, undeclared

    table = _table(
        f"Tables declared in cdp/tables.py; locations under {lakehouse.root}",
        "table",
        "rows",
        "owner",
        "description",
        "location",
    )
    for column in table.columns[2:]:
        column.justify = "left"
    table.columns[4].no_wrap = True
    for spec in catalogue():
        rows = (
            f"{lakehouse.count(spec.table):,}"
            if lakehouse.exists(spec.table)
            else "[dim]not yet written[/dim]"
        )
        table.add_row(
            str(spec.table), rows, spec.owner, spec.description, _location(lakehouse, spec.table)
        )
    for t in undeclared(lakehouse):
        table.add_row(
            str(t), f"{lakehouse.count(t):,}", "?", "not in the catalogue", _location(lakehouse, t)
        )
    console.print(table)


def _location(lakehouse, table) -> str:
    return str(lakehouse.path(table).relative_to(lakehouse.root))


def show_table_schema(lakehouse, name: str) -> None:
    """One declared table: what it holds, its key, owner and location, then its columns;
    where the written table differs from the declaration, how."""
    from cdp.tables import schema_differences, spec, written_schema

    declared = spec(name)
    written = lakehouse.exists(declared.table)
    console.print(f"[bold]{declared.table}[/bold]: {declared.description}", highlight=False)
    console.print(
        f"  written by {declared.owner} (step {declared.step}); key: "
        f"{', '.join(declared.key) or 'none (a log or history)'}"
        f"{'; published: later steps read it' if declared.published else ''}",
        highlight=False,
    )
    rows = f"{lakehouse.count(declared.table):,} rows" if written else "not yet written"
    console.print(f"  {lakehouse.path(declared.table)} ({rows})", highlight=False)
    table = _table(f"Columns of {declared.table}", "column", "type")
    table.columns[1].justify = "left"
    for field in declared.schema:
        table.add_row(field.name, escape(str(field.type)))
    console.print(table)
    if written:
        for difference in schema_differences(
            declared.schema, written_schema(lakehouse, declared.table)
        ):
            console.print(f"  the written table differs: {difference}", highlight=False)


def show_quarantine(lakehouse, channel: str | None, limit: int) -> None:
    from spark_jobs.ingest import QUARANTINE

    if not lakehouse.exists(QUARANTINE):
        console.print("no quarantined rows")
        return
    rows = lakehouse.to_arrow(
        QUARANTINE, ["channel", "reason", "_source_file", "_line_no", "raw"]
    ).to_pylist()
    rows = sorted(
        (r for r in rows if channel is None or r["channel"] == channel),
        key=lambda r: (r["channel"], r["_source_file"], r["_line_no"]),
    )
    table = _table(f"Quarantined rows ({len(rows):,})", "file:line", "reason", "raw")
    for r in rows[:limit]:
        table.add_row(f"{r['_source_file']}:{r['_line_no']}", r["reason"], (r["raw"] or "")[:80])
    console.print(table)


def show_run(summary) -> None:
    show_ingest(summary.ingest)
    show_silver(summary.silver)
    for gate in summary.gates:
        show_gate(gate)
    if summary.identity is not None:
        show_identity(summary.identity)
    if summary.marts is not None:
        show_marts(summary.marts)
    for result in summary.exports:
        show_export(result)


def show_marts(result) -> None:
    console.print(result.summary(), highlight=False)


def show_query(database, query: str, limit: int) -> None:
    """Print a query's first rows from a DuckDB file opened read-only."""
    from cdp.marts import query as query_marts

    columns, rows = query_marts(database, query, limit)
    table = _table(query if len(query) < 80 else query[:77] + "...", *columns)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


def show_identity(outcome) -> None:
    table = _table(
        "Identity rules: what each one stopped",
        "rule",
        "identifier type",
        "identifiers rejected",
        "links cut",
    )
    for e in outcome.effects:
        table.add_row(e["rule"], e["identifier_type"], f"{e['identifiers']:,}", f"{e['links']:,}")
    if outcome.effects:
        console.print(table)


def mask(key: str) -> str:
    """Personal identifiers masked for display: phone 139****5678, e-mail a***@qq.com."""
    kind, _, value = key.partition(":")
    if kind == "phone" and len(value) == 11:
        value = value[:3] + "****" + value[7:]
    elif kind == "email" and "@" in value:
        user, _, domain = value.partition("@")
        value = user[:1] + "***@" + domain
    return f"{kind}:{value}"


def show_explanation(result, show_personal: bool = False) -> None:
    shown = (lambda k: k) if show_personal else mask
    console.print(
        f"[bold]{result.one_id}[/bold]: {len(result.identifiers)} identifiers", highlight=False
    )
    for key in result.identifiers:
        console.print(f"  {shown(key)}", highlight=False)
    hops = result.path or result.links
    title = "Chain of records joining them" if result.path else "Links within this person"
    table = _table(
        title, "identifier", "identifier", "seen together in", "first", "last", "records"
    )
    for h in hops:
        table.add_row(
            shown(h.a),
            shown(h.b),
            ", ".join(h.sources),
            str(h.first_seen_at)[:19],
            str(h.last_seen_at)[:19],
            f"{h.records:,}",
        )
    console.print(table)
    if result.other_one_id:
        console.print(
            f"The other identifier belongs to {result.other_one_id}: "
            + (
                "kept apart by these cut links"
                if result.kept_apart
                else "no record links the two people"
            ),
            highlight=False,
        )
    if result.kept_apart:
        table = _table("Kept apart by", "identifier", "identifier", "rule", "detail")
        for c in result.kept_apart:
            table.add_row(shown(c["a_key"]), shown(c["b_key"]), c["rule"], c["detail"])
        console.print(table)
    if result.cut_links:
        table = _table("Links the rules cut", "identifier", "identifier", "rule", "detail")
        for c in result.cut_links:
            table.add_row(shown(c["a_key"]), shown(c["b_key"]), c["rule"], c["detail"])
        console.print(table)
    if result.rejected_neighbours:
        table = _table("Rejected identifiers seen with this person", "identifier", "rule", "detail")
        for r in {r["identifier"]: r for r in result.rejected_neighbours}.values():
            table.add_row(shown(r["identifier"]), r["rule"], r["detail"])
        console.print(table)


def show_identity_stats(stats: dict) -> None:
    console.print(
        f"{stats['people']:,} people, {stats['identifiers']:,} identifiers, "
        f"largest OneID {stats['largest']} identifiers",
        highlight=False,
    )
    table = _table("OneID sizes", "identifiers per person", "people")
    for label, people in stats["sizes"]:
        table.add_row(label, f"{people:,}")
    console.print(table)
    table = _table(
        "Rule effects (last run)", "rule", "identifier type", "identifiers rejected", "links cut"
    )
    for rule, kind, identifiers, links in stats["effects"]:
        table.add_row(rule, kind, f"{identifiers:,}", f"{links:,}")
    console.print(table)
    if stats["hubs"]:
        table = _table("Hubs (join nobody)", "identifier", "why")
        for kind, value, detail in stats["hubs"]:
            table.add_row(mask(f"{kind}:{value}"), detail)
        console.print(table)
    table = _table(
        "Recent runs", "run", "engine", "identifiers", "links", "people", "merges", "splits"
    )
    for row in stats["runs"]:
        table.add_row(*[f"{v:,}" if isinstance(v, int) else str(v) for v in row])
    console.print(table)


def show_segments(summaries) -> None:
    table = _table("Segments", "segment", "owner", "people", "description / error")
    for s in summaries:
        table.add_row(
            s.name,
            s.owner,
            "-" if s.size is None else f"{s.size:,}",
            s.error if s.error else s.description[:70],
        )
    console.print(table)


def show_preview(preview, show_sql: bool = False) -> None:
    console.print(
        f"[bold]{preview.name}[/bold] ({preview.owner}): {preview.size:,} people as "
        f"of {preview.as_of}",
        highlight=False,
    )
    for which, count in preview.unresolved.items():
        console.print(f"  {which} list: {count:,} entries match nobody", highlight=False)
    if preview.overlaps:
        table = _table(
            "Overlap with other segments", "segment", "people in both", "share of this one"
        )
        for name, both, share in preview.overlaps:
            table.add_row(name, f"{both:,}", f"{share:.0%}")
        console.print(table)
    table = _table("Sample (personal data masked)", *preview.sample_columns)
    for row in preview.sample:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)
    if show_sql:
        console.print(preview.sql, highlight=False)


def show_export(result) -> None:
    counts = result.manifest["counts"]
    table = _table(f"{result.segment} as of {result.as_of}: run {result.run_id}", "", "people")
    table.add_row("segment", f"{counts['segment']:,}")
    table.add_row("exported", f"{counts['exported']:,}")
    for reason, n in counts["suppressed"].items():
        table.add_row(f"suppressed: {reason}", f"{n:,}")
    console.print(table)
    table = _table("Channels", "channel", "exported", "suppressed (of those tried)", "files")
    for channel, info in result.manifest["channels"].items():
        table.add_row(
            channel,
            f"{info['exported']:,}",
            ", ".join(f"{k} {v:,}" for k, v in info["suppressed"].items()),
            str(len(info["files"])),
        )
    console.print(table)
    console.print(f"-> {result.folder}", highlight=False)


def show_changes(changes, limit: int) -> None:
    console.print(changes.summary(), highlight=False)
    for label, ids in (("entered", changes.entered), ("left", changes.left)):
        if ids:
            console.print(
                f"  {label}: {', '.join(ids[:limit])}" + (" ..." if len(ids) > limit else ""),
                highlight=False,
            )


def _bytes(size: int) -> str:
    """A byte count people read at a glance: 0 B, 12.3 KiB, 4.5 MiB, 1.2 GiB."""
    if size < 1024:
        return f"{size:,} B"
    scaled, unit = float(size), "B"
    for unit in ("KiB", "MiB", "GiB"):
        scaled /= 1024
        if scaled < 1024:
            break
    return f"{scaled:.1f} {unit}"


def show_maintenance(result) -> None:
    """Per table what `cdp maintain` did (data files, files and bytes vacuumed, log files,
    versions, each before -> after), then the marts file."""
    table = _table(
        f"Table maintenance (vacuum retention {result.retention_hours} hours)",
        "table",
        "rows",
        "files",
        "vacuumed",
        "bytes removed",
        "log files",
        "version",
    )
    table.columns[0].no_wrap = True
    for t in result.tables:
        table.add_row(
            t.table,
            f"{t.rows:,}",
            f"{t.files_before:,} -> {t.files_after:,}",
            f"{t.files_removed:,}",
            _bytes(t.bytes_removed),
            f"{t.log_files_before:,} -> {t.log_files_after:,}",
            f"{t.version_before} -> {t.version_after}",
        )
    console.print(table)
    console.print(
        f"{len(result.tables)} tables maintained, {_bytes(result.bytes_removed)} removed",
        highlight=False,
    )
    marts = result.marts
    if marts is not None:
        console.print(
            f"marts {marts.database}: "
            + (
                f"not checkpointed ({marts.skipped})"
                if marts.skipped
                else f"checkpointed, {_bytes(marts.bytes_before)} -> {_bytes(marts.bytes_after)}"
            ),
            highlight=False,
            soft_wrap=True,
        )
