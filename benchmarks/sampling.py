"""Where the time of a logging run goes, sampled by py-spy: for each of the logger's threads, its busiest functions.

``stages.py`` times each stage of one event alone; this samples the real thing, the calling thread, the encoder and
the storer sharing the GIL and the cores as they do in the table's throughput rows. It runs the workload (1.7 KB
events, one calling thread, a fresh store each round) under ``py-spy record --threads``, keeps the calling thread's
samples taken inside ``log()`` and ``flush()`` and every sample of the writer's threads, and prints, per thread,
the share of the samples each function was running itself (py-spy skips a thread that is idle: waiting on a lock,
a socket or a sleep).

    python benchmarks/sampling.py --target file [--events 20000] [--rounds 4] [--rate 250] [--top 12]

Needs py-spy (``requirements-dev.txt``) and the right to trace a process (root, or ``kernel.yama.ptrace_scope`` 0).
Threads that run no Python (librdkafka's, a server's) are not sampled: ``run.py``'s CPU rows count them.
"""

from __future__ import annotations

import argparse
import collections
import gc
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from measure import warm_up
from orka_memory.logger import MemoryLogger
from registry import TARGETS
from target import Target
from workload import Event, make_workloads

# Which thread a sample is from, by the frames that thread runs (py-spy names threads by id, and a round's threads may
# take the ids, and so the names, of an earlier round's): the first of these found names the thread. Another Python
# thread (a client library's network thread) goes by the function it was started with; the main thread outside a
# timed round (setup, the workload) is left out.
ROLES = (
    ("Writer._encode_loop (", "encoder thread (Writer._encode_loop)"),
    ("Writer._store_loop (", "storer thread (Writer._store_loop)"),
    ("_log_round (", "calling thread (log() and flush())"),
)
_THREAD = re.compile(r"thread \((?:0x)?[0-9a-fA-F]+\): (?P<name>.+)")
_BOOTSTRAP = ("Thread._bootstrap (", "Thread._bootstrap_inner (", "Thread.run (")  # threading's frames above a target
_LINE = re.compile(r":\d+\)$")  # the line number in "function (file:line)": samples are grouped by function


@dataclass
class ThreadProfile:
    """The samples of one thread (of every round)."""

    name: str
    samples: int = 0
    functions: collections.Counter[str] = field(default_factory=collections.Counter)  # function -> samples at the top


def thread_of(frames: Sequence[str]) -> str | None:
    """The thread a sample's frames (thread first, then outermost to innermost) belong to; None: not counted."""
    for prefix, role in ROLES:
        if any(frame.startswith(prefix) for frame in frames):
            return role
    matched = _THREAD.fullmatch(frames[0])
    if matched is None or matched["name"] == "MainThread":
        return None
    started = [frame for frame in frames[1:] if not frame.startswith(_BOOTSTRAP)]
    return f"thread running {_LINE.sub(')', started[0])}" if started else matched["name"]


def profile_threads(lines: Iterable[str]) -> dict[str, ThreadProfile]:
    """Group py-spy's raw output (``frame;frame;... count`` per line, the thread first) by thread."""
    threads: dict[str, ThreadProfile] = {}
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        frames = stack.split(";")
        name = thread_of(frames) if count.isdigit() and len(frames) > 1 else None
        if name is None:
            continue
        profile = threads.setdefault(name, ThreadProfile(name))
        profile.samples += int(count)
        profile.functions[_LINE.sub(")", frames[-1])] += int(count)
    return threads


def render(threads: dict[str, ThreadProfile], top: int) -> str:
    total = sum(profile.samples for profile in threads.values()) or 1
    lines = []
    for profile in sorted(threads.values(), key=lambda p: -p.samples):
        lines.append(f"{profile.name}: {profile.samples:,} samples, {profile.samples / total:.0%} of all")
        for function, samples in profile.functions.most_common(top):
            lines.append(f"  {samples / profile.samples:6.1%}  {function}")
    return "\n".join(lines)


# -- the run py-spy samples (this module again, with --sampled) -----------------------------------------------------


def _log_round(memory: MemoryLogger, events: Sequence[Event]) -> None:
    for event in events:
        memory.log(event.agent_id, event.event_type, event.payload, step=event.step, run_id=event.run_id)
    memory.flush()


def sampled_run(target: Target, events: Sequence[Event], rounds: int) -> None:
    gc.freeze()  # as run.py does: the workload is not the garbage collector's to walk
    with target.running():
        for _ in range(rounds):
            with target.store() as memory:
                warm_up(memory)
                _log_round(memory, events)


def _target(name: str, args: argparse.Namespace) -> Target:
    targets = {target.name: target for family in TARGETS.values() for target in family(args)}
    if name not in targets:
        raise SystemExit(f"unknown target {name!r}; choose from {', '.join(sorted(targets))}")
    target = targets[name]
    reason = target.unavailable()
    if reason is not None:
        raise SystemExit(f"{name} cannot run here: {reason}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--target", default="file", help="core, file, redis, kafka/kafka-python, kafka/confluent")
    parser.add_argument("--events", type=int, default=20_000, help="events per round (default 20000)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds, each on a fresh store (default 4)")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second (default 250)")
    parser.add_argument("--top", type=int, default=12, help="functions shown per thread (default 12)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sampled", action="store_true", help=argparse.SUPPRESS)  # the run under py-spy
    parser.add_argument("--redis-url")
    parser.add_argument("--kafka-bootstrap")
    args = parser.parse_args(argv)
    target = _target(args.target, args)
    if args.sampled:
        sampled_run(target, make_workloads(args.events, seed=args.seed)[0].events, args.rounds)
        return 0
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: pip install py-spy (it is in requirements-dev.txt)")
    with tempfile.TemporaryDirectory(prefix="orka-profile-") as folder:
        raw = Path(folder) / "samples.txt"
        given = argv if argv is not None else sys.argv[1:]
        command = [py_spy, "record", "--threads", "--format", "raw", "--rate", str(args.rate), "--output", str(raw),
                   "--", sys.executable, __file__, "--sampled", *given]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not raw.exists():
            raise SystemExit(f"py-spy failed ({done.returncode}):\n{done.stderr[-2000:]}")
        threads = profile_threads(raw.read_text().splitlines())
    print(f"{args.target}: {args.rounds} rounds of {args.events:,} 1.7 KB events from one calling thread, "
          f"py-spy at {args.rate} samples/s; share of each thread's samples a function was running itself")  # fmt: skip
    print(render(threads, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
