"""The Lua scripts of the backend (``lua/*.lua``) and how they are called.

Why Lua: one writer batch touches an event stream, the id index, the memory indexes, the blob store and the
counters, and replays must change nothing. A script does the "store unless already stored" checks and the writes in
one atomic step on the server, in one round trip, and keeps the counters exact without a read-modify-write race
between processes. Scripts on the global slot get the backend's key names from ``Keys`` (``lua/common.lua``
explains the calling convention), so every key name is built in Python.

Scripts are sent once (``SCRIPT LOAD``, to every primary of a cluster) and then called by SHA-1. A server that
restarted or failed over has forgotten them: the backend loads them again when a call reports ``NOSCRIPT`` and
repeats the call, which is safe because every script is idempotent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from orka_memory_redis.keys import Keys

GLOBAL_SCRIPTS = ("append", "recent", "fetch", "search", "cleanup", "stats", "delete", "clear")
RUN_INDEX = "run_index"  # the one script on a run's slot


@dataclass(frozen=True, slots=True)
class Script:
    source: bytes
    sha: str


def _script(source: str) -> Script:
    encoded = source.encode()
    return Script(encoded, hashlib.sha1(encoded).hexdigest())


class Scripts:
    """The backend's scripts, with the argument conventions of the global slot."""

    def __init__(self, keys: Keys) -> None:
        folder = resources.files(__package__) / "lua"
        common = (folder / "common.lua").read_text(encoding="utf-8")
        self._scripts = {
            name: _script(common + (folder / f"{name}.lua").read_text(encoding="utf-8")) for name in GLOBAL_SCRIPTS
        }
        self._scripts[RUN_INDEX] = _script((folder / f"{RUN_INDEX}.lua").read_text(encoding="utf-8"))
        self._head = [len(keys.global_keys), *keys.global_keys, *keys.global_prefixes]

    def load(self, client: Any) -> None:
        """Send every script to the server (every primary of a cluster)."""
        for script in self._scripts.values():
            client.script_load(script.source)

    def call(self, pipeline: Any, name: str, *args: Any) -> None:
        """Queue a call of global script ``name`` with its own ``args``."""
        _evalsha(pipeline, self._scripts[name].sha, *self._head, *args)

    def index_run(self, pipeline: Any, key: str, expiry: str, pairs: list[Any]) -> None:
        """Queue adding score/id ``pairs`` to the run index ``key``, which then lives until ``expiry``."""
        _evalsha(pipeline, self._scripts[RUN_INDEX].sha, 1, key, expiry, *pairs)


def _evalsha(pipeline: Any, *args: Any) -> None:
    """Queue EVALSHA through ``execute_command``: redis-py's cluster pipeline refuses its ``evalsha`` method, since it
    cannot recover from NOSCRIPT inside a pipeline, but routes the command by its keys like any other. The backend
    recovers from NOSCRIPT itself (``RedisBackend._run``), on a single server and a cluster alike."""
    pipeline.execute_command("EVALSHA", *args)
