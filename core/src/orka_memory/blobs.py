"""Blob deduplication: large repeated sub-objects are stored once, under the SHA-256 of their canonical JSON.

Agent outputs are copied into every later event's ``previous_outputs``, so an orchestration log repeats the same
large dicts many times. Each nested dict whose canonical JSON (compact, keys sorted) is at least
``threshold`` bytes is replaced by a reference::

    {"ref": "<sha256 hex>", "_type": "blob_reference", "_original_keys": [...keys in their original order]}

The walk is top-down: a dict that qualifies is replaced whole and not descended into, so each qualifying dict is
encoded once. Blobs are stored in the backend (not in process memory), so dedup spans processes and restarts.
References resolve recursively on every read path, including references inside blobs written by other tools.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection
from typing import Any

import orjson

BLOB_REFERENCE = "blob_reference"
# Bytes every JSON text holding a reference contains, however it is spaced (JSON encoders do not escape plain ASCII
# letters): readers skip the walk for a document without them. Text that merely mentions them costs only the walk.
BLOB_REFERENCE_MARK = BLOB_REFERENCE.encode()
MISSING_BLOB_REFERENCE = "missing_blob_reference"
DEFAULT_THRESHOLD = 200

# Resolution stops after this many rounds of nested references, so a corrupt store with a reference cycle cannot
# loop forever; what is left unresolved stays a reference.
MAX_RESOLVE_ROUNDS = 32


def canonical_json(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def blob_hash(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


def is_reference(value: Any) -> bool:
    return type(value) is dict and value.get("_type") == BLOB_REFERENCE and "ref" in value


def extract_blobs(value: Any, threshold: int, found: dict[str, bytes]) -> Any:
    """Return ``value`` with every qualifying nested dict replaced by a reference, adding blobs to ``found``.

    The root itself is never replaced: a record keeps its own payload inline, and only what it shares with other
    records becomes a blob. ``value`` is never changed; containers on the way to a replaced dict are copied, and
    the others are returned as they are (the in-process trace shares them).
    """
    if type(value) is dict or type(value) is list:
        return _dedup_children(value, threshold, found)
    return value


def _dedup_node(value: Any, threshold: int, found: dict[str, bytes]) -> Any:
    if type(value) is dict:
        if is_reference(value):
            return value
        encoded = canonical_json(value)
        if len(encoded) < threshold:
            return value  # nothing below a small dict can reach the threshold either
        digest = blob_hash(encoded)
        found[digest] = encoded
        return {"ref": digest, "_type": BLOB_REFERENCE, "_original_keys": list(value)}
    if type(value) is list:
        return _dedup_children(value, threshold, found)
    return value


def _dedup_children(value: dict[str, Any] | list[Any], threshold: int, found: dict[str, bytes]) -> Any:
    """``value`` (a dict or a list) with its children deduplicated: the same object when no child changed, else a
    copy (the in-process trace shares ``value``)."""
    copy: Any = None
    children = value.items() if type(value) is dict else enumerate(value)
    for key, item in children:
        kind = type(item)
        if kind is dict or kind is list:
            replaced = _dedup_node(item, threshold, found)
            if replaced is not item:
                if copy is None:
                    copy = dict(value) if type(value) is dict else list(value)
                copy[key] = replaced
    return value if copy is None else copy


def collect_references(value: Any, refs: set[str]) -> None:
    """Add the hash of every reference in ``value`` to ``refs``."""
    if type(value) is dict:
        if is_reference(value):
            refs.add(value["ref"])
            return
        for item in value.values():
            collect_references(item, refs)
    elif type(value) is list:
        for item in value:
            collect_references(item, refs)


def _substitute(value: Any, blobs: dict[str, Any], expanding: frozenset[str] = frozenset()) -> Any:
    """Replace references by blobs; ``expanding`` holds the blobs being expanded above, to stop at cycles."""
    if type(value) is dict:
        if is_reference(value):
            digest = value["ref"]
            if digest not in blobs or digest in expanding:
                return value
            blob = blobs[digest]
            original_keys = value.get("_original_keys")
            if type(blob) is dict and type(original_keys) is list and set(original_keys) == set(blob):
                blob = {key: blob[key] for key in original_keys}
            return _substitute(blob, blobs, expanding | {digest})
        return {key: _substitute(item, blobs, expanding) for key, item in value.items()}
    if type(value) is list:
        return [_substitute(item, blobs, expanding) for item in value]
    return value


def missing_reference(digest: str) -> dict[str, str]:
    return {
        "error": f"blob {digest} is referenced but not stored (it expired, or the export omitted it)",
        "ref": digest,
        "_type": MISSING_BLOB_REFERENCE,
    }


def resolve_references(values: list[Any], fetch: Callable[[Collection[str]], dict[str, Any]]) -> list[Any]:
    """Resolve every reference in ``values``, recursively, fetching blobs in one batch per nesting level.

    ``fetch`` takes hashes and returns the decoded blobs it has; a hash it lacks resolves to a
    ``missing_blob_reference`` dict, as OrKa's loader does.
    """
    known: dict[str, Any] = {}
    pending: set[str] = set()
    for value in values:
        collect_references(value, pending)
    for _ in range(MAX_RESOLVE_ROUNDS):
        pending -= known.keys()
        if not pending:
            break
        fetched = fetch(pending)
        for digest in pending:
            known[digest] = fetched[digest] if digest in fetched else missing_reference(digest)
        nested: set[str] = set()
        for digest in pending:
            collect_references(known[digest], nested)
        pending = nested
    if not known:
        return values
    return [_substitute(value, known) for value in values]
