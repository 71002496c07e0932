"""The commands of ``orka-memory``: each takes the parsed arguments and a ``Console``, and returns an exit code.

Commands print data through ``Console.emit(data, text)``: JSON with ``--json``, the text otherwise. Anything a user
can get wrong raises ``CommandError`` (or a library error the app turns into one line on stderr).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from orka_memory.backend import Backend
from orka_memory.cli import render
from orka_memory.cli.demo import DemoWorkflow, wait_for_probe_expiry
from orka_memory.factory import FALLBACK_BACKEND, create_memory_logger
from orka_memory.logger import MemoryLogger
from orka_memory.plugins import get_plugin_manager
from orka_memory.settings import ResolvedSettings, resolve_settings

JSONL_SUFFIXES = (".jsonl", ".jsonl.zst")
FOLLOW_WINDOW = 500


class CommandError(Exception):
    """A mistake the user can fix; printed as one line, exit status ``code``."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class Console:
    """Where commands print: data as JSON with ``--json``, text otherwise."""

    def __init__(self, args: argparse.Namespace, out: TextIO | None = None) -> None:
        self.args = args
        self.out = out or sys.stdout

    @property
    def json(self) -> bool:
        return bool(self.args.json)

    def emit(self, data: Any, text: str) -> None:
        self.print(render.to_json(data) if self.json else text)

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def settings(self, **overrides: Any) -> ResolvedSettings:
        if self.args.backend:
            overrides["backend"] = self.args.backend
        return resolve_settings(overrides, config_file=self.args.config)

    @contextmanager
    def logger(self, backend: str | None = None, **settings: Any) -> Iterator[MemoryLogger]:
        with create_memory_logger(backend or self.args.backend, config_file=self.args.config, **settings) as memory:
            yield memory


# -- commands ----------------------------------------------------------------------------------------------------


def demo(args: argparse.Namespace, console: Console) -> int:
    """Run the demo workflow, then show its trace, the stats, what cleanup would remove, and an export."""
    backend = args.backend or console.settings().settings.backend or FALLBACK_BACKEND
    with console.logger(backend) as memory:
        workflow = DemoWorkflow(memory, seed=args.seed)
        runs = [workflow.run() for _ in range(args.runs)]
        memory.flush()
        wait_for_probe_expiry()
        last = runs[-1]
        events = memory.trace(last.run_id)
        stats = memory.get_memory_stats()
        cleanup = memory.cleanup_expired_memories(dry_run=True)
        export_path = Path(args.export or Path(".orka-memory") / "exports" / f"{last.run_id}.json")
        export_path.parent.mkdir(parents=True, exist_ok=True)
        memory.save_to_file(export_path)
        data = {
            "runs": [run.run_id for run in runs],
            "trace": events,
            "recalled": last.recalled,
            "stats": stats,
            "cleanup_dry_run": cleanup,
            "export": str(export_path.resolve()),
        }
        text = "\n".join(
            [
                f"Logged {len(runs)} run(s) of a planner -> fork(3 agents) -> join -> synthesizer workflow "
                f"on {memory.backend.name} at {memory.backend.describe()}.",
                "",
                f"Trace of {last.run_id}:",
                *render.trace_tree(events),
                "",
                f"Memories recalled for 'deduplication': {len(last.recalled)}",
                *(f"  {hit['similarity_score']:.2f}  {render.preview(hit['content'])}" for hit in last.recalled),
                "",
                render.stats_text(stats),
                "",
                f"cleanup --dry-run: {_cleanup_summary(cleanup)}",
                f"Export: {export_path.resolve()}",
                f"Next: orka-memory trace {last.run_id}   |   orka-memory stats   |   orka-memory search 'kafka'",
            ]
        )
        console.emit(data, text)
    return 0


def tail(args: argparse.Namespace, console: Console) -> int:
    """Print the newest events, oldest first; with ``--follow``, keep printing new ones as they arrive."""
    with console.logger() as memory:
        events = memory.tail(args.count)
        if args.follow:
            _print_events(console, events, stream=True)
            _follow(memory, console, events[-1]["id"] if events else "", args.interval, args.max_polls)
        else:
            console.emit(events, "\n".join(render.event_line(event) for event in events) or "(no events)")
    return 0


def _follow(memory: MemoryLogger, console: Console, last_id: str, interval: float, max_polls: int | None) -> None:
    polls = 0
    while max_polls is None or polls < max_polls:
        time.sleep(interval)
        polls += 1
        fresh = [event for event in memory.tail(FOLLOW_WINDOW) if event["id"] > last_id]
        if fresh:
            _print_events(console, fresh, stream=True)
            last_id = fresh[-1]["id"]


def _print_events(console: Console, events: list[dict[str, Any]], *, stream: bool) -> None:
    """Followed events print one per line: a JSON document per line (JSON Lines) with ``--json``."""
    for event in events:
        console.print(render.to_json_line(event) if console.json and stream else render.event_line(event))


def trace(args: argparse.Namespace, console: Console) -> int:
    """Print one run's events as a tree: steps in order, a fork's branches under the fork node."""
    with console.logger() as memory:
        events = memory.trace(args.run_id)
    if not events:
        raise CommandError(f"no events for run {args.run_id!r}; `orka-memory tail` shows recent runs", code=1)
    console.emit(events, "\n".join([f"run {args.run_id}: {len(events)} events", *render.trace_tree(events)]))
    return 0


def search(args: argparse.Namespace, console: Console) -> int:
    """Print stored memories matching a text query, best first."""
    with console.logger(search_mode=args.mode) as memory:
        hits = memory.search_memories(
            args.query, num_results=args.count, trace_id=args.run, node_id=args.agent, namespace=args.namespace
        )
    rows = [
        (f"{hit['similarity_score']:.2f}", hit["node_id"], hit["trace_id"] or "-", render.preview(hit["content"]))
        for hit in hits
    ]
    console.emit(hits, render.table(rows, ("score", "node", "run", "content")) if hits else "(no matching memories)")
    return 0


def stats(args: argparse.Namespace, console: Console) -> int:
    with console.logger() as memory:
        data = memory.get_memory_stats()
    console.emit(data, render.stats_text(data))
    return 0


def watch(args: argparse.Namespace, console: Console) -> int:
    """Print the stats every ``--interval`` seconds (``--iterations`` times, or until interrupted)."""
    with console.logger() as memory:
        shown = 0
        while args.iterations is None or shown < args.iterations:
            if shown:
                time.sleep(args.interval)
            data = memory.get_memory_stats()
            if console.json:
                console.print(render.to_json_line(data))
            else:
                console.print(f"{time.strftime('%H:%M:%S')}\n{render.stats_text(data)}\n")
            shown += 1
    return 0


def cleanup(args: argparse.Namespace, console: Console) -> int:
    with console.logger() as memory:
        report = memory.cleanup_expired_memories(dry_run=args.dry_run)
    console.emit(report, _cleanup_summary(report))
    return 0


def _cleanup_summary(report: dict[str, Any]) -> str:
    verb = "would remove" if report["dry_run"] else "removed"
    return (
        f"{verb} {report['deleted_count']} expired entries: {report['events']} events, {report['memories']} "
        f"memories, {report['blobs']} blobs, {report['kv_keys']} kv keys"
    )


def export(args: argparse.Namespace, console: Console) -> int:
    """Write every live record: ``.jsonl``/``.jsonl.zst`` stream one document per line, else OrKa's envelope."""
    path = Path(args.path)
    if path.is_dir():
        raise CommandError(f"{path} is a directory; give a file name such as {path / 'memory.json'}")
    with console.logger() as memory:
        if path.name.endswith(JSONL_SUFFIXES):
            records: int | None = memory.export_jsonl(path)
            kind = "jsonl"
        else:
            memory.save_to_file(path)
            records, kind = None, "envelope"
    size = path.stat().st_size
    data = {"path": str(path.resolve()), "format": kind, "records": records, "bytes": size}
    counted = f"{records} records, " if records is not None else ""
    console.emit(data, f"exported {counted}{render.human_bytes(size)} to {data['path']}")
    return 0


def import_(args: argparse.Namespace, console: Console) -> int:
    path = Path(args.path)
    if not path.is_file():
        raise CommandError(f"{path} is not a file; give the path of an export (.json, .jsonl or .jsonl.zst)")
    with console.logger() as memory:
        count = memory.import_file(path)
    console.emit({"path": str(path.resolve()), "records": count}, f"imported {count} records from {path}")
    return 0


def plugins(args: argparse.Namespace, console: Console) -> int:
    """Installed plugins with their versions and what they registered; backends with capabilities and health."""
    manager = get_plugin_manager()
    registered = {info.name: [] if info.error else manager.registered_by(info.name) for info in manager.plugins}
    installed = [
        {
            "name": info.name,
            "distribution": info.distribution,
            "version": info.version,
            "registered": registered[info.name],
            "error": info.error,
        }
        for info in manager.plugins
    ]
    settings = console.settings().settings
    backends = [
        {"name": name, "capabilities": sorted(cls.capabilities), **_health(cls, getattr(settings, name))}
        for name, cls in sorted(manager.backends().items())
    ]
    plugin_rows = [
        (info.name, info.distribution or "-", info.version or "-", info.error or ", ".join(registered[info.name]))
        for info in manager.plugins
    ]
    backend_rows = [(b["name"], b["health"], b["detail"], ", ".join(b["capabilities"])) for b in backends]
    text = "\n\n".join(
        [
            render.table(plugin_rows, ("plugin", "distribution", "version", "registered")),
            render.table(backend_rows, ("backend", "health", "where / why", "capabilities")),
        ]
    )
    console.emit({"plugins": installed, "backends": backends}, text)
    return 0


def _health(cls: type[Backend], section: Any) -> dict[str, str]:
    """Open the backend with its settings, ping it and close it again: ``ok`` and where, or why not."""
    try:
        backend = cls.open(section)
    except Exception as error:  # health reports any failure instead of stopping the listing
        return {"health": "unavailable", "detail": f"{type(error).__name__}: {error}"}
    try:
        backend.ping()
        return {"health": "ok", "detail": backend.describe()}
    except Exception as error:
        return {"health": "unavailable", "detail": f"{type(error).__name__}: {error}"}
    finally:
        backend.close()


def config(args: argparse.Namespace, console: Console) -> int:
    """Every resolved setting with the source it came from; secrets masked."""
    resolved = console.settings()
    items = list(resolved.items())
    data = {key: {"value": value, "source": source} for key, value, source in items}
    console.emit(data, render.settings_table(items))
    return 0
