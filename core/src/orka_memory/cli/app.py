"""The ``orka-memory`` argument parser and entry point.

Errors a user can fix (bad settings, an unreachable or missing backend, a wrong path) print one line,
``orka-memory: error: ...``, and exit with status 2 (1 when something asked for does not exist); never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from orka_memory.backend import BackendError
from orka_memory.cli import commands
from orka_memory.cli.commands import CommandError, Console
from orka_memory.settings import ConfigurationError
from orka_memory.version import __version__

PROG = "orka-memory"
# Library errors that describe a user's mistake or an unreachable store: shown as one line.
USER_ERRORS = (ConfigurationError, BackendError, ConnectionError, ImportError, OSError, ValueError)

Handler = Callable[[argparse.Namespace, Console], int]


def _common_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after the command name (``orka-memory --json stats`` or
    ``orka-memory stats --json``). Sub-parsers leave unset options alone, so the main parser's defaults hold."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--backend", default=argparse.SUPPRESS, help="backend to use (default: from settings)")
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="config file (TOML or YAML)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print data as JSON")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        parents=[_common_options()],  # its own copy: set_defaults changes the defaults of the actions it holds
        description="Inspect, search, age out, export and import what agent workflows logged.",
    )
    parser.set_defaults(backend=None, config=None, json=False)
    common = _common_options()
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        sub_parser = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        sub_parser.set_defaults(handler=handler)
        return sub_parser

    demo = command("demo", commands.demo, "log a multi-agent workflow, then show its trace, stats and an export")
    demo.add_argument("--runs", type=_positive_int, default=1, help="workflow runs to log (default 1)")
    demo.add_argument("--seed", type=int, default=None, help="seed for repeatable outputs")
    demo.add_argument("--export", type=Path, default=None, help="export file (default .orka-memory/exports/RUN.json)")

    tail = command("tail", commands.tail, "the newest events, oldest first")
    tail.add_argument("-n", "--count", type=_positive_int, default=10, help="how many events (default 10)")
    tail.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    tail.add_argument("--interval", type=_positive_float, default=1.0, help="seconds between polls with -f")
    tail.add_argument("--max-polls", type=_positive_int, default=None, help="stop following after N polls")

    trace = command("trace", commands.trace, "one run's events as a tree")
    trace.add_argument("run_id", metavar="RUN_ID")

    search = command("search", commands.search, "stored memories matching a text query")
    search.add_argument("query", metavar="QUERY")
    search.add_argument("-n", "--count", type=_positive_int, default=10, help="most results (default 10)")
    search.add_argument("--run", default=None, help="only memories of this run (trace id)")
    search.add_argument("--agent", default=None, help="only memories stored by this node")
    search.add_argument("--namespace", default=None, help="only memories in this namespace")
    search.add_argument(
        "--mode", choices=("auto", "vector", "text", "hybrid"), default=None, help="ranking (default: search_mode)"
    )

    command("stats", commands.stats, "counts, bytes stored vs logged, dedup and compression ratios")

    watch = command("watch", commands.watch, "stats, refreshed")
    watch.add_argument("--interval", type=_positive_float, default=2.0, help="seconds between refreshes")
    watch.add_argument("--iterations", type=_positive_int, default=None, help="stop after N refreshes")

    cleanup = command("cleanup", commands.cleanup, "remove expired records, blobs and keys")
    cleanup.add_argument("--dry-run", action="store_true", help="only report what would be removed")

    export = command("export", commands.export, "write every live record to a file")
    export.add_argument("path", metavar="PATH", help="*.json: OrKa's envelope; *.jsonl or *.jsonl.zst: streamed")

    import_ = command("import", commands.import_, "load an export into the store")
    import_.add_argument("path", metavar="PATH")

    command("plugins", commands.plugins, "installed plugins, versions, backends with capabilities and health")
    command("config", commands.config, "every resolved setting and its source, secrets masked")
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {value}")
    return value


def _show_warning(message: Any, category: type[Warning], *_: Any, **__: Any) -> None:
    print(f"{PROG}: warning: {str(message).removeprefix(PROG + ': ')}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    previous = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return handler(args, Console(args, out))
    except CommandError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return error.code
    except BrokenPipeError:  # `orka-memory tail -f | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except USER_ERRORS as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    finally:
        warnings.showwarning = previous
