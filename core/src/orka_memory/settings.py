"""Settings, resolved by pydantic-settings from four sources, highest priority first:

1. explicit arguments (``create_memory_logger(...)``, CLI flags);
2. environment variables: ``ORKA_MEMORY_<FIELD>`` and, for sections, ``ORKA_MEMORY_<SECTION>__<FIELD>``; then the
   compatible variables OrKa users already set (``REDIS_URL``, ``KAFKA_BOOTSTRAP_SERVERS``,
   ``ORKA_MEMORY_DECAY_ENABLED``, ...), which each settings model declares in ``compat_env``;
3. one config file: ``ORKA_MEMORY_CONFIG`` (TOML or YAML, by extension), else ``./orka-memory.toml``, else
   ``./orka-memory.yaml``, else the ``[tool.orka-memory]`` table of ``./pyproject.toml``;
4. defaults.

Each backend plugin owns a section: its ``settings_model`` becomes the field of the backend's name, so
``[file] path = ...`` in the file and ``ORKA_MEMORY_FILE__PATH`` in the environment reach the file backend.
``resolve_settings`` also reports which source gave every value (``orka-memory config``), and turns validation
errors into one ``ConfigurationError`` naming each bad key, its source and what is allowed.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, create_model, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from orka_memory.decay import PRESETS, DecayConfig

ENV_PREFIX = "ORKA_MEMORY_"
CONFIG_ENV = "ORKA_MEMORY_CONFIG"
DEFAULT_CONFIG_FILES = ("orka-memory.toml", "orka-memory.yaml", "orka-memory.yml")
PYPROJECT_TABLE = ("tool", "orka-memory")


class ConfigurationError(ValueError):
    """Settings that cannot be used; the message names each key, where its value came from, and what is allowed."""


class CoreSettings(BaseSettings):
    """The core's settings: the logger front-end, encoding, decay. Backends add their own sections."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore", validate_default=True
    )
    # Compatible variables: environment name -> dotted settings key.
    compat_env: ClassVar[dict[str, str]] = {
        "ORKA_MEMORY_DECAY_ENABLED": "decay.enabled",
        "ORKA_MEMORY_DECAY_SHORT_TERM_HOURS": "decay.default_short_term_hours",
        "ORKA_MEMORY_DECAY_LONG_TERM_HOURS": "decay.default_long_term_hours",
        "ORKA_MEMORY_DECAY_CHECK_INTERVAL_MINUTES": "decay.check_interval_minutes",
    }

    backend: str | None = Field(
        None,
        description="Backend name (file, redis, redisstack, kafka or a plugin's). Unset: Redis Stack when Redis "
        "answers at the default URL and its plugin is installed, else the embedded file backend.",
    )
    codec: str = Field("zstd", description="Codec compressing records and blobs above compress_threshold.")
    compress_threshold: int = Field(512, ge=0, description="Encoded records smaller than this (bytes) stay raw.")
    dedup: bool = Field(True, description="Store large repeated sub-objects once (blob deduplication).")
    blob_threshold_chars: int = Field(200, ge=1, description="Smallest canonical JSON size of a deduplicated dict.")
    queue_size: int = Field(10_000, ge=1, description="Records waiting for the writer; a full queue blocks log().")
    batch_size: int = Field(500, ge=1, description="Most records the writer stores in one backend call.")
    durability: Literal["batch", "event"] = Field(
        "batch", description="batch: log() returns at once, flush() waits; event: log() waits for its record."
    )
    retry_attempts: int = Field(3, ge=1, description="Tries of a failing batch before it is spooled locally.")
    retry_backoff_seconds: float = Field(0.2, ge=0, description="First retry delay; doubles on each retry.")
    spool_dir: Path = Field(
        Path(".orka-memory/spool"), description="Where records wait while the backend is unreachable."
    )
    malloc_trim_threshold: int = Field(
        64 * 2**20,
        ge=0,
        description="Freed heap memory (bytes) the process keeps for the writer's next batch instead of returning "
        "it to the kernel (glibc's M_TRIM_THRESHOLD, process-wide, never lowered); 0 leaves the allocator alone.",
    )
    memory_buffer: int = Field(1000, ge=0, description="Events kept in the logger's in-process `memory` list.")
    debug_keep_previous_outputs: bool = Field(
        False, description="Keep previous_outputs in the in-process `memory` list too (always stored)."
    )
    memory_preset: str | None = Field(None, description=f"Decay preset: {', '.join(PRESETS)}.")
    decay: DecayConfig = Field(default_factory=DecayConfig)
    fork_ttl_seconds: float | None = Field(
        None, gt=0, description="TTL given to fork/join coordination keys (fork_group:*, waitfor:*, ...)."
    )
    embedder: str = Field(
        "hashing",
        description="Embedder turning stored memories and queries into vectors, on backends with vector search "
        "(`orka-memory plugins` lists the installed ones).",
    )
    embedder_options: dict[str, Any] = Field(
        default_factory=dict, description="Keyword options for the embedder, e.g. {model = '...'}."
    )
    search_mode: Literal["auto", "vector", "text", "hybrid"] = Field(
        "auto",
        description="How search_memories ranks: auto (vector where the backend has vector search, else text), "
        "vector, text, or hybrid (both, blended by hybrid_text_weight).",
    )
    hybrid_text_weight: float = Field(
        0.3, ge=0, le=1, description="Share of the full-text relevance in a hybrid score (the rest: similarity)."
    )

    @field_validator("memory_preset")
    @classmethod
    def _known_preset(cls, value: str | None) -> str | None:
        if value is not None and value not in PRESETS:
            raise ValueError(f"unknown preset; allowed: {', '.join(PRESETS)}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            CompatEnvSource(settings_cls),
            ConfigFileSource(settings_cls, _config_path(settings_cls)),
        )


# -- sources ----------------------------------------------------------------------------------------------------


class CompatEnvSource(PydanticBaseSettingsSource):
    """The environment variable names OrKa used, mapped onto dotted keys by each model's ``compat_env``."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def mapping(self) -> dict[str, list[str]]:
        """Environment name -> the dotted keys it sets, for the core and every section present (one variable may
        serve several sections: ``REDIS_URL`` is the url of the redis and the redisstack backends)."""
        names = {env_name: [key] for env_name, key in CoreSettings.compat_env.items()}
        for section, info in self.settings_cls.model_fields.items():
            for env_name, key in getattr(info.annotation, "compat_env", {}).items():
                names.setdefault(env_name, []).append(f"{section}.{key}")
        return names

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for env_name, keys in self.mapping().items():
            if env_name in os.environ:
                for key in keys:
                    _set_dotted(values, key, os.environ[env_name])
        return values


class ConfigFileSource(PydanticBaseSettingsSource):
    """One TOML or YAML file (or pyproject's ``[tool.orka-memory]``); unknown sections are ignored."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        data = read_config_file(self.path)
        return {key: value for key, value in data.items() if key in self.settings_cls.model_fields}


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a config file; a syntax error names the file and the problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(f"cannot read config file {path}: {error.strerror or error}") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
            if path.name == "pyproject.toml":
                for part in PYPROJECT_TABLE:
                    data = data.get(part, {})
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        kind = path.suffix.lstrip(".").upper()
        raise ConfigurationError(f"config file {path} is not valid {kind}: {error}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"config file {path} must hold a table of settings, not {type(data).__name__}")
    return data


def find_config_file(cwd: Path | None = None) -> Path | None:
    """The config file that applies: ``ORKA_MEMORY_CONFIG``, else the first default file present."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigurationError(f"{CONFIG_ENV}={explicit} names no file; fix the path or unset the variable")
        return path
    cwd = cwd or Path.cwd()
    for name in DEFAULT_CONFIG_FILES:
        if (cwd / name).is_file():
            return cwd / name
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file() and read_config_file(pyproject):
        return pyproject
    return None


def _config_path(settings_cls: type[BaseSettings]) -> Path | None:
    return getattr(settings_cls, "_config_file", None)


# -- building the settings class ------------------------------------------------------------------------------


def settings_class(sections: Mapping[str, type[BaseModel]], config_file: Path | None) -> type[CoreSettings]:
    """The settings model for the installed plugins: the core's fields plus one field per plugin section."""
    fields: dict[str, Any] = {
        name: (model, Field(default_factory=model, description=(model.__doc__ or "").strip().split("\n")[0]))
        for name, model in sorted(sections.items())
    }
    cls = create_model("OrkaMemorySettings", __base__=CoreSettings, **fields)
    cls._config_file = config_file  # type: ignore[attr-defined]
    return cls


@dataclass(frozen=True)
class ResolvedSettings:
    """Settings plus where each value came from."""

    settings: CoreSettings
    sources: dict[str, str]  # dotted key -> source label

    def section(self, name: str) -> Any:
        return getattr(self.settings, name)

    def items(self) -> Iterator[tuple[str, Any, str]]:
        """Every resolved leaf value as (dotted key, value with secrets masked, source)."""
        for key, value in _flatten(self.settings.model_dump(mode="json")):
            yield key, mask_secret(key, value), self.sources.get(key, "default")


def resolve_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    sections: Mapping[str, type[BaseModel]] | None = None,
    config_file: Path | None = None,
) -> ResolvedSettings:
    """Resolve settings for the installed plugins (or the ``sections`` given), raising ``ConfigurationError``."""
    if sections is None:
        from orka_memory.plugins import get_plugin_manager

        sections = {name: cls.settings_model for name, cls in get_plugin_manager().backends().items()}
    cls = settings_class(sections, config_file or find_config_file())
    labelled = _labelled_sources(cls, dict(overrides or {}))
    provenance: dict[str, str] = {}
    for label, values in reversed(labelled):  # lowest priority first, so higher ones overwrite
        for key, _ in _flatten(values):
            provenance[key] = label(key)
    try:
        settings = cls(**dict(overrides or {}))
    except ValidationError as error:
        raise ConfigurationError(_describe_errors(error, provenance)) from None
    return ResolvedSettings(settings, provenance)


def _labelled_sources(cls: type[CoreSettings], overrides: dict[str, Any]) -> list[tuple[Any, dict[str, Any]]]:
    env = EnvSettingsSource(cls)
    compat = CompatEnvSource(cls)
    config_file = _config_path(cls)
    compat_names = {key: name for name, keys in compat.mapping().items() for key in keys}
    return [
        (lambda key: "argument", InitSettingsSource(cls, overrides)()),
        (lambda key: f"environment {ENV_PREFIX}{key.replace('.', '__').upper()}", env()),
        (lambda key: f"environment {compat_names.get(key, '?')}", compat()),
        (lambda key: f"config file {config_file}", ConfigFileSource(cls, config_file)()),
    ]


def _describe_errors(error: ValidationError, provenance: dict[str, str]) -> str:
    lines = ["invalid orka-memory settings:"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        source = provenance.get(key) or _closest_source(key, provenance)
        lines.append(f"  {key} = {item.get('input')!r} (from {source}): {item['msg']}")
    return "\n".join(lines)


def _closest_source(key: str, provenance: dict[str, str]) -> str:
    while "." in key:
        key = key.rsplit(".", 1)[0]
        if key in provenance:
            return provenance[key]
    return "default"


# -- helpers ----------------------------------------------------------------------------------------------------

_SECRET_KEY = re.compile(r"(password|secret|token|api_key|sasl_plain_password)$", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)([^@\s]+)(@)")


def mask_secret(key: str, value: Any) -> Any:
    """Hide passwords: secret-named keys entirely, and the password part of URLs."""
    if isinstance(value, SecretStr) or (_SECRET_KEY.search(key) and value not in (None, "")):
        return "***"
    if isinstance(value, str):
        return _URL_PASSWORD.sub(r"\1***\3", value)
    return value


def _flatten(values: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and not dotted.endswith("_boosts"):
            yield from _flatten(value, dotted + ".")
        else:
            yield dotted, value


def _set_dotted(target: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[leaf] = value
