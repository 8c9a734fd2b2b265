"""A new workspace starts from the saved dbt parse of an earlier one (no dbt run)."""

from cdp import dbt_parse_cache


def test_a_new_target_is_seeded_with_the_last_parse_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = tmp_path / "project"
    first, second = tmp_path / "ws1" / "target", tmp_path / "ws2" / "target"
    assert not dbt_parse_cache.seed(first, project)  # nothing kept yet
    first.mkdir(parents=True)
    (first / dbt_parse_cache.SAVED_PARSE).write_bytes(b"parse one")
    dbt_parse_cache.keep(first, project)

    assert dbt_parse_cache.seed(second, project)
    assert (second / dbt_parse_cache.SAVED_PARSE).read_bytes() == b"parse one"
    # a target with a parse of its own keeps it
    (second / dbt_parse_cache.SAVED_PARSE).write_bytes(b"parse two")
    assert not dbt_parse_cache.seed(second, project)
    assert (second / dbt_parse_cache.SAVED_PARSE).read_bytes() == b"parse two"
    # another project never gets this project's parse
    assert not dbt_parse_cache.seed(tmp_path / "ws3" / "target", tmp_path / "other")


def test_keeping_replaces_the_cached_parse_whole(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project, target = tmp_path / "project", tmp_path / "ws" / "target"
    target.mkdir(parents=True)
    for content in (b"old parse", b"newer parse"):
        (target / dbt_parse_cache.SAVED_PARSE).write_bytes(content)
        dbt_parse_cache.keep(target, project)
    [cached] = dbt_parse_cache.cache_dir().iterdir()
    assert cached.read_bytes() == b"newer parse"
