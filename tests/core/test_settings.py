"""Settings: source priority, plugin sections, compatible variables, config files, provenance, clear errors."""

from pathlib import Path

import pytest
from orka_memory.settings import ConfigurationError, mask_secret, resolve_settings


def test_defaults_come_from_the_models(orka_memory_env: Path) -> None:
    resolved = resolve_settings()
    assert resolved.settings.codec == "zstd"
    assert resolved.settings.file.path == Path(".orka-memory/memory.db")  # type: ignore[attr-defined]
    sources = {key: source for key, _, source in resolved.items()}
    assert sources["codec"] == "default"
    assert sources["file.path"] == "default"


def test_nested_environment_reaches_plugin_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORKA_MEMORY_FILE__PATH", "/tmp/elsewhere.db")
    monkeypatch.setenv("ORKA_MEMORY_DECAY__DEFAULT_LONG_TERM_HOURS", "48")
    resolved = resolve_settings()
    assert str(resolved.settings.file.path) == "/tmp/elsewhere.db"  # type: ignore[attr-defined]
    assert resolved.settings.decay.default_long_term_hours == 48
    assert resolved.sources["file.path"] == "environment ORKA_MEMORY_FILE__PATH"


def test_compatible_variables_keep_working(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORKA_MEMORY_DECAY_ENABLED", "true")
    monkeypatch.setenv("ORKA_MEMORY_DECAY_SHORT_TERM_HOURS", "0.5")
    monkeypatch.setenv("ORKA_MEMORY_DECAY_CHECK_INTERVAL_MINUTES", "5")
    monkeypatch.setenv("ORKA_MEMORY_BACKEND", "file")
    resolved = resolve_settings()
    assert resolved.settings.decay.enabled is True
    assert resolved.settings.decay.default_short_term_hours == 0.5
    assert resolved.settings.decay.check_interval_minutes == 5
    assert resolved.settings.backend == "file"
    assert resolved.sources["decay.enabled"] == "environment ORKA_MEMORY_DECAY_ENABLED"


def test_priority_is_argument_then_environment_then_file(
    orka_memory_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (orka_memory_env / "orka-memory.toml").write_text(
        'codec = "none"\nqueue_size = 11\nbatch_size = 7\n[file]\npath = "from-file.db"\n'
    )
    monkeypatch.setenv("ORKA_MEMORY_QUEUE_SIZE", "22")
    monkeypatch.setenv("ORKA_MEMORY_BATCH_SIZE", "33")
    resolved = resolve_settings({"batch_size": 44})
    settings = resolved.settings
    assert (settings.codec, settings.queue_size, settings.batch_size) == ("none", 22, 44)
    assert str(settings.file.path) == "from-file.db"  # type: ignore[attr-defined]
    assert resolved.sources["batch_size"] == "argument"
    assert resolved.sources["queue_size"] == "environment ORKA_MEMORY_QUEUE_SIZE"
    assert resolved.sources["codec"].startswith("config file") and "orka-memory.toml" in resolved.sources["codec"]


def test_pyproject_table_is_read(orka_memory_env: Path) -> None:
    (orka_memory_env / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.orka-memory]\nqueue_size = 5\n')
    assert resolve_settings().settings.queue_size == 5


def test_orka_memory_config_names_a_yaml_file(orka_memory_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = orka_memory_env / "conf" / "memory.yaml"
    config.parent.mkdir()
    config.write_text("durability: event\ndecay:\n  enabled: true\nfile:\n  synchronous: NORMAL\n")
    (orka_memory_env / "orka-memory.toml").write_text("queue_size = 99\n")  # ignored: the variable wins
    monkeypatch.setenv("ORKA_MEMORY_CONFIG", str(config))
    settings = resolve_settings().settings
    assert settings.durability == "event" and settings.decay.enabled is True
    assert settings.file.synchronous == "NORMAL"  # type: ignore[attr-defined]
    assert settings.queue_size == 10_000


def test_invalid_value_names_key_source_and_what_is_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORKA_MEMORY_QUEUE_SIZE", "0")
    monkeypatch.setenv("ORKA_MEMORY_DURABILITY", "sometimes")
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings()
    message = str(caught.value)
    assert "queue_size = '0' (from environment ORKA_MEMORY_QUEUE_SIZE)" in message
    assert "greater than or equal to 1" in message
    assert "durability" in message and "'batch' or 'event'" in message


def test_invalid_value_in_config_file_names_the_file(orka_memory_env: Path) -> None:
    (orka_memory_env / "orka-memory.toml").write_text('[file]\nsynchronous = "OFF"\n')
    with pytest.raises(ConfigurationError, match=r"file\.synchronous = 'OFF' \(from config file .*orka-memory\.toml"):
        resolve_settings()


def test_unreadable_config_file_is_a_clear_error(orka_memory_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (orka_memory_env / "orka-memory.toml").write_text("queue_size = = 3\n")
    with pytest.raises(ConfigurationError, match=r"orka-memory\.toml is not valid TOML"):
        resolve_settings()
    monkeypatch.setenv("ORKA_MEMORY_CONFIG", "/nonexistent/memory.toml")
    with pytest.raises(ConfigurationError, match="names no file"):
        resolve_settings()


def test_unknown_preset_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORKA_MEMORY_MEMORY_PRESET", "forever")
    with pytest.raises(ConfigurationError, match=r"memory_preset.*allowed: sensory"):
        resolve_settings()


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("redis.url", "rediss://user:s3cret@cache:6380/0", "rediss://user:***@cache:6380/0"),
        ("redis.url", "redis://:s3cret@cache:6379", "redis://:***@cache:6379"),
        ("kafka.sasl_plain_password", "s3cret", "***"),
        ("redis.password", None, None),
        ("file.path", "a.db", "a.db"),
    ],
)
def test_secrets_are_masked(key: str, value: object, shown: object) -> None:
    assert mask_secret(key, value) == shown
