"""The benchmark runner: every installed backend next to its raw client and the core ceiling, in one run.

``make bench`` (or ``python benchmarks/run.py``) starts the servers it needs on loopback ports, runs the seeded
workload (``workload.py``) through every target (``*_target.py``) with the same measurements (``measure.py``), prints
the table and the goals (``report.py``), and writes ``benchmarks/results.json`` and ``benchmarks/results.png``.
What each number means: ``benchmarks/README.md``.

    python benchmarks/run.py --only file,redis --events 20000 --repeat 3 --scale 10000 100000 1000000

The core ceiling is always measured, on its own and beside every backend in the same repeats: it is what every
backend's throughput is compared with. Where the time of one event goes, stage by stage: ``python
benchmarks/stages.py``; thread by thread in a real run: ``python benchmarks/sampling.py``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orka_memory
from chart import draw
from cputime import cores
from measure import TargetResult, measure_target
from orka_memory.allocator import keep_freed_memory
from orka_memory.settings import resolve_settings
from registry import FAMILIES, TARGETS, families
from report import Row, Section, goals, render, render_goals, results_json, target_section
from workload import make_workloads

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per workload and run (default 20000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of every write measurement (default 3)")
    parser.add_argument("--threads", type=int, default=8, help="calling threads of the threaded runs (default 8)")
    parser.add_argument("--scale", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="store sizes the reads are measured at (default 10000 100000 1000000; kafka's up to "
                             "100000)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="seed of the workload (default 1)")
    parser.add_argument("--only", type=families, default=FAMILIES,
                        help=f"comma-separated backends to measure, of {','.join(FAMILIES)} (default all)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=HERE / "results.json", help="where to write the results")
    parser.add_argument("--chart", type=Path, default=HERE / "results.png", help="where to draw the chart")
    parser.add_argument("--redis-url", help="a Redis server to measure on; default: start one on a free port")
    parser.add_argument("--kafka-bootstrap", help="a Kafka cluster to measure on; default: start a Tansu broker")
    parser.add_argument("--memories", type=int, nargs="+", default=[10_000, 100_000],
                        help="stored memories the searches are measured at (default 10000 100000); redisstack's "
                             "log_memory() throughput at the smallest")  # fmt: skip
    return parser.parse_args(argv)


def note(name: str, reason: str) -> None:
    print(f"note: {name} skipped: {reason}", flush=True)


def progress(message: str) -> None:
    """Progress goes to stderr, so stdout holds the notes and the table only."""
    print(message, file=sys.stderr, flush=True)


# -- contributed sections -------------------------------------------------------------------------------------------
# Redis Stack: benchmarks/redisstack_bench.py (written with the redisstack backend) measures its backend itself and
# contributes rows here. Its contract: ``redisstack_section(args) -> (rows, results)``, ``args`` being this runner's
# arguments (events, repeat, threads, scale, seed, redis_url, ...; ``workload.make_workloads`` builds the same
# workload), ``rows`` sequences of 4 or 5 strings (``report.Row``: measure, orka-memory, raw client, ratio, of core
# ceiling) and ``results`` anything JSON-able (or None) for results.json. It prints its own one-line note and returns
# no rows when its server or backend is unavailable.


def redisstack_section(args: argparse.Namespace) -> tuple[Section | None, Any]:
    try:
        import redisstack_bench  # type: ignore[import-not-found,unused-ignore]
    except ImportError as error:
        missing = isinstance(error, ModuleNotFoundError) and error.name == "redisstack_bench"
        note("redisstack", "benchmarks/redisstack_bench.py is not there" if missing else f"it does not import: {error}")
        return None, None
    rows, results = redisstack_bench.redisstack_section(args)
    title = "redisstack: measured by benchmarks/redisstack_bench.py"
    return (Section(title, [Row(*row) for row in rows]) if rows else None), results


# -- the run --------------------------------------------------------------------------------------------------------


def measure_all(args: argparse.Namespace) -> list[TargetResult]:
    """Every selected target that can run here, the core first (the others are compared with it)."""
    workloads = make_workloads(args.events, seed=args.seed)
    # The workloads are tens of thousands of dicts kept alive for the whole run: without freezing them every full
    # collection would walk them and add pauses of tens of ms to whatever is being measured at that moment.
    gc.freeze()
    batch = resolve_settings({}).settings.batch_size  # the writer's batch: the raw clients commit as often
    results = []
    [core] = TARGETS["core"](args)
    for family in ("core", *(name for name in TARGETS if name in args.only)):
        for target in [core] if family == "core" else TARGETS[family](args):
            reason = target.unavailable()
            if reason is not None:
                note(target.name, reason)
                continue
            progress(f"measuring {target.name} ...")
            result = measure_target(target, workloads, repeat=args.repeat, threads=args.threads, batch=batch,
                                    scales=args.scale, memories=args.memories, seed=args.seed,
                                    ceiling=None if target is core else core)  # fmt: skip
            progress(f"measured {target.name} in {result.seconds:.0f} s")
            results.append(result)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    # The first logger would do this for the whole process anyway (settings.malloc_trim_threshold); doing it
    # before anything runs gives every measurement, raw clients included, the same allocator.
    keep_freed_memory(resolve_settings({}).settings.malloc_trim_threshold)
    results = measure_all(args)
    sections = [target_section(result, args.threads) for result in results]
    external: dict[str, Any] = {}
    if "redisstack" in args.only:
        section, external["redisstack"] = redisstack_section(args)
        if section is not None:
            sections.append(section)
    judged = goals(results, cores())
    print(render(sections))
    print()
    print(render_goals(judged))
    sizes = ", ".join(f"{size:,}" for size in sorted(args.scale))
    print(
        f"reads: stores of {sizes} events (each target's sizes as its rows say) were bulk-loaded through each "
        "backend's append(), records encoded once by the core's encoder (encode_batch), not logged"
    )
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "orka_memory": orka_memory.__version__,
        "python": platform.python_version(),
        "machine": platform.platform(),
        "cpus": os.cpu_count(),
        "cores": cores(),  # the CPU bounds' cores: those this process may run on
        "events": args.events,
        "repeat": args.repeat,
        "threads": args.threads,
        "scale": sorted(args.scale),
        "seed": args.seed,
        "seconds": round(time.perf_counter() - began, 1),
    }
    document = results_json(meta, results, judged, external)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=1) + "\n")
    draw(document, args.chart)
    print(f"wrote {args.json} and {args.chart} in {meta['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
