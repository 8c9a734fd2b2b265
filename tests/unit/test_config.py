import pytest

from cdp.config import ENV_VARS, ConfigError, load_settings, packaged, segments_folder


def test_defaults_are_under_the_workspace(tmp_path, monkeypatch):
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    monkeypatch.delenv("CDP_LANDING", raising=False)
    settings = load_settings(workspace=tmp_path)
    assert settings.landing_dir == tmp_path / "landing"
    assert settings.lakehouse_dir == tmp_path / "lakehouse"
    assert settings.spark_remote is None


def test_file_then_environment_then_arguments(tmp_path, monkeypatch):
    (tmp_path / "cdp.yaml").write_text("spark_remote: sc://file:15002\nsail_parallelism: 2\n")
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    assert load_settings(workspace=tmp_path).spark_remote == "sc://file:15002"
    monkeypatch.setenv("SPARK_REMOTE", "sc://env:15002")
    assert load_settings(workspace=tmp_path).spark_remote == "sc://env:15002"
    assert load_settings(workspace=tmp_path, spark_remote="sc://arg:1").spark_remote == "sc://arg:1"


def test_unknown_key_names_file_and_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    (tmp_path / "cdp.yaml").write_text("spark_remot: sc://typo:1\n")
    with pytest.raises(ConfigError, match=r"cdp\.yaml.*spark_remot"):
        load_settings(workspace=tmp_path)


def test_bad_value_names_key_and_expectation(tmp_path, monkeypatch):
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    (tmp_path / "cdp.yaml").write_text("spark_remote: http://host:1\n")
    with pytest.raises(ConfigError, match=r"spark_remote: .*sc://host:port"):
        load_settings(workspace=tmp_path)


def test_not_a_mapping(tmp_path):
    (tmp_path / "cdp.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_settings(workspace=tmp_path)


RESOURCE_SETTINGS = [
    ("segments_dir", "CDP_SEGMENTS_DIR"),
    ("dbt_project_dir", "CDP_DBT_PROJECT_DIR"),
    ("expectations_dir", "CDP_EXPECTATIONS_DIR"),
]


@pytest.fixture
def clean_env(monkeypatch):
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("CDP_CONFIG", raising=False)
    return monkeypatch


def test_resource_folders_default_to_the_workspace_and_the_installed_package(tmp_path, clean_env):
    settings = load_settings(workspace=tmp_path)
    assert settings.segments_dir == tmp_path.resolve() / "segments"
    assert settings.dbt_project_dir == packaged("dbt_project")
    assert (settings.dbt_project_dir / "dbt_project.yml").is_file()
    assert settings.expectations_dir == packaged("expectations")
    assert settings.source_timezone == "Asia/Shanghai"


@pytest.mark.parametrize("key, var", RESOURCE_SETTINGS)
def test_resource_folders_from_file_then_environment(tmp_path, clean_env, key, var):
    from_file, from_env = tmp_path / "mine", tmp_path / "theirs"
    from_file.mkdir()
    from_env.mkdir()
    (tmp_path / "cdp.yaml").write_text(f"{key}: {from_file}\n")
    assert getattr(load_settings(workspace=tmp_path), key) == from_file
    clean_env.setenv(var, str(from_env))
    assert getattr(load_settings(workspace=tmp_path), key) == from_env


@pytest.mark.parametrize("key, var", RESOURCE_SETTINGS)
def test_a_missing_configured_folder_is_an_error_naming_it(tmp_path, clean_env, key, var):
    missing = tmp_path / "nowhere"
    (tmp_path / "cdp.yaml").write_text(f"{key}: {missing}\n")
    with pytest.raises(ConfigError, match=rf"cdp\.yaml: {key}: .*folder {missing} does not"):
        load_settings(workspace=tmp_path)
    clean_env.setenv(var, str(missing))
    with pytest.raises(ConfigError, match=rf"environment variable {var}: {key}: .*{missing}"):
        load_settings(workspace=tmp_path)


def test_source_timezone_from_file_and_environment(tmp_path, clean_env):
    (tmp_path / "cdp.yaml").write_text("source_timezone: Asia/Tokyo\n")
    assert load_settings(workspace=tmp_path).source_timezone == "Asia/Tokyo"
    clean_env.setenv("CDP_SOURCE_TIMEZONE", "Europe/Berlin")
    assert load_settings(workspace=tmp_path).source_timezone == "Europe/Berlin"


def test_an_unknown_time_zone_is_an_error_naming_it(tmp_path, clean_env):
    (tmp_path / "cdp.yaml").write_text("source_timezone: China/Beijing\n")
    with pytest.raises(ConfigError, match=r"cdp\.yaml: source_timezone: .*'China/Beijing'"):
        load_settings(workspace=tmp_path)


def test_the_segments_folder_is_seeded_with_the_examples_on_first_use(tmp_path, clean_env):
    settings = load_settings(workspace=tmp_path)
    assert not settings.segments_dir.exists()
    folder = segments_folder(settings)
    examples = sorted(p.name for p in packaged("segments").iterdir() if p.suffix in (".yml", ".md"))
    assert sorted(p.name for p in folder.iterdir()) == examples
    assert "_activation.yml" in examples
    assert (folder / "_activation.yml").read_bytes() == (
        packaged("segments") / "_activation.yml"
    ).read_bytes()


def test_seeding_never_overwrites_what_marketers_changed(tmp_path, clean_env):
    settings = load_settings(workspace=tmp_path)
    folder = segments_folder(settings)
    (folder / "autumn_art_lovers.yml").write_text("name: edited\n")
    (folder / "_activation.yml").unlink()
    assert segments_folder(settings) == folder
    assert (folder / "autumn_art_lovers.yml").read_text() == "name: edited\n"
    assert not (folder / "_activation.yml").exists()


def test_a_configured_segments_folder_is_used_as_it_is(tmp_path, clean_env):
    mine = tmp_path / "marketing"
    mine.mkdir()
    settings = load_settings(workspace=tmp_path / "ws", segments_dir=mine)
    assert segments_folder(settings) == mine
    assert list(mine.iterdir()) == []
