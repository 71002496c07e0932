"""Smoke test of the benchmark runner: it runs end to end on the file backend with tiny sizes and writes its table,
results.json and results.png. The benchmark itself is never part of the test suite (``make bench`` runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
RUNNER = BENCHMARKS / "run.py"


def test_runner_prints_the_table_and_writes_json_and_chart(tmp_path: Path) -> None:
    results, chart = tmp_path / "results.json", tmp_path / "results.png"
    command = [sys.executable, str(RUNNER), "--events", "200", "--repeat", "1", "--scale", "1000", "--only", "file",
               "--memories", "100", "300", "--json", str(results), "--chart", str(chart)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr

    table = done.stdout
    assert "core: " in table and "file: " in table
    assert "log()+flush ev/s, 1 thread, 1.7 KB events" in table
    assert "tail(100) ms p50 / p99, 1,000 events" in table
    assert "search_memories(10) by vector, namespace + min_importance, 300 memories, ms p50 / p99" in table
    assert "search_memories(10) by vector, no filter, after a deletion, 300 memories, ms p50 / p99" in table
    assert "CPU µs/event, process + engine server, 1 thread, 1.7 KB events" in table
    assert "bytes stored / raw JSON, dedup workload" in table  # the goals
    assert "CPU bound" in table  # SQLite runs in the process: its CPU is always known

    document = json.loads(results.read_text())
    assert set(document["targets"]) == {"core", "file"}
    file = document["targets"]["file"]
    assert [write["workload"] for write in file["writes"]] == ["plain", "dedup"]
    assert all(write["raw"] and write["footprint"]["engine"] for write in file["writes"])
    assert all(write["single"][0]["cpu_us"] > 0 and write["raw_cpu_us"][0] > 0 for write in file["writes"])
    assert [read["size"] for read in file["reads"]] == [1000]
    assert [search["size"] for search in file["searches"]] == [100, 300]
    assert document["meta"]["events"] == 200

    assert chart.read_bytes().startswith(b"\x89PNG")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="server CPU time is read from Linux's /proc")
def test_cpu_clock_counts_the_engine_server_with_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CPU bound of a goal is only as good as this clock: a server's busy half second must show in it."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from cputime import CpuClock, server_seconds

    spin = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\nprint(flush=True)\n"
    with subprocess.Popen([sys.executable, "-c", spin + "time.sleep(60)"], stdout=subprocess.PIPE) as server:
        try:
            clock, alone = CpuClock([server.pid]), CpuClock([])
            before, before_alone = clock(), alone()
            assert server.stdout is not None
            server.stdout.readline()  # the server has spun its half second
            after, after_alone = clock(), alone()
            assert before is not None and after is not None and before_alone is not None and after_alone is not None
            assert (after - before) - (after_alone - before_alone) >= 0.3  # the server's spin, not this process's
        finally:
            server.kill()
    assert server_seconds(server.pid) is None  # gone: unknown, never zero
    assert CpuClock([server.pid])() is None
    assert CpuClock(None)() is None  # an engine elsewhere (--redis-url): no bound rather than a wrong one
