import pytest

from cdp.config import ConfigError, load_settings


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
