"""The logger's in-process ``memory`` list (OrKa's trace of this logger's events)."""

from pathlib import Path

from orka_memory import create_memory_logger


def test_memory_keeps_the_newest_records_oldest_first_without_previous_outputs(orka_memory_env: Path) -> None:
    with create_memory_logger("file", memory_buffer=3) as memory:
        for step in range(5):
            memory.log("agent", "agent.end", {"n": step}, step=step, previous_outputs={"earlier": step})
        entries = memory.memory
    assert [entry["payload"]["n"] for entry in entries] == [2, 3, 4]
    assert all("previous_outputs" not in entry for entry in entries)
    assert entries[0]["node_id"] == "agent" and entries[0]["timestamp"]


def test_memory_keeps_previous_outputs_in_debug_mode_and_can_be_turned_off(orka_memory_env: Path) -> None:
    with create_memory_logger("file", debug_keep_previous_outputs=True) as memory:
        memory.log("agent", "agent.end", {"n": 1}, previous_outputs={"earlier": 0})
        assert memory.memory[0]["previous_outputs"] == {"earlier": 0}
    with create_memory_logger("file", memory_buffer=0) as memory:
        memory.log("agent", "agent.end", {"n": 1})
        assert memory.memory == []
