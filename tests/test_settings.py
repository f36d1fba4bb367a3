"""Settings are read once, from the environment and an optional config file outside the repository,
and secrets never show up in reprs, logs or printed output."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from analytics.errors import ConfigError
from analytics.settings import Secret, Settings, load_settings

SECRET_VALUES = {
    "WHOP_API_KEY": "whop-live-key-123",
    "WHOP_WEBHOOK_SECRET": "ws_super_secret",
    "OPENAI_API_KEY": "sk-openai-secret",
    "ANALYTICS_SECRET_KEY": "dashboard-signing-key",
}


def test_defaults_put_a_sqlite_file_in_the_workspace(tmp_path: Path) -> None:
    settings = load_settings({}, config_file=tmp_path / "absent.toml", cwd=tmp_path)  # no workspace/ to find
    assert settings.workspace == Path("workspace")
    assert settings.database_url == "sqlite:///workspace/analytics.db"
    assert settings.whop_api_key is None
    assert settings.whop_api_base_url == "https://api.whop.com/api/v1"


def test_environment_overrides(tmp_path: Path) -> None:
    settings = load_settings(
        {"ANALYTICS_WORKSPACE": str(tmp_path / "ws"), "ANALYTICS_SYNC_MAX_CONCURRENCY": "8", **SECRET_VALUES},
        config_file=tmp_path / "absent.toml",
    )
    assert settings.workspace == tmp_path / "ws"
    assert settings.database_url == f"sqlite:///{tmp_path / 'ws' / 'analytics.db'}"
    assert settings.sync_max_concurrency == 8
    assert isinstance(settings.whop_api_key, Secret)
    assert settings.whop_api_key.reveal() == "whop-live-key-123"


def test_secrets_never_appear_in_repr_str_or_logs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = load_settings(
        {**SECRET_VALUES, "ANALYTICS_DATABASE_URL": "postgresql://bob:pg-password@db/analytics"},
        config_file=tmp_path / "absent.toml",
    )
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("settings: %s %r", settings, settings)
    shown = repr(settings) + str(settings) + caplog.text + repr(settings.whop_api_key)
    for value in [*SECRET_VALUES.values(), "pg-password"]:
        assert value not in shown
    assert "whop_api_key=<set>" in repr(settings)


def test_config_file_outside_the_repository(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('whop_api_key = "from-file"\nworkspace = "/srv/ws"\n')
    settings = load_settings({"WHOP_API_KEY": ""}, config_file=config)
    assert settings.whop_api_key == Secret("from-file")
    assert settings.workspace == Path("/srv/ws")
    # the environment wins over the file
    assert load_settings({"WHOP_API_KEY": "env"}, config_file=config).whop_api_key == Secret("env")


def test_config_file_inside_a_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config = tmp_path / "conf" / "config.toml"
    config.parent.mkdir()
    config.write_text('whop_api_key = "x"\n')
    with pytest.raises(ConfigError, match="outside the repository"):
        load_settings({}, config_file=config)


@pytest.mark.parametrize(
    ("content", "message"),
    [('whop_api_kee = "x"\n', "unknown key"), ("not toml ===", "cannot be read as TOML")],
)
def test_bad_config_file_names_the_problem(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_settings({}, config_file=config)


def test_bad_number_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ANALYTICS_SYNC_MAX_CONCURRENCY"):
        load_settings({"ANALYTICS_SYNC_MAX_CONCURRENCY": "many"}, config_file=tmp_path / "absent.toml")


def test_missing_secret_says_which_variable_to_set() -> None:
    with pytest.raises(ConfigError, match="WHOP_API_KEY is not set"):
        Settings().require("whop_api_key")


def test_settings_are_frozen() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.workspace = Path("elsewhere")  # type: ignore[misc]
    moved = settings.replace(workspace=Path("elsewhere"))
    assert moved.database_url == "sqlite:///elsewhere/analytics.db"
