"""The table, the goals and results.json, from the measurements.

Ratios are the headline: a noisy or slower machine moves both sides of a ratio together, absolute numbers it moves
freely. Absolute throughputs print as median (min-max) over ``--repeat`` runs; latencies as p50 / p99 over the
calls of one run (the median of each over repeats for ``log()``).
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from measure import LogRun, ReadResult, SearchLatency, TargetResult, WriteResult
from workload import ratio as median_ratio
from workload import summarize

SPEED_GOAL = 0.7  # log() throughput / the raw client's, for every backend
STORAGE_GOAL = 0.35  # bytes stored / raw JSON on the dedup workload
GOAL_WORKLOAD = "plain"  # throughput goals are judged on the typical event, one calling thread


class Row(NamedTuple):
    """One line of the table (``redisstack_bench`` rows have the first four cells)."""

    measure: str
    ours: str
    raw: str = ""
    ratio: str = ""
    ceiling: str = ""


HEADER = Row("measure", "orka-memory", "raw client", "ratio", "of core ceiling")


@dataclass(slots=True)
class Section:
    title: str
    rows: list[Row]


def _x(value: float) -> str:
    return f"{value:.2f}x"


def _rates(runs: Sequence[LogRun]) -> list[float]:
    return [run.rate for run in runs]


def _cpu(runs: Sequence[LogRun]) -> list[float]:
    """CPU µs per event of the runs whose CPU time could be read (``cputime``)."""
    return [run.cpu_us for run in runs if run.cpu_us is not None]


def _pair(p50: float, p99: float, digits: int) -> str:
    return f"{p50:,.{digits}f} / {p99:,.{digits}f}"


def _bytes(per_event: float | None, raw_json: float) -> str:
    return "" if per_event is None else f"{per_event:,.0f} B = {per_event / raw_json:.2f}x"


# -- rows -----------------------------------------------------------------------------------------------------------


def write_rows(write: WriteResult, threads: int) -> list[Row]:
    """Throughput, log() latency and bytes per event of one workload, with the core ceiling measured beside it
    (none for the core itself)."""
    rows = []
    modes = (("1 thread", write.single, write.ceiling),
             (f"{threads} threads", write.threaded, write.ceiling_threaded))  # fmt: skip
    for mode, runs, ceiling_runs in modes:
        rates = _rates(runs)
        rows.append(Row(
            f"log()+flush ev/s, {mode}, {write.label}",
            summarize(rates),
            summarize(write.raw) if write.raw else "",
            _x(median_ratio(rates, write.raw)) if write.raw else "",
            _x(median_ratio(rates, _rates(ceiling_runs))) if ceiling_runs else "",
        ))  # fmt: skip
    single = _rates(write.single)
    if write.append_alone:
        rows.append(Row(f"append() alone ev/s, encoded batches, 1 thread, {write.label}", summarize(write.append_alone),
                        summarize(write.raw) if write.raw else "",
                        _x(median_ratio(write.append_alone, write.raw)) if write.raw else ""))  # fmt: skip
    for other, rates in write.other_raw.items():
        rows.append(Row(f"log()+flush ev/s, 1 thread, {write.label}, against {other}", summarize(single),
                        summarize(rates), _x(median_ratio(single, rates))))  # fmt: skip
    for mode, runs, _ in modes:
        cpu = _cpu(runs)
        if cpu:
            rows.append(Row(
                f"CPU µs/event, process + engine server, {mode}, {write.label}",
                summarize(cpu, 1),
                summarize(write.raw_cpu_us, 1) if write.raw_cpu_us else "",
                _x(median_ratio(cpu, write.raw_cpu_us)) if write.raw_cpu_us else "",
            ))  # fmt: skip
    for mode, runs, _ in modes:
        p50 = statistics.median(run.p50_us for run in runs)
        p99 = statistics.median(run.p99_us for run in runs)
        rows.append(Row(f"log() call p50 / p99 µs, {mode}, {write.label}", _pair(p50, p99, 1)))
    footprint = write.footprint
    if footprint is not None:
        raw_json = footprint.raw_json
        rows.append(Row(f"bytes/event sent to the engine, {write.label} (JSON {raw_json:,.0f} B)",
                        _bytes(footprint.encoded, raw_json)))  # fmt: skip
        if footprint.engine is not None:
            rows.append(Row(
                f"bytes/event the engine holds, {write.label}",
                _bytes(footprint.engine, raw_json),
                _bytes(footprint.raw_engine, raw_json),
                _x(footprint.engine / footprint.raw_engine) if footprint.raw_engine else "",
            ))  # fmt: skip
    return rows


def read_rows(reads: Sequence[ReadResult]) -> list[Row]:
    """p50 / p99 of each read at each store size, and how the p50 grew from the smallest store to the largest."""
    rows = []
    names = {"tail": "tail(100)", "trace": "trace(500-event run)", "stats": "stats"}
    for read in reads:
        for name, label in names.items():
            ours, raw = read.latency_ms[name], read.raw_ms.get(name)
            rows.append(Row(
                f"{label} ms p50 / p99, {read.size:,} events",
                _pair(*ours, 2),
                _pair(*raw, 2) if raw else "",
                _x(ours[0] / raw[0]) if raw else "",
            ))  # fmt: skip
    if len(reads) > 1:
        rows.append(_growth(reads[0], reads[-1], "events", names))
    return rows


def search_rows(searches: Sequence[SearchLatency]) -> list[Row]:
    """p50 / p99 of each search at each number of stored memories, and how the p50 grew from the fewest to the
    most (an exact search grows with the memories it ranks)."""
    rows = [Row(f"search_memories(10) by vector, {label}, {search.size:,} memories, ms p50 / p99", _pair(*ms, 2))
            for search in searches for label, ms in search.latency_ms.items()]  # fmt: skip
    if len(searches) > 1:
        rows.append(_growth(searches[0], searches[-1], "memories", searches[0].latency_ms))
    return rows


def _growth(first: ReadResult | SearchLatency, last: ReadResult | SearchLatency, what: str,
            names: Iterable[str]) -> Row:  # fmt: skip
    """How the p50 of each of ``names`` grew from the ``first`` store to the ``last``: flat is 1.00x."""
    names = list(names)
    growth = " / ".join(_x(last.latency_ms[name][0] / first.latency_ms[name][0]) for name in names)
    return Row(f"p50 growth {first.size:,} -> {last.size:,} {what}: {' / '.join(names)}", growth)


def target_section(result: TargetResult, threads: int) -> Section:
    rows = [row for write in result.writes for row in write_rows(write, threads)]
    rows.extend(read_rows(result.reads))
    rows.extend(search_rows(result.searches))
    title = f"{result.name}: {result.describe}"
    if result.raw_client:
        title += f"\n  raw client: {result.raw_client}"
    return Section(title, rows)


def render(sections: Sequence[Section]) -> str:
    """The table: aligned columns, each section under its title."""
    indented = [[row._replace(measure="  " + row.measure) for row in section.rows] for section in sections]
    every = [HEADER, *itertools.chain.from_iterable(indented)]
    widths = [max(len(row[column]) for row in every) for column in range(len(HEADER))]

    def line(row: Row) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()

    out = [line(HEADER), "  ".join("-" * width for width in widths)]
    for section, rows in zip(sections, indented, strict=True):
        out.append(section.title)
        out.extend(line(row) for row in rows)
    return "\n".join(out)


# -- goals ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Goal:
    target: str
    what: str
    measured: float
    goal: float
    met: bool
    why: str  # what bounds the measurement, when the goal is missed
    cpu_bound: float | None = None  # the best ratio the CPU it spends allows on this machine's cores (cputime)
    append_bound: float | None = None  # the backend's append() alone, on encoded batches, over the raw client


def goals(results: Sequence[TargetResult], cores: int) -> list[Goal]:
    """The issue's goals, judged on this run: speed on the plain workload from one thread, storage on dedup.

    A speed goal also gets two bounds no better overlapping of the writer's threads can pass: the CPU bound, the
    ratio the backend would reach if its CPU per event (this process and the engine's server) kept all ``cores``
    busy all the time; and the append bound, the ratio of the backend's ``append()`` alone, storing the events
    already encoded with nothing else running (``log()`` stores through it, and cannot store faster).
    """
    judged = []
    for result in results:
        writes = {write.workload: write for write in result.writes}
        speed = writes.get(GOAL_WORKLOAD)
        if speed is not None and speed.raw:
            measured = median_ratio(_rates(speed.single), speed.raw)
            bound = median_ratio(_rates(speed.ceiling), speed.raw) if speed.ceiling else None
            cpu = _cpu(speed.single)
            cpu_bound = cores * 1e6 / statistics.median(cpu) / statistics.median(speed.raw) if cpu else None
            append_bound = median_ratio(speed.append_alone, speed.raw) if speed.append_alone else None
            why = _bounded_by(bound, cpu_bound, append_bound, cpu, cores)
            judged.append(Goal(result.name, "log() throughput / raw client", measured, SPEED_GOAL,
                               measured >= SPEED_GOAL, why, cpu_bound, append_bound))  # fmt: skip
        dedup = writes.get("dedup")
        if dedup is not None and dedup.footprint is not None and result.family != "core":
            held = dedup.footprint.engine if dedup.footprint.engine is not None else dedup.footprint.encoded
            measured = held / dedup.footprint.raw_json
            what = "bytes stored / raw JSON, dedup workload" + (
                "" if dedup.footprint.engine is not None else " (as sent; the engine cannot tell)"
            )
            judged.append(Goal(result.name, what, measured, STORAGE_GOAL, measured <= STORAGE_GOAL, ""))
    return judged


def _bounded_by(ceiling_ratio: float | None, cpu_bound: float | None, append_bound: float | None,
                cpu: Sequence[float], cores: int) -> str:  # fmt: skip
    """Why a speed goal is missed: the CPU it spends, else the backend's append() alone or the core alone (each
    against the same raw client), else both of them sharing the machine's cores."""
    if cpu_bound is not None and cpu_bound < SPEED_GOAL:
        return (f"its {statistics.median(cpu):.0f} µs of CPU per event (with the engine server's) allow at most "
                f"{cpu_bound:.2f}x of this raw client on {cores} cores, every core busy")  # fmt: skip
    if append_bound is not None and append_bound < SPEED_GOAL:
        return f"the backend's append() alone, on encoded batches, reaches only {append_bound:.2f}x of this raw client"
    if ceiling_ratio is not None and ceiling_ratio < SPEED_GOAL:
        return f"the core alone, storing nothing, reaches only {ceiling_ratio:.2f}x of this raw client"
    if ceiling_ratio is None or append_bound is None:
        return ""
    return (f"the core alone reaches {ceiling_ratio:.2f}x and the backend's append() alone {append_bound:.2f}x; "
            f"log() runs both at once on {cores} cores")  # fmt: skip


def render_goals(judged: Sequence[Goal]) -> str:
    lines = ["goals (throughput: 1 calling thread, 1.7 KB events; storage: dedup workload):"]
    width = max((len(goal.target) for goal in judged), default=0)
    for goal in judged:
        sign = ">=" if goal.what.startswith("log()") else "<="
        verdict = "met" if goal.met else f"NOT met{': ' + goal.why if goal.why else ''}"
        bound = "" if goal.cpu_bound is None else f", CPU bound {goal.cpu_bound:.2f}x"
        bound += "" if goal.append_bound is None else f", append() alone {goal.append_bound:.2f}x"
        lines.append(f"  {goal.target.ljust(width)}  {goal.what}: {goal.measured:.2f}x (goal {sign} {goal.goal:.2f}x"
                     f"{bound})  {verdict}")  # fmt: skip
    return "\n".join(lines)


# -- results.json ---------------------------------------------------------------------------------------------------


def results_json(
    meta: dict[str, Any], results: Sequence[TargetResult], judged: Sequence[Goal], external: dict[str, Any]
) -> dict[str, Any]:
    """Everything measured, per repeat, for charts and for comparing runs; ``external`` holds sections other
    modules contributed (``redisstack``)."""
    return {
        "meta": meta,
        "targets": {result.name: dataclasses.asdict(result) for result in results},
        "goals": [dataclasses.asdict(goal) for goal in judged],
        **external,
    }
