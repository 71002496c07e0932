"""The ``orka-memory`` command line against the real file backend: every command, --json, and clean errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from orka_memory import MemoryLogger, create_memory_logger
from orka_memory.cli import main
from orka_memory.cli.demo import BRANCHES


@pytest.fixture(autouse=True)
def _file_store(orka_memory_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Commands and the test's own loggers share one store, chosen by the environment (no fallback warning)."""
    store = orka_memory_env / "store.db"
    monkeypatch.setenv("ORKA_MEMORY_BACKEND", "file")
    monkeypatch.setenv("ORKA_MEMORY_FILE__PATH", str(store))
    return store


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def run_json(*argv: str) -> Any:
    code, text = run(*argv, "--json")
    assert code == 0, text
    return json.loads(text)


def log_events(count: int, run_id: str = "run-1", **fields: Any) -> None:
    with create_memory_logger() as memory:
        for step in range(count):
            memory.log(f"agent_{step}", "agent.end", {"response": f"answer {step}"}, step=step, run_id=run_id, **fields)


# -- demo ----------------------------------------------------------------------------------------------------------


def test_demo_logs_a_forked_workflow_and_reports_trace_stats_cleanup_and_export() -> None:
    report = run_json("demo", "--seed", "7")

    events = report["trace"]
    branches = [event for event in events if event["agent_id"] in BRANCHES]
    assert sorted(event["agent_id"] for event in branches) == sorted(BRANCHES)
    assert {event["parent"] for event in branches} == {"fork_research"}
    assert len({event["fork_group"] for event in branches}) == 1
    steps = [event["step"] for event in events]
    assert steps == sorted(steps)
    synthesizer = next(event for event in events if event["agent_id"] == "synthesizer")
    assert set(BRANCHES) | {"planner"} <= set(synthesizer["previous_outputs"])
    assert synthesizer["payload"]["result"]["_metrics"]["tokens"] > 0
    assert "debug_probe" not in {event["agent_id"] for event in events}  # expired: reads never return it

    session = report["stats"]["session"]
    assert session["dedup_ratio"] < 1  # repeated previous_outputs were stored once
    assert session["overall_ratio"] < session["dedup_ratio"]  # compression saved more on top
    assert report["cleanup_dry_run"]["deleted_count"] == 1
    assert report["recalled"] and "deduplication" in report["recalled"][0]["content"]

    exported = MemoryLogger.load_from_file(report["export"])
    exported_runs = {event["run_id"] for event in exported["events"] if event.get("log_type") == "memory"}
    assert exported_runs == {report["runs"][0]}  # the stored memories are in the export


def test_demo_prints_the_trace_as_a_tree_and_the_export_path() -> None:
    code, text = run("demo", "--runs", "2")
    assert code == 0
    assert "├─ [2] fork_research  fork.start" in text
    assert "│  ├─ [3] " in text and "│  └─ [3] " in text  # the branches hang under the fork
    assert "this session: after dedup" in text
    export = Path(text.split("Export: ", 1)[1].splitlines()[0])
    assert export.is_file() and export.stat().st_size > 0


def test_the_installed_console_script_runs_the_demo(orka_memory_env: Path) -> None:
    script = Path(sys.executable).with_name("orka-memory")
    result = subprocess.run([script, "demo"], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "Trace of demo-" in result.stdout
    assert (orka_memory_env / "store.db").exists()


# -- reading -------------------------------------------------------------------------------------------------------


def test_tail_prints_the_newest_events_oldest_first() -> None:
    log_events(5)
    events = run_json("tail", "-n", "2")
    assert [event["step"] for event in events] == [3, 4]
    code, text = run("tail", "-n", "2")
    assert code == 0
    assert text.index("agent_3") < text.index("agent_4") and "agent_2" not in text


def test_global_options_work_before_and_after_the_command() -> None:
    log_events(1)
    code, text = run("--json", "tail", "-n", "1")
    assert code == 0 and json.loads(text)[0]["agent_id"] == "agent_0"


def test_tail_follow_prints_events_logged_while_it_runs() -> None:
    log_events(1)
    out = io.StringIO()
    follower = threading.Thread(
        target=main,
        args=(["tail", "-n", "1", "-f", "--interval", "0.05", "--max-polls", "60", "--json"],),
        kwargs={"out": out},
    )
    follower.start()
    deadline = time.monotonic() + 30  # the late event is logged once the follower has printed the first one
    while not out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    with create_memory_logger() as memory:
        memory.log("late_agent", "agent.end", {"response": "arrived later"}, run_id="run-1", step=9)
    follower.join(timeout=30)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["agent_id"] for line in lines] == ["agent_0", "late_agent"]


def test_trace_prints_one_run_as_a_tree() -> None:
    log_events(2, run_id="wanted")
    log_events(1, run_id="other")
    code, text = run("trace", "wanted")
    assert code == 0
    assert "run wanted: 2 events" in text and "├─ [0] agent_0" in text and "└─ [1] agent_1" in text
    assert [event["run_id"] for event in run_json("trace", "wanted")] == ["wanted", "wanted"]


def test_trace_of_an_unknown_run_fails_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("trace", "missing")
    assert code == 1
    assert "no events for run 'missing'" in capsys.readouterr().err


def test_search_finds_stored_memories_by_text() -> None:
    with create_memory_logger() as memory:
        memory.log_memory("Kafka topics hold the event log", node_id="writer", trace_id="r1")
        memory.log_memory("Redis streams are fast", node_id="writer", trace_id="r2")
    hits = run_json("search", "kafka")
    assert hits[0]["content"] == "Kafka topics hold the event log"
    assert [hit["content"] for hit in run_json("search", "kafka", "--mode", "text")] == [hits[0]["content"]]
    assert run_json("search", "streams", "--run", "r1", "--mode", "text") == []
    assert {hit["trace_id"] for hit in run_json("search", "streams", "--run", "r1")} <= {"r1"}


def test_stats_counts_what_was_logged() -> None:
    log_events(4)
    stats = run_json("stats")
    assert stats["total_events"] == 4 and stats["backend"] == "file"


def test_watch_prints_stats_repeatedly() -> None:
    log_events(1)
    code, text = run("watch", "--iterations", "2", "--interval", "0.01", "--json")
    assert code == 0
    assert [json.loads(line)["total_events"] for line in text.splitlines()] == [1, 1]


# -- cleanup, export, import ---------------------------------------------------------------------------------------


def test_cleanup_dry_run_reports_and_cleanup_removes() -> None:
    log_events(2)
    log_events(3, run_id="short", agent_decay_config={"enabled": True, "short_term_hours": 0.00001})
    time.sleep(0.1)
    dry = run_json("cleanup", "--dry-run")
    assert (dry["dry_run"], dry["events"]) == (True, 3)
    assert run_json("stats")["expired_entries"] == 3  # nothing removed yet
    code, text = run("cleanup")
    assert code == 0 and "removed 3 expired entries" in text
    assert run_json("stats")["expired_entries"] == 0
    assert len(run_json("trace", "run-1")) == 2


@pytest.mark.parametrize("name", ["export.json", "export.jsonl", "export.jsonl.zst"])
def test_export_then_import_into_another_store_keeps_every_record(
    name: str, orka_memory_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_events(3)
    target = orka_memory_env / name
    result = run_json("export", str(target))
    assert result["path"] == str(target) and result["bytes"] == target.stat().st_size
    original = run_json("trace", "run-1")

    monkeypatch.setenv("ORKA_MEMORY_FILE__PATH", str(orka_memory_env / "imported.db"))
    assert run_json("import", str(target))["records"] == 3
    copied = run_json("trace", "run-1")
    assert [(e["id"], e["payload"]) for e in copied] == [(e["id"], e["payload"]) for e in original]


def test_import_of_a_missing_file_fails_clearly(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("import", "nowhere.json")
    assert code == 2
    assert "nowhere.json is not a file" in capsys.readouterr().err


def test_import_of_a_file_that_is_not_an_export_fails_and_keeps_the_store(
    orka_memory_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_events(2)
    bad = orka_memory_env / "bad.json"
    bad.write_text('{"not": "an export"}')
    code, _ = run("import", str(bad))
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("orka-memory: error:") and "Traceback" not in err
    assert run_json("stats")["total_events"] == 2


# -- plugins and config --------------------------------------------------------------------------------------------


def test_plugins_lists_versions_registrations_capabilities_and_health() -> None:
    report = run_json("plugins")
    by_name = {plugin["name"]: plugin for plugin in report["plugins"]}
    assert by_name["file"]["distribution"] == "orka-memory-file" and by_name["file"]["version"]
    assert by_name["file"]["registered"] == ["backend:file"]
    assert "codec:zstd" in by_name["orka_memory.codecs"]["registered"]
    file_backend = next(backend for backend in report["backends"] if backend["name"] == "file")
    assert file_backend["health"] == "ok" and file_backend["detail"].endswith("store.db")
    assert "text_search" in file_backend["capabilities"]


def test_plugins_reports_an_unusable_backend_as_unavailable(
    orka_memory_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = orka_memory_env / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("ORKA_MEMORY_FILE__PATH", str(blocker / "store.db"))  # a folder that cannot exist
    report = run_json("plugins")
    file_backend = next(backend for backend in report["backends"] if backend["name"] == "file")
    assert file_backend["health"] == "unavailable" and "a-file" in file_backend["detail"]


def test_config_shows_each_value_with_its_source(orka_memory_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (orka_memory_env / "orka-memory.toml").write_text("queue_size = 77\n[file]\nsynchronous = 'NORMAL'\n")
    monkeypatch.setenv("ORKA_MEMORY_BATCH_SIZE", "33")
    config = run_json("config")
    assert config["queue_size"]["value"] == 77 and "orka-memory.toml" in config["queue_size"]["source"]
    assert config["file.synchronous"]["value"] == "NORMAL"
    assert config["batch_size"] == {"value": 33, "source": "environment ORKA_MEMORY_BATCH_SIZE"}
    assert config["codec"]["source"] == "default"


def test_an_invalid_setting_fails_with_its_key_and_source_and_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ORKA_MEMORY_QUEUE_SIZE", "0")
    code, _ = run("stats")
    err = capsys.readouterr().err
    assert code == 2
    assert "queue_size" in err and "ORKA_MEMORY_QUEUE_SIZE" in err and "Traceback" not in err


def test_an_unknown_backend_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run("--backend", "cassandra", "stats")
    assert code == 2
    assert "unknown backend 'cassandra'" in capsys.readouterr().err


def test_bad_arguments_are_rejected_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["tail", "-n", "0"])
    assert exit_info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_every_command_is_documented_in_the_readme() -> None:
    from orka_memory.cli.app import build_parser

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    subcommands = next(action for action in build_parser()._actions if action.dest == "command")
    for name in subcommands.choices:  # type: ignore[union-attr]
        assert f"| `{name}" in readme or f"`{name} PATH`" in readme, f"README's command table lacks {name}"
