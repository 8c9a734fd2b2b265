"""Segment definitions: validation, compilation to SQL over hand-made marts, list / preview."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest

from cdp.activation import compiler, segments
from cdp.activation.definitions import load_segment
from cdp.config import ConfigError

AS_OF = "2026-09-30"

MARTS = f"""
CREATE TABLE customer_lifecycle AS SELECT * FROM (VALUES
    (DATE '{AS_OF}', 'A', 'active'), (DATE '{AS_OF}', 'B', 'dormant'),
    (DATE '{AS_OF}', 'C', 'follower'), (DATE '{AS_OF}', 'D', 'visitor'),
    (DATE '{AS_OF}', 'E', 'member')) AS t(as_of, one_id, lifecycle_stage);
CREATE TABLE customer_tags AS SELECT * FROM (VALUES
    ('A', 'art_buyer_90d', DATE '{AS_OF}'), ('A', 'member', DATE '{AS_OF}'),
    ('B', 'art_buyer_90d', DATE '{AS_OF}'), ('E', 'member', DATE '{AS_OF}'))
    AS t(one_id, tag, as_of);
CREATE TABLE tag_catalog AS SELECT * FROM (VALUES ('art_buyer_90d'), ('member'),
    ('coupon_scalper')) AS t(tag);
CREATE TABLE customer_metrics AS SELECT * FROM (VALUES
    ('A', DATE '{AS_OF}', 3, 120000, DATE '2026-09-28'),
    ('B', DATE '{AS_OF}', 1, 30000, DATE '2026-03-01'))
    AS t(one_id, as_of, order_count, spend_fen_365d, last_purchase_date);
CREATE TABLE customer_rfm AS SELECT * FROM (VALUES
    ('A', DATE '{AS_OF}', 'Champions'), ('B', DATE '{AS_OF}', 'At Risk'))
    AS t(one_id, as_of, segment);
CREATE SCHEMA intermediate;
CREATE TABLE intermediate.rfm_segment_map AS SELECT * FROM (VALUES ('Champions'),
    ('At Risk'), ('Lost')) AS t(segment);
CREATE TABLE member_tiers AS SELECT * FROM (VALUES
    ('A', DATE '{AS_OF}', 'gold'), ('E', DATE '{AS_OF}', 'silver')) AS t(one_id, as_of, tier);
CREATE TABLE loyalty_tiers AS SELECT * FROM (VALUES ('silver'), ('gold'), ('platinum'))
    AS t(tier);
CREATE TABLE customer_360 AS SELECT * FROM (VALUES
    ('A', DATE '{AS_OF}', ['wechat', 'pos']), ('C', DATE '{AS_OF}', ['wechat']))
    AS t(one_id, as_of, channels);
CREATE TABLE customer_timeline AS SELECT * FROM (VALUES
    ('C', DATE '2026-09-01', 'event', 'web', 'page_view'),
    ('C', DATE '2026-09-30', 'event', 'web', 'page_view'),
    ('C', DATE '2026-09-30', 'event', 'web', 'click'),
    ('D', DATE '2026-08-31', 'event', 'web', 'page_view'),
    ('D', DATE '2026-09-29', 'event', 'web', 'page_view'),
    ('D', DATE '2026-10-01', 'event', 'web', 'page_view'))
    AS t(one_id, event_date, record_type, channel, event_type);
CREATE TABLE customer_360_masked AS SELECT * FROM (VALUES
    ('A', '王*', '139****5678', 'Shanghai'), ('B', '李*', NULL, 'Beijing'),
    ('C', NULL, NULL, NULL), ('D', NULL, NULL, NULL), ('E', '张*', '138****0000', NULL))
    AS t(one_id, name, phone, city);
"""


@pytest.fixture
def con():
    connection = duckdb.connect()
    connection.execute(MARTS)
    yield connection
    connection.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "segments"


def write(folder: Path, name: str, rules: str, extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yml"
    path.write_text(
        f"name: {name}\nowner: crm-team\ndescription: A test segment.\n"
        f"rules:\n{textwrap.indent(textwrap.dedent(rules).strip(), '  ')}\n"
        f"{textwrap.dedent(extra)}",
        encoding="utf-8",
    )
    return path


def people(con, folder: Path, rules: str, extra: str = "", lookup=None) -> list[str]:
    path = write(folder, "probe", rules, extra)
    compiled = compiler.compile_segment(load_segment(path), path, con, lookup)
    return compiler.members(con, compiled).column("one_id").to_pylist()


def test_tag_any_and_all(con, folder):
    assert people(con, folder, "{kind: tag, tags: [art_buyer_90d, member]}") == ["A", "B", "E"]
    assert people(con, folder, "{kind: tag, tags: [art_buyer_90d, member], match: all}") == ["A"]


def test_metric_ranges_and_people_absent_from_the_mart(con, folder):
    assert people(con, folder, "{kind: metric, field: spend_fen_365d, gte: 30000, lt: 120000}") == [
        "B"
    ]
    assert people(con, folder, "{kind: metric, field: last_purchase_date, gte: 2026-09-01}") == [
        "A"
    ]
    # non-buyers are not in customer_metrics: only `present: false` selects them
    assert people(con, folder, "{kind: metric, field: order_count, lte: 5}") == ["A", "B"]
    assert people(con, folder, "{kind: metric, field: order_count, present: false}") == [
        "C",
        "D",
        "E",
    ]


def test_shortcuts_and_list_fields(con, folder):
    assert people(con, folder, "{kind: rfm_segment, in: [Champions, Lost]}") == ["A"]
    assert people(con, folder, "{kind: lifecycle_stage, not_in: [active, visitor]}") == [
        "B",
        "C",
        "E",
    ]
    assert people(con, folder, "{kind: tier, in: [gold, platinum]}") == ["A"]
    assert people(con, folder, "{kind: field, mart: customer_360, field: channels, in: [pos]}") == [
        "A"
    ]


def test_events_are_counted_inside_the_window_only(con, folder):
    # the window's first day (Sep 1) counts; Aug 31 and anything after the as-of day do not
    rule = """
        kind: events
        channel: [web]
        event_type: [page_view]
        window: {days: 30}
        count: {gte: 2}
    """
    assert people(con, folder, rule) == ["C"]
    assert people(con, folder, "{kind: events, event_type: [page_view], window: {days: 2}}") == [
        "C",
        "D",
    ]
    # a cap counts people without any record as 0
    assert people(con, folder, "{kind: events, event_type: [page_view], count: {lt: 1}}") == [
        "A",
        "B",
        "E",
    ]
    assert people(
        con,
        folder,
        """
        kind: events
        window: {start: 2026-09-30, end: 2026-10-31}
        count: {gte: 2}
    """,
    ) == ["C"]


def test_all_any_not(con, folder):
    rule = """
        all:
          - any:
              - {kind: tag, tags: [art_buyer_90d]}
              - {kind: lifecycle_stage, in: [follower]}
          - not: {kind: rfm_segment, in: [At Risk]}
    """
    assert people(con, folder, rule) == ["A", "C"]


def test_include_and_exclude_lists(con, folder):
    (folder / "lists").mkdir(parents=True)
    (folder / "lists" / "staff.csv").write_text(
        "\ufeffidentifier_type,identifier_value\nphone,+86 139-0000-0001\n", encoding="utf-8"
    )

    def lookup(pairs):
        known = {("phone", "13900000001"): "B", ("member_card", "80000000001"): "E"}
        return {pair: known[pair] for pair in pairs if pair in known}

    extra = """
        include:
          one_ids: [D]
          identifiers: [{type: member_card, value: "80000000001"}, {type: phone, value: "139"}]
        exclude:
          file: lists/staff.csv
    """
    path = write(folder, "probe", "{kind: tag, tags: [art_buyer_90d]}", extra)
    compiled = compiler.compile_segment(load_segment(path), path, con, lookup)
    assert compiler.members(con, compiled).column("one_id").to_pylist() == ["A", "D", "E"]
    assert compiled.unresolved == {"include": 1}
    assert set(compiled.list_files) == {"lists/staff.csv"}


def test_compiled_sql_reads_the_universe_as_of_its_day(con, folder):
    path = write(folder, "probe", "{kind: tier, in: [gold]}")
    compiled = compiler.compile_segment(load_segment(path), path, con)
    assert compiled.as_of.isoformat() == AS_OF
    assert compiled.marts == {"customer_lifecycle", "member_tiers"}
    assert compiled.sql.startswith(
        f"SELECT p.one_id\nFROM customer_lifecycle AS p\nWHERE p.as_of = DATE '{AS_OF}'"
    )
    assert "m.tier IN ('gold')" in compiled.sql


def compile_error(con, folder: Path, rules: str, extra: str = "") -> str:
    path = write(folder, "probe", rules, extra)
    with pytest.raises(ConfigError) as caught:
        compiler.compile_segment(load_segment(path), path, con)
    return str(caught.value)


def test_unknown_field_names_file_key_and_the_available_fields(con, folder):
    message = compile_error(
        con,
        folder,
        """
        all:
          - {kind: tag, tags: [member]}
          - {kind: metric, field: spend_fen_356d, gte: 1}
    """,
    )
    assert message.startswith(
        f"{folder / 'probe.yml'}: rules.all[1].field: unknown field "
        "'spend_fen_356d' in customer_metrics; available: "
    )
    assert "spend_fen_365d" in message and "order_count" in message


def test_unknown_tag_and_values_list_the_known_ones(con, folder):
    message = compile_error(con, folder, "{kind: tag, tags: [art_buyer_90]}")
    assert "rules.tags: unknown tag 'art_buyer_90'; known: art_buyer_90d, coupon_scalper" in message
    message = compile_error(con, folder, "{kind: rfm_segment, in: [Champion]}")
    assert "rules.in: unknown rfm_segment 'Champion'; known: At Risk, Champions, Lost" in message
    assert "unknown lifecycle_stage 'sleeping'" in compile_error(
        con, folder, "{any: [{kind: lifecycle_stage, in: [sleeping]}]}"
    )


def test_type_mismatches_are_errors(con, folder):
    assert "a range needs a number or date field" in compile_error(
        con, folder, "{kind: field, mart: customer_360, field: channels, gte: 3}"
    )
    assert "'x' does not fit a number field" in compile_error(
        con, folder, "{kind: metric, field: order_count, in: [x]}"
    )


def test_validation_errors_name_the_file_and_the_key(folder):
    path = write(
        folder,
        "probe",
        """
        all:
          - {kind: tag, tags: [member]}
          - any:
              - {kind: metric, field: order_count}
    """,
        "campaign: {channels: [fax]}\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_segment(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "rules.all[1].any[0]: Value error, give exactly one test" in message
    assert "campaign.channels[0]: Input should be 'wechat_cs'" in message
    bad_kind = write(folder, "kinds", "{kind: tagz, tags: [member]}")
    assert "rules: a condition is a mapping with kind: tag | metric" in str(
        pytest.raises(ConfigError, load_segment, bad_kind).value
    )


def test_name_must_match_the_file(folder):
    path = write(folder, "probe", "{kind: tag, tags: [member]}")
    path.rename(folder / "other.yml")
    with pytest.raises(ConfigError, match="must match the file name"):
        load_segment(folder / "other.yml")


def test_marts_of_different_days_are_refused(con, folder):
    con.execute("UPDATE member_tiers SET as_of = DATE '2026-09-29'")
    assert "the marts disagree on the as-of day" in compile_error(
        con, folder, "{kind: tier, in: [gold]}"
    )


def test_list_and_preview(con, folder):
    write(folder, "art", "{kind: tag, tags: [art_buyer_90d]}")
    write(folder, "gold", "{kind: tier, in: [gold]}")
    write(folder, "broken", "{kind: metric, field: nope, gte: 1}")
    (folder / "_activation.yml").write_text("not a segment\n")
    listed = {s.name: s for s in segments.list_segments(con, folder)}
    assert set(listed) == {"art", "gold", "broken"}
    assert (listed["art"].size, listed["gold"].size, listed["broken"].size) == (2, 1, None)
    assert "unknown field 'nope'" in listed["broken"].error
    shown = segments.preview(con, "art", folder, sample_size=5)
    assert shown.size == 2
    assert shown.overlaps == [("gold", 1, 0.5)]
    assert shown.sample_columns == ["one_id", "name", "phone", "city"]
    assert sorted(shown.sample) == [
        ("A", "王*", "139****5678", "Shanghai"),
        ("B", "李*", None, "Beijing"),
    ]
    with pytest.raises(LookupError, match="no segment 'nope'"):
        segments.preview(con, "nope", folder)


def test_infinite_bounds_are_rejected_naming_the_file_and_key(folder):
    path = write(
        folder,
        "probe",
        """
        all:
          - {kind: metric, field: spend_fen_365d, gte: .inf}
          - {kind: metric, field: order_count, in: [1, .nan]}
    """,
    )
    with pytest.raises(ConfigError) as caught:
        load_segment(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "rules.all[0].gte: Value error, must be a finite number, not inf" in message
    assert "rules.all[1].in: Value error, must be a finite number, not nan" in message


def test_an_infinite_bound_spoils_only_its_own_segment(con, folder):
    write(folder, "art", "{kind: tag, tags: [art_buyer_90d]}")
    write(folder, "gold", "{kind: tier, in: [gold]}")
    write(folder, "endless", "{kind: metric, field: spend_fen_365d, gte: .inf}")
    listed = {s.name: s for s in segments.list_segments(con, folder)}
    assert (listed["art"].size, listed["gold"].size, listed["endless"].size) == (2, 1, None)
    assert listed["art"].error is None
    assert (
        f"{folder / 'endless.yml'}: rules.gte: Value error, must be a finite number"
        in listed["endless"].error
    )
    shown = segments.preview(con, "art", folder)
    assert (shown.size, shown.overlaps) == (2, [("gold", 1, 0.5)])


def test_a_segment_the_marts_cannot_run_is_listed_with_its_error(con, folder):
    write(folder, "art", "{kind: tag, tags: [art_buyer_90d]}")
    write(folder, "gold", "{kind: tier, in: [gold]}")
    # the marts changed under the definition: its SQL no longer runs
    con.execute(
        f"DROP TABLE member_tiers; CREATE VIEW member_tiers AS SELECT 'A' AS one_id, "
        f"DATE '{AS_OF}' AS as_of, CAST(error('tier mart broken') AS VARCHAR) AS tier"
    )
    listed = {s.name: s for s in segments.list_segments(con, folder)}
    assert listed["art"].size == 2
    assert listed["gold"].size is None
    assert f"{folder / 'gold.yml'}: the marts cannot select this segment" in listed["gold"].error
    assert segments.preview(con, "art", folder).overlaps == []
