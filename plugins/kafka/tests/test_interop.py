"""Other tools read what the backend writes: ``kcat`` (an independent client on librdkafka) consumes the event topic,
and every message parses with a JSON parser and ``docs/record-format.md`` alone. A value whose ``codec`` header says
``zstd`` is a zstd frame (the core compresses records above 512 bytes), opened here with the ``zstandard`` package.

Debian's kcat links librdkafka 2.0.2, whose handshake Tansu rejects; pointing ``LD_LIBRARY_PATH`` at the newer
librdkafka inside the confluent-kafka wheel makes the same binary work (see ENVIRONMENT notes in the README).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import zstandard

from .conftest import MakeLogger

DOCUMENT_FIELDS = {
    "schema_version",
    "id",
    "log_type",
    "agent_id",
    "event_type",
    "created_at",
    "run_id",
    "step",
    "fork_group",
    "parent",
    "payload",
    "previous_outputs",
    "content",
    "metadata",
    "namespace",
    "session",
    "importance",
    "memory_type",
    "category",
    "expires_at",
}


def _kcat_library_dir(tmp_path: Path) -> Path | None:
    """A folder with ``librdkafka.so.1`` linking to the confluent-kafka wheel's librdkafka, or None without it."""
    try:
        import confluent_kafka
    except ImportError:
        return None
    wheel_libs = Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"
    found = sorted(wheel_libs.glob("librdkafka*.so.1"))
    if not found:
        return None
    folder = tmp_path / "kcat-lib"
    folder.mkdir()
    (folder / "librdkafka.so.1").symlink_to(found[0])
    return folder


def _frames(raw: bytes) -> list[tuple[int, bytes | None, str, bytes]]:
    """Split kcat's ``-f '%o %K %S %h\\n%k%s\\n'`` output: offset, key, headers, value (sizes make it binary-safe)."""
    frames = []
    while raw:
        line_end = raw.index(b"\n")
        offset, key_size, value_size, headers = raw[:line_end].decode().split(" ", 3)
        body = raw[line_end + 1 :]
        key_length, value_length = max(int(key_size), 0), int(value_size)
        key = body[:key_length] if int(key_size) >= 0 else None
        frames.append((int(offset), key, headers, body[key_length : key_length + value_length]))
        raw = body[key_length + value_length + 1 :]
    return frames


@pytest.mark.parametrize("client", ["kafka-python"])
def test_kcat_reads_every_record_with_a_json_parser(
    make_logger: MakeLogger, kafka_args: dict[str, Any], tmp_path: Path
) -> None:
    kcat = shutil.which("kcat")
    library = _kcat_library_dir(tmp_path)
    if kcat is None or library is None:
        pytest.skip("needs kcat (scripts/system-packages.sh test) and confluent-kafka's librdkafka")
    # Producer compression off: the core then compresses large values itself, so both kinds of value are read.
    with make_logger(compression="none") as memory:
        for step in range(60):
            payload: dict[str, Any] = {"step": step, "text": "long " * (200 if step % 3 == 0 else 1)}
            memory.log(f"agent-{step % 3}", "result", payload, step=step, run_id=f"run-{step % 5}")
        memory.flush()
    topic = f"{kafka_args['topic_prefix']}.short-term"
    documents, codecs = [], set()
    for partition in range(6):
        result = subprocess.run(
            [
                kcat,
                "-C",
                "-b",
                kafka_args["bootstrap_servers"],
                "-t",
                topic,
                "-p",
                str(partition),
                "-o",
                "beginning",
                "-e",
                "-q",
                "-f",
                "%o %K %S %h\n%k%s\n",
            ],
            capture_output=True,
            env={**os.environ, "LD_LIBRARY_PATH": str(library)},
            timeout=60,
            check=True,
        )
        for _, key, headers, value in _frames(result.stdout):
            codec = re.search(r"(?:^|,)codec=(\w+)", headers)
            assert codec is not None, headers
            codecs.add(codec[1])
            raw = zstandard.ZstdDecompressor().decompressobj().decompress(value) if codec[1] == "zstd" else value
            document = json.loads(raw)
            assert set(document) <= DOCUMENT_FIELDS and document["schema_version"] == 1
            assert key is not None and document["run_id"] == key.decode()
            assert f"id={document['id']}" in headers and f"event_type={document['event_type']}" in headers
            documents.append(document)
    assert sorted(document["step"] for document in documents) == list(range(60))
    assert {document["payload"]["text"][:5] for document in documents} == {"long "}
    assert codecs == {"zstd", "none"}, "both a compressed and a plain value were read"
