"""Smoke test of the benchmark runner: it runs end to end on the file backend with tiny sizes and writes its table,
results.json and results.png. The benchmark itself is never part of the test suite (``make bench`` runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUNNER = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


def test_runner_prints_the_table_and_writes_json_and_chart(tmp_path: Path) -> None:
    results, chart = tmp_path / "results.json", tmp_path / "results.png"
    command = [sys.executable, str(RUNNER), "--events", "200", "--repeat", "1", "--scale", "1000", "--only", "file",
               "--json", str(results), "--chart", str(chart)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr

    table = done.stdout
    assert "core: " in table and "file: " in table
    assert "log()+flush ev/s, 1 thread, 1.7 KB events" in table
    assert "tail(100) ms p50 / p99, 1,000 events" in table
    assert "bytes stored / raw JSON, dedup workload" in table  # the goals

    document = json.loads(results.read_text())
    assert set(document["targets"]) == {"core", "file"}
    file = document["targets"]["file"]
    assert [write["workload"] for write in file["writes"]] == ["plain", "dedup"]
    assert all(write["raw"] and write["footprint"]["engine"] for write in file["writes"])
    assert [read["size"] for read in file["reads"]] == [1000]
    assert document["meta"]["events"] == 200

    assert chart.read_bytes().startswith(b"\x89PNG")
