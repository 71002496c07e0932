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
    assert "log()+flush ev/s, 1 thread, 1.7 KB events, against a buffered append, fsync per batch" in table
    assert "tail(100) ms p50 / p99, 1,000 events" in table
    assert "search_memories(10) by vector, namespace + min_importance, 300 memories, ms p50 / p99" in table
    assert "search_memories(10) by vector, no filter, after a deletion, 300 memories, ms p50 / p99" in table
    assert "CPU µs/event, process + engine server, 1 thread, 1.7 KB events" in table
    assert "bytes stored / raw JSON, dedup workload" in table  # the goals
    assert "CPU bound" in table  # SQLite runs in the process: its CPU is always known
    assert "append() alone ev/s, encoded batches, 1 thread, 1.7 KB events" in table
    assert "append() alone " in table.split("goals (")[1]  # the bound from the backend's side, beside the goal

    document = json.loads(results.read_text())
    assert set(document["targets"]) == {"core", "file"}
    file = document["targets"]["file"]
    assert [write["workload"] for write in file["writes"]] == ["plain", "dedup"]
    assert all(write["raw"] and write["footprint"]["engine"] for write in file["writes"])
    assert all(write["other_raw"]["a buffered append, fsync per batch"][0] > 0 for write in file["writes"])
    # the core ceiling is measured beside each backend, in the same repeats, and not beside itself
    assert all(write["ceiling"][0]["rate"] > 0 and write["ceiling_threaded"][0]["rate"] > 0 for write in file["writes"])
    assert not any(write["ceiling"] for write in document["targets"]["core"]["writes"])
    assert all(write["append_alone"][0] > 0 for write in file["writes"])
    assert not any(write["append_alone"] for write in document["targets"]["core"]["writes"])
    assert document["goals"][0]["append_bound"] > 0
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


def test_sampling_groups_py_spy_samples_by_the_thread_they_come_from(monkeypatch: pytest.MonkeyPatch) -> None:
    """py-spy names threads by id, and a later round's threads may reuse an earlier round's ids and names: samples
    are told apart by what each thread runs, and the main thread counts only inside a timed round."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from sampling import profile_threads, render

    raw = [
        "thread (11): MainThread;<module> (sampling.py:9);_log_round (sampling.py:80);log (logger.py:200) 7",
        "thread (11): MainThread;<module> (sampling.py:9);make_workloads (workload.py:95) 50",
        "thread (12): orka-memory-writer-file;_bootstrap (threading.py:1);Writer._encode_loop (writer.py:140);"
        "compress_many (codecs.py:55) 5",
        "thread (12): orka-memory-writer-file;_bootstrap (threading.py:1);Writer._store_loop (writer.py:180);"
        "append (backend.py:600) 3",
        "thread (12): orka-memory-writer-file;_bootstrap (threading.py:1);Writer._store_loop (writer.py:180);"
        "append (backend.py:603) 1",
        "thread (13): orka-memory-writer-file;Thread._bootstrap (threading.py:1);Thread._bootstrap_inner "
        "(threading.py:2);Sender.run (sender.py:5);poll (client.py:10) 2",
    ]
    threads = profile_threads(raw)
    assert {name: profile.samples for name, profile in threads.items()} == {
        "calling thread (log() and flush())": 7,
        "encoder thread (Writer._encode_loop)": 5,
        "storer thread (Writer._store_loop)": 4,
        "thread running Sender.run (sender.py)": 2,  # named by what it runs, not by the reused id's stale name
    }
    assert threads["storer thread (Writer._store_loop)"].functions == {"append (backend.py)": 4}
    table = render(threads, top=3)
    assert table.splitlines()[0] == "calling thread (log() and flush()): 7 samples, 39% of all"
    assert "  100.0%  append (backend.py)" in table
