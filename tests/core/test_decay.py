"""The one decay model: importance formula, memory types, expiry, presets, partial configs."""

from pathlib import Path

import pytest
from orka_memory import create_memory_logger
from orka_memory.decay import HOUR_MS, DecayConfig, DecayPolicy, preset_overrides
from orka_memory.logger import effective_decay
from orka_memory.settings import CoreSettings

POLICY = DecayPolicy(DecayConfig(enabled=True))


@pytest.mark.parametrize(
    ("agent_id", "event_type", "payload", "expected"),
    [
        ("agent", "start", {}, 0.5),
        ("agent", "write", {}, 0.8),
        ("memory-writer", "success", {}, 0.9),  # base + success + first matching agent boost
        ("openai-answer-1", "result", {"result": 1}, 0.8),
        ("agent", "success", {"error": "boom"}, 0.6),
        ("memory-openai-answer", "write", {"response": "x"}, 1.0),  # clamped
    ],
)
def test_importance_formula(agent_id: str, event_type: str, payload: dict, expected: float) -> None:
    assert POLICY.importance(agent_id, event_type, payload) == pytest.approx(expected)


def test_orchestration_events_are_short_term_and_expire_after_short_term_hours() -> None:
    result = POLICY.classify(agent_id="a", event_type="success", payload={}, log_type="log", created_at=1000)
    assert (result.memory_type, result.category) == ("short_term", "log")
    assert result.expires_at == 1000 + HOUR_MS


@pytest.mark.parametrize(
    ("event_type", "agent_config", "expected"),
    [
        ("write", {}, "long_term"),  # in long_term_events
        ("debug", {"default_long_term": True}, "short_term"),  # in short_term_events: the list decides
        ("note", {}, "short_term"),  # importance 0.5
        ("note", {"default_long_term": True}, "long_term"),
    ],
)
def test_stored_memory_types(event_type: str, agent_config: dict, expected: str) -> None:
    result = POLICY.classify(
        agent_id="a", event_type=event_type, payload={}, log_type="memory", created_at=0, agent_config=agent_config
    )
    assert result.memory_type == expected
    assert result.category == "stored"


def test_agent_overrides_hours_and_disabled_decay_never_expires() -> None:
    result = POLICY.classify(
        agent_id="a", event_type="x", payload={}, log_type="log", created_at=0, agent_config={"short_term_hours": 2}
    )
    assert result.expires_at == 2 * HOUR_MS
    off = DecayPolicy(DecayConfig())
    assert off.classify(agent_id="a", event_type="x", payload={}, log_type="log", created_at=0).expires_at is None
    explicit = off.classify(agent_id="a", event_type="x", payload={}, log_type="memory", created_at=0, expiry_hours=3)
    assert explicit.expires_at == 3 * HOUR_MS


def test_presets_apply_their_hours_and_enable_decay() -> None:
    config = effective_decay(CoreSettings(memory_preset="working"))
    assert (config.enabled, config.default_short_term_hours, config.default_long_term_hours) == (True, 2, 8)
    assert config.check_interval_minutes == 15
    with pytest.raises(ValueError, match="sensory"):
        preset_overrides("nope")


def test_partial_decay_config_merges_one_level_deep() -> None:
    config = effective_decay(
        CoreSettings(), {"enabled": True, "importance_rules": {"base_score": 0.3}, "default_short_term_hours": 4}
    )
    assert config.enabled and config.default_short_term_hours == 4 and config.default_long_term_hours == 24
    assert config.importance_rules.base_score == 0.3
    assert config.importance_rules.event_type_boosts["write"] == 0.3  # kept from the defaults


def test_agent_and_event_of_any_type_are_classified_as_their_text(tmp_path: Path) -> None:
    """The rules' outcomes are memoized by agent and event type, so log() hands them over as text."""
    with create_memory_logger("file", path=str(tmp_path / "m.db"), spool_dir=str(tmp_path / "spool")) as memory:
        memory.log(["memory", "agent"], {"kind": "write"}, {"result": 1}, run_id="r")  # type: ignore[arg-type]
        memory.flush()
        [event] = memory.trace("r")
    assert event["agent_id"] == "['memory', 'agent']" and event["event_type"] == "{'kind': 'write'}"
    assert event["importance"] == pytest.approx(0.5 + 0.2 + 0.1)  # "memory" is a substring of the agent's text
