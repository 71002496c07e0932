"""results.png: the write throughput of every backend beside its raw client, its append() alone and the core
ceiling, and how read latency grows with the store. Drawn from the results.json dict, so an old results file can be
re-plotted."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: write files only

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

READS = {"tail": "tail(100)", "trace": "trace(500)", "stats": "stats"}
READ_STYLES = ("o-", "s--", "^:")


def _median_rate(runs: list[dict[str, float]]) -> float:
    return statistics.median(run["rate"] for run in runs)


def _throughput(axes: Axes, results: dict[str, Any], workload: str) -> None:
    """Grouped bars per backend: orka-memory from 1 and N threads, its append() alone, the raw client; the core
    ceiling as a line."""
    threads = results["meta"]["threads"]
    bars: dict[str, list[float]] = {"orka-memory, 1 thread": [], f"orka-memory, {threads} threads": [],
                                    "append() alone": [], "raw client": []}  # fmt: skip
    names, ceiling, label = [], None, workload
    for name, target in results["targets"].items():
        write = next((w for w in target["writes"] if w["workload"] == workload), None)
        if write is None:
            continue
        label = write["label"]
        if target["family"] == "core":
            ceiling = _median_rate(write["single"])
            continue
        names.append(name)
        alone = write.get("append_alone")  # absent from results files written before it was measured
        values = [_median_rate(write["single"]), _median_rate(write["threaded"]),
                  statistics.median(alone) if alone else 0.0,
                  statistics.median(write["raw"]) if write["raw"] else 0.0]  # fmt: skip
        for series, value in zip(bars.values(), values, strict=True):
            series.append(value)
    width = 0.8 / len(bars)
    raw = bars["raw client"]
    for index, (series_name, values) in enumerate(bars.items()):
        drawn = axes.bar([i + index * width for i in range(len(names))], values, width, label=series_name)
        if series_name != "raw client":  # the headline: each bar's ratio to its raw client
            labels = [
                f"{value / limit:.2f}x" if limit and value else "" for value, limit in zip(values, raw, strict=True)
            ]
            axes.bar_label(drawn, labels, fontsize=7)
    if ceiling is not None:
        axes.axhline(ceiling, color="black", linestyle="--", linewidth=1, label="core ceiling (1 thread)")
    axes.set_xticks([i + width * (len(bars) - 1) / 2 for i in range(len(names))], names, fontsize=8)  # centred
    axes.set_ylabel("events/s to durability")
    axes.set_title(f"log() + flush: {label}", fontsize=10)
    axes.legend(fontsize=7)


def _reads(axes: Axes, results: dict[str, Any]) -> None:
    """p50 of each read against the store size: one colour per backend, one line style per read. Flat lines are
    the goal; backends measured at one size only show as points."""
    with_reads = [(name, target["reads"]) for name, target in results["targets"].items() if target["reads"]]
    for index, (name, reads) in enumerate(with_reads):
        sizes = [read["size"] for read in reads]
        for (key, label), style in zip(READS.items(), READ_STYLES, strict=True):
            axes.plot(sizes, [read["latency_ms"][key][0] for read in reads], style, color=f"C{index}",
                      label=f"{name} {label}")  # fmt: skip
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("events in the store")
    axes.set_ylabel("p50 ms")
    axes.set_title("read latency as the store grows", fontsize=10)
    axes.legend(fontsize=6, ncol=2)


def draw(results: dict[str, Any], path: Path) -> None:
    figure, (plain, dedup, reads) = plt.subplots(1, 3, figsize=(18, 5.5))
    _throughput(plain, results, "plain")
    _throughput(dedup, results, "dedup")
    _reads(reads, results)
    meta = results["meta"]
    figure.suptitle(f"orka-memory benchmarks: {meta['events']:,} events, median over {meta['repeat']} runs, "
                    f"{meta['cpus']} CPUs", fontsize=11)  # fmt: skip
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
