"""Turning records, stats and settings into text for a terminal, or JSON for ``--json``.

Every function here is pure (data in, text out), so the commands stay short and the formatting is tested alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

PREVIEW_CHARS = 72


def to_json(data: Any) -> str:
    """Indented JSON for ``--json``; anything orjson does not know (paths, enums) is printed as its string."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str).decode()


def to_json_line(data: Any) -> str:
    """One compact JSON document on one line, for streams (``tail -f --json``, ``watch --json``: JSON Lines)."""
    return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS, default=str).decode()


def human_bytes(count: int | None) -> str:
    if count is None:
        return "-"
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def ratio(value: float | None) -> str:
    """A stored/logical ratio as the share kept and the factor saved, e.g. ``0.25 (4.0x smaller)``."""
    if value is None:
        return "-"
    if value <= 0:
        return f"{value:.2f}"
    return f"{value:.2f} ({1 / value:.1f}x smaller)"


def table(rows: Iterable[Sequence[Any]], headers: Sequence[str]) -> str:
    """Left-aligned columns, as wide as their widest cell."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in cells)])


def clock(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%H:%M:%S.%f")[:-3]


def preview(value: Any, limit: int = PREVIEW_CHARS) -> str:
    """A one-line glimpse of a payload: its response text when it has one, else compact JSON."""
    text = _response_text(value)
    if text is None:
        text = orjson.dumps(value, default=str).decode() if value is not None else ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _response_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for key in ("response", "result", "content", "output", "message"):
            found = _response_text(value.get(key))
            if found:
                return found
    return None


def metrics_of(payload: Any) -> dict[str, Any]:
    """Token, cost and latency metrics an agent reported (``_metrics`` at the top or under ``result``)."""
    if not isinstance(payload, Mapping):
        return {}
    for holder in (payload, payload.get("result")):
        if isinstance(holder, Mapping) and isinstance(holder.get("_metrics"), Mapping):
            return dict(holder["_metrics"])
    return {}


def metrics_text(metrics: Mapping[str, Any]) -> str:
    parts = []
    if metrics.get("tokens") is not None:
        parts.append(f"{metrics['tokens']} tok")
    if metrics.get("cost_usd") is not None:
        parts.append(f"${float(metrics['cost_usd']):.4f}")
    if metrics.get("latency_ms") is not None:
        parts.append(f"{float(metrics['latency_ms']) / 1000:.2f} s")
    return "  ".join(parts)


def event_line(event: Mapping[str, Any]) -> str:
    """One event for ``tail``: time, run, step, agent, event type, metrics and a preview of the payload."""
    step = "-" if event.get("step") is None else event["step"]
    run = event.get("run_id") or "-"
    head = f"{clock(event['created_at'])}  {run}  #{step}  {event['agent_id']}  {event['event_type']}"
    extra = metrics_text(metrics_of(event.get("payload")))
    glimpse = preview(event.get("payload"))
    return "  ".join(part for part in (head, extra, glimpse) if part)


def trace_tree(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """A run's events as a tree: an event whose ``parent`` names an earlier agent hangs under that agent's latest
    event (the branches of a fork under the fork node); everything else is a top-level step, in logged order."""
    children: dict[int, list[int]] = {}
    roots: list[int] = []
    latest_by_agent: dict[str, int] = {}
    for index, event in enumerate(events):
        parent = event.get("parent")
        if parent is not None and parent in latest_by_agent:
            children.setdefault(latest_by_agent[parent], []).append(index)
        else:
            roots.append(index)
        latest_by_agent[event["agent_id"]] = index

    lines: list[str] = []

    def walk(indexes: list[int], prefix: str) -> None:
        for position, index in enumerate(indexes):
            last = position == len(indexes) - 1
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{_tree_label(events[index])}")
            walk(children.get(index, []), prefix + ("   " if last else "│  "))

    walk(roots, "")
    return lines


def _tree_label(event: Mapping[str, Any]) -> str:
    step = "" if event.get("step") is None else f"[{event['step']}] "
    label = f"{step}{event['agent_id']}  {event['event_type']}"
    if event.get("fork_group"):
        label += f"  (fork {event['fork_group']})"
    extra = metrics_text(metrics_of(event.get("payload")))
    return f"{label}  {extra}" if extra else label


def stats_text(stats: Mapping[str, Any]) -> str:
    """The store's counts and sizes, then what this process logged and how much dedup and compression saved."""
    rows = [
        ("backend", f"{stats['backend']} at {stats['location']}"),
        ("events", stats["total_events"]),
        ("stored memories", stats["stored_memories"]),
        ("by memory type", ", ".join(f"{k}={v}" for k, v in sorted(stats["by_memory_type"].items())) or "-"),
        ("blobs (deduplicated)", stats["blobs"]),
        ("kv keys", stats["kv_keys"]),
        ("expired, not yet removed", stats["expired_entries"]),
        ("record bytes, encoded", human_bytes(stats["raw_bytes"])),
        ("record bytes, stored", human_bytes(stats["stored_bytes"])),
        ("compression (stored/encoded)", ratio(stats["compression_ratio"])),
        ("engine size on disk", human_bytes(stats["engine_bytes"])),
    ]
    session = stats["session"]
    if session["logged"]:
        rows += [
            ("this session: records logged", session["logged"]),
            ("this session: bytes as logged", human_bytes(session["logical_bytes"])),
            ("this session: after dedup", f"{human_bytes(session['encoded_bytes'])}  {ratio(session['dedup_ratio'])}"),
            ("this session: stored", f"{human_bytes(session['stored_bytes'])}  {ratio(session['overall_ratio'])}"),
        ]
    return table(rows, ("stat", "value"))


def settings_table(items: Iterable[tuple[str, Any, str]]) -> str:
    return table(((key, _setting_value(value), source) for key, value, source in items), ("setting", "value", "source"))


def _setting_value(value: Any) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else orjson.dumps(value).decode()
