"""The decay model: one set of rules, applied once at write time, enforced by the storage engine.

For each record the policy computes, when it is logged:

- ``importance = clamp(base_score + event_type_boosts[event_type] + first agent_type_boosts[k] where k is a
  substring of agent_id + 0.1 if the payload has "result" or "response" - 0.1 if it has "error", 0, 1)``
- ``category``: ``"stored"`` for stored memories (``log_type="memory"``), ``"log"`` for orchestration events.
- ``memory_type``: orchestration events are ``short_term``. A stored memory is ``long_term`` when its event type
  is in ``long_term_events``, ``short_term`` when in ``short_term_events``; otherwise ``long_term`` when the
  agent's ``default_long_term`` is set or importance >= 0.7, else ``short_term``. An explicit ``memory_type``
  passed to ``log_memory`` wins.
- ``expires_at = created_at + hours(memory_type)`` when decay is enabled (or an explicit ``expiry_hours`` is
  given), where hours come from the agent's ``short_term_hours``/``long_term_hours``, else the configuration's
  ``default_short_term_hours``/``default_long_term_hours``. With decay disabled records never expire.

Backends enforce ``expires_at`` natively (indexes in SQLite, key TTLs and stream trimming in Redis, retention in
Kafka); reads never return an expired record, and ``cleanup`` only reclaims space.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

HOUR_MS = 3_600_000
LONG_TERM_IMPORTANCE = 0.7


class MemoryTypeRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    long_term_events: list[str] = Field(default_factory=lambda: ["success", "completion", "write", "result"])
    short_term_events: list[str] = Field(default_factory=lambda: ["debug", "processing", "start", "progress"])


class ImportanceRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_score: float = Field(0.5, ge=0, le=1)
    event_type_boosts: dict[str, float] = Field(
        default_factory=lambda: {"write": 0.3, "success": 0.2, "completion": 0.2, "result": 0.1}
    )
    agent_type_boosts: dict[str, float] = Field(default_factory=lambda: {"memory": 0.2, "openai-answer": 0.1})


class DecayConfig(BaseModel):
    """OrKa's decay configuration. Partial dicts merge one level deep into the defaults."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Compute an expiry for every record; off: records never expire.")
    default_short_term_hours: float = Field(1.0, gt=0, description="Lifetime of short-term records, in hours.")
    default_long_term_hours: float = Field(24.0, gt=0, description="Lifetime of long-term records, in hours.")
    check_interval_minutes: float = Field(
        30, gt=0, description="How often the decay scheduler reclaims the space of expired records."
    )
    memory_type_rules: MemoryTypeRules = Field(default_factory=MemoryTypeRules)
    importance_rules: ImportanceRules = Field(default_factory=ImportanceRules)


@dataclass(frozen=True, slots=True)
class Preset:
    short_term_hours: float
    long_term_hours: float
    check_interval_minutes: float


PRESETS: dict[str, Preset] = {
    "sensory": Preset(0.25, 1, 5),
    "working": Preset(2, 8, 15),
    "episodic": Preset(24, 168, 60),
    "semantic": Preset(72, 2160, 240),
    "procedural": Preset(168, 4320, 480),
    "meta": Preset(48, 8760, 720),
}


def preset_overrides(name: str) -> dict[str, Any]:
    """The decay settings a preset stands for. A preset turns decay on: choosing one asks for expiry."""
    try:
        preset = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown memory_preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
    return {
        "enabled": True,
        "default_short_term_hours": preset.short_term_hours,
        "default_long_term_hours": preset.long_term_hours,
        "check_interval_minutes": preset.check_interval_minutes,
    }


class Classification(NamedTuple):
    importance: float
    memory_type: str
    category: str
    expires_at: int | None


# Rule outcomes memoized per (agent, event type, log type, payload flags); a workflow has few of those, and a
# policy that meets more simply starts its memo again.
MEMO_LIMIT = 4096


class DecayPolicy:
    """Classifies records and computes their expiry, per the formula in this module's docstring.

    Thread-safe. The rules depend only on the agent, the event type, the log type and three payload keys, so
    ``classify`` remembers their outcome for the common call (no agent config, nothing explicit) and only adds
    the creation time: ``log()`` pays a dict lookup instead of the rules.
    """

    def __init__(self, config: DecayConfig) -> None:
        self.config = config
        rules = config.memory_type_rules
        self._long_events = frozenset(rules.long_term_events)
        self._short_events = frozenset(rules.short_term_events)
        self._memo: dict[tuple[str, str, str, int], tuple[float, str, str, int | None]] = {}

    def importance(self, agent_id: str, event_type: str, payload: Any) -> float:
        return self._importance(agent_id, event_type, _payload_flags(payload))

    def _importance(self, agent_id: str, event_type: str, flags: int) -> float:
        rules = self.config.importance_rules
        score = rules.base_score + rules.event_type_boosts.get(event_type, 0.0)
        for fragment, boost in rules.agent_type_boosts.items():
            if fragment in agent_id:
                score += boost
                break
        if flags & _HAS_RESULT:
            score += 0.1
        if flags & _HAS_ERROR:
            score -= 0.1
        return min(max(score, 0.0), 1.0)

    def classify(
        self,
        *,
        agent_id: str,
        event_type: str,
        payload: Any,
        log_type: str,
        created_at: int,
        agent_config: dict[str, Any] | None = None,
        memory_type: str | None = None,
        importance: float | None = None,
        expiry_hours: float | None = None,
    ) -> Classification:
        flags = _payload_flags(payload)
        if not agent_config and memory_type is None and importance is None and expiry_hours is None:
            key = (agent_id, event_type, log_type, flags)
            outcome = self._memo.get(key)
            if outcome is None:
                outcome = self._outcome(agent_id, event_type, log_type, flags, {}, None, None, None)
                if len(self._memo) >= MEMO_LIMIT:
                    self._memo.clear()
                self._memo[key] = outcome
        else:
            outcome = self._outcome(
                agent_id, event_type, log_type, flags, agent_config or {}, memory_type, importance, expiry_hours
            )
        score, kind, category, lifetime_ms = outcome
        return Classification(score, kind, category, None if lifetime_ms is None else created_at + lifetime_ms)

    def _outcome(
        self,
        agent_id: str,
        event_type: str,
        log_type: str,
        flags: int,
        agent_config: dict[str, Any],
        memory_type: str | None,
        importance: float | None,
        expiry_hours: float | None,
    ) -> tuple[float, str, str, int | None]:
        """(importance, memory type, category, lifetime in ms or None): the rules, before the creation time."""
        if importance is None:
            importance = self._importance(agent_id, event_type, flags)
        if memory_type is None:
            memory_type = self._memory_type(event_type, log_type, importance, agent_config)
        if expiry_hours is None and self._enabled(agent_config):
            expiry_hours = self._hours(memory_type, agent_config)
        lifetime_ms = None if expiry_hours is None else round(expiry_hours * HOUR_MS)
        return importance, memory_type, "stored" if log_type == "memory" else "log", lifetime_ms

    def _enabled(self, agent_config: dict[str, Any]) -> bool:
        return bool(agent_config.get("enabled", self.config.enabled))

    def _memory_type(self, event_type: str, log_type: str, importance: float, agent_config: dict[str, Any]) -> str:
        if log_type != "memory":
            return "short_term"
        if event_type in self._long_events:
            return "long_term"
        if event_type in self._short_events:
            return "short_term"
        if agent_config.get("default_long_term") or importance >= LONG_TERM_IMPORTANCE:
            return "long_term"
        return "short_term"

    def _hours(self, memory_type: str, agent_config: dict[str, Any]) -> float:
        if memory_type == "long_term":
            return float(agent_config.get("long_term_hours", self.config.default_long_term_hours))
        return float(agent_config.get("short_term_hours", self.config.default_short_term_hours))


_HAS_RESULT = 1
_HAS_ERROR = 2


def _payload_flags(payload: Any) -> int:
    """The payload keys the importance rule looks at, as bits."""
    if not isinstance(payload, dict):
        return 0
    flags = _HAS_RESULT if "result" in payload or "response" in payload else 0
    return flags | _HAS_ERROR if "error" in payload else flags
