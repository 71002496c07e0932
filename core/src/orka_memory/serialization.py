"""Turning arbitrary caller values into plain JSON data, without ever failing.

``log()`` runs inside the workflow it records, so converting a payload must never raise into that workflow: a value
that cannot be converted becomes a string marker instead, and cycles or absurd nesting are cut off the same way.
The output is a fixpoint (converting it again, or a JSON round trip, gives an equal value), so what is read back
from storage can be compared with what was logged.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import decimal
import enum
import math
import pathlib
import types
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence, Set
from typing import Any, TypeAlias

import orjson

SerializeHook: TypeAlias = Callable[[Any], Any | None]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
# orjson refuses deeply nested containers (more than 254 levels in orjson 3.13, 255 before); keep a margin.
_MAX_DEPTH_CAP = 200
# Objects whose __dict__ is not their data: they are shown by repr instead.
_NOT_DATA = (type, types.ModuleType, types.FunctionType, types.MethodType)
_MISS = object()


def to_jsonable(value: Any, *, hook: SerializeHook | None = None, max_depth: int = 100) -> Any:
    """Return ``value`` as a fresh tree of ``dict[str, ...]``, ``list``, ``str``, ``int``, ``float``, ``bool``, None.

    Never raises (``Exception`` subclasses are caught; ``KeyboardInterrupt`` and ``SystemExit`` pass through) and
    never shares a container with ``value``. The result is accepted by ``orjson.dumps`` with no options, and
    ``to_jsonable(result) == result == orjson.loads(orjson.dumps(result))``. Rules, first match wins:

    ==================================  =============================================================
    input                               output
    ==================================  =============================================================
    ``None``, ``bool``                  as is
    ``str``                             as is; lone surrogates become U+FFFD (valid pairs are joined)
    ``int`` in signed 64-bit range      as is; otherwise ``{"__type": "int", "data": str(v)}``
    ``float``                           finite as is; ``"NaN"``, ``"Infinity"``, ``"-Infinity"``
    ``dict``                            ``dict`` with ``str`` keys, see below; values converted
    ``list``                            ``list``, items converted
    (anything else: ``hook(v)``)        a result other than ``None`` and ``v`` is converted instead
    ``Enum``                            its ``value``, converted
    ``str``/``int``/``float`` subclass  as the base type
    ``Decimal``                         ``str(d)`` (exact digits); non-finite as ``float``
    ``datetime``, ``date``, ``time``    ``.isoformat()``
    ``timedelta``                       total seconds, ``float``
    ``UUID``, ``PurePath``              ``str(v)``
    iterators, generators               ``"<iterator: TypeName>"`` (never consumed)
    numpy scalar                        ``v.item()``, converted
    other ``Mapping``                   as ``dict``
    ``bytes``/``bytearray``/view        ``{"__type": "bytes", "data": base64}``
    numpy array                         ``v.tolist()``, converted
    ``tuple``, ``deque``, ``Sequence``  ``list``, items converted
    ``set``, ``frozenset``, ``Set``     ``{"__type": "set", "data": [...]}``, sorted by JSON encoding
    ``complex``                         ``{"__type": "complex", "data": [real, imag]}``
    dataclass instance                  ``{"__type": ClassName, "data": {field: value}}``
    pydantic model                      ``{"__type": ClassName, "data": v.model_dump()}``
    ``BaseException``                   ``{"__type": ClassName, "data": {"message", "args"}}``
    object with ``__dict__``            ``{"__type": ClassName, "data": vars(v)}`` minus ``__*`` keys
    anything else                       ``{"__type": ClassName, "data": repr(v)}``
    ==================================  =============================================================

    Mapping keys: ``str`` as is (surrogates fixed), ``None`` -> ``"null"``, ``bool`` -> ``"true"``/``"false"``,
    ``Enum`` -> ``str(value)``, ``int`` -> ``str``, ``float`` -> ``repr``, anything else -> ``str(key)``. When two
    keys give the same text, the later one wins.

    Markers (strings): ``"<circular-reference: T>"`` for a value already on the path from the root to it (the same
    object twice side by side is not a cycle and is output twice), ``"<max-depth-exceeded: T>"`` for a container
    that would be nested more than ``max_depth`` levels below the top (capped at 200, within orjson's limit), and
    ``"<unserializable: ExceptionType: message>"`` when a rule fails.

    :param hook: tried first on every value whose exact type is not ``str``, ``int``, ``float``, ``bool``,
        ``None``, ``dict`` or ``list`` (so it also sees subclasses of those); it returns ``None`` for "not mine".
        A hook that raises counts as "not mine".
    """
    limit = min(max_depth, _MAX_DEPTH_CAP)
    try:
        return _plain_copy(value, 0, limit)
    except Exception:  # _NotPlain, or a container changed by another thread while copied: the careful path
        return _Converter(hook, limit).convert(value, 0)


class _NotPlain(Exception):
    """Raised by ``_plain_copy`` at the first value its fast path does not cover; raised as a new instance each time,
    since a shared one would chain every traceback (and the frames it holds) onto the last."""


_INF = math.inf


def _plain_copy(v: Any, depth: int, limit: int) -> Any:
    """The fast path of ``to_jsonable`` for what callers log nearly always: ``dict`` (ASCII ``str`` keys), ``list``,
    ASCII ``str``, ``int`` in 64-bit range, finite ``float``, ``bool``, ``None``, nested at most ``limit`` deep.

    For such values every rule of ``to_jsonable`` is the identity, so a copy of the containers is the whole result;
    anything else raises ``_NotPlain`` and the full converter starts over. A cycle also ends here, at ``limit``.
    """
    t = type(v)
    if t is dict or t is list:
        if depth > limit:
            raise _NotPlain
        depth += 1
        if t is dict:
            out: dict[str, Any] = {}
            for key, item in v.items():
                if type(key) is not str or not key.isascii():
                    raise _NotPlain
                # ASCII text, the most frequent value, without a call
                out[key] = item if type(item) is str and item.isascii() else _plain_item(item, depth, limit)
            return out
        return [_plain_item(item, depth, limit) for item in v]
    return _plain_item(v, depth, limit)


def _plain_item(v: Any, depth: int, limit: int) -> Any:
    t = type(v)
    if t is str:
        if v.isascii():
            return v
    elif t is dict or t is list:
        return _plain_copy(v, depth, limit)
    elif t is int:
        if _INT64_MIN <= v <= _INT64_MAX:
            return v
    elif t is float:
        if -_INF < v < _INF:
            return v
    elif t is bool or v is None:
        return v
    raise _NotPlain


class _Converter:
    """One conversion: the hook, the depth limit and the ids of the values on the current path from the root."""

    __slots__ = ("hook", "max_depth", "path")

    def __init__(self, hook: SerializeHook | None, max_depth: int) -> None:
        self.hook = hook
        self.max_depth = max_depth
        self.path: set[int] = set()

    def convert(self, v: Any, depth: int) -> Any:
        """Convert ``v``, which sits ``depth`` container levels below the top of the output."""
        try:
            t = type(v)
            if t is str:
                return v if v.isascii() else _text(v)
            if t is int:
                return v if _INT64_MIN <= v <= _INT64_MAX else self._tagged("int", str(v), depth)
            if t is float:
                return _float(v)
            if t is bool or v is None:
                return v
            if t is dict or t is list:
                key = id(v)
                if key in self.path:
                    return _marker("circular-reference", v)
                if depth > self.max_depth:
                    return _marker("max-depth-exceeded", v)
                self.path.add(key)
                try:
                    return self._mapping(v, depth) if t is dict else self._sequence(v, depth)
                finally:
                    self.path.discard(key)
            return self._other(v, depth)
        except Exception as exc:
            return _unserializable(exc)

    def _mapping(self, m: Mapping[Any, Any], depth: int) -> dict[str, Any]:
        child = depth + 1
        convert = self.convert
        return {(k if type(k) is str and k.isascii() else _key(k)): convert(x, child) for k, x in m.items()}

    def _sequence(self, items: Any, depth: int) -> list[Any]:
        child = depth + 1
        convert = self.convert
        return [convert(x, child) for x in items]

    def _tagged(self, tag: str, data: Any, depth: int) -> Any:
        """``{"__type": tag, "data": data}`` at ``depth``; ``data`` is converted one level further down."""
        if depth > self.max_depth:
            return f"<max-depth-exceeded: {tag}>"
        return {"__type": tag, "data": self.convert(data, depth + 1)}

    def _other(self, v: Any, depth: int) -> Any:
        key = id(v)
        if key in self.path:
            return _marker("circular-reference", v)
        if self.hook is not None:
            out = self._hooked(self.hook, v, depth)
            if out is not _MISS:
                return out
        out = self._scalar(v, depth)
        if out is not _MISS:
            return out
        if depth > self.max_depth:
            return _marker("max-depth-exceeded", v)
        self.path.add(key)
        try:
            return self._container(v, depth)
        finally:
            self.path.discard(key)

    def _hooked(self, hook: SerializeHook, v: Any, depth: int) -> Any:
        """The converted hook result, or ``_MISS`` when the hook does not handle ``v``."""
        try:
            out = hook(v)
        except Exception:
            return _MISS
        if out is None or out is v:
            return _MISS
        # v stays on the path while its replacement is converted, so a replacement that contains v is a cycle.
        key = id(v)
        self.path.add(key)
        try:
            return self.convert(out, depth)
        finally:
            self.path.discard(key)

    def _scalar(self, v: Any, depth: int) -> Any:
        """Rules whose output is a scalar (or is decided by converting one other value); ``_MISS`` otherwise."""
        if isinstance(v, enum.Enum):
            return self.convert(v.value, depth)
        if isinstance(v, str):
            return _text(v)
        if isinstance(v, int):
            return self.convert(int.__int__(v), depth)
        if isinstance(v, float):
            return _float(float.__float__(v))
        if isinstance(v, decimal.Decimal):
            if v.is_finite():
                return str(v)
            return "NaN" if v.is_nan() else "-Infinity" if v.is_signed() else "Infinity"
        if isinstance(v, (datetime.date, datetime.time)):  # datetime.datetime is a date
            return _text(v.isoformat())
        if isinstance(v, datetime.timedelta):
            return v.total_seconds()
        if isinstance(v, (uuid.UUID, pathlib.PurePath)):
            return _text(str(v))
        if isinstance(v, Iterator):
            return _marker("iterator", v)
        if _is_numpy(v) and getattr(v, "ndim", None) == 0 and hasattr(v, "item"):
            return self.convert(v.item(), depth)
        return _MISS

    def _container(self, v: Any, depth: int) -> Any:
        """Rules whose output is a container; ``v`` is on the path and ``depth`` is within the limit."""
        name = type(v).__name__
        if isinstance(v, Mapping):
            return self._mapping(v, depth)
        if isinstance(v, (bytes, bytearray, memoryview)):
            return {"__type": "bytes", "data": base64.b64encode(bytes(v)).decode("ascii")}
        if _is_numpy(v) and hasattr(v, "tolist"):
            return self.convert(v.tolist(), depth)
        if isinstance(v, Sequence):
            return self._sequence(v, depth)
        if isinstance(v, Set):
            out = self._tagged("set", list(v), depth)
            if type(out["data"]) is list:
                out["data"].sort(key=orjson.dumps)
            return out
        if isinstance(v, complex):
            return self._tagged("complex", [v.real, v.imag], depth)
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return self._tagged(name, {f.name: getattr(v, f.name) for f in dataclasses.fields(v)}, depth)
        if hasattr(type(v), "model_dump") and not isinstance(v, type):
            return self._tagged(name, v.model_dump(mode="python"), depth)
        if isinstance(v, BaseException):
            return self._tagged(name, {"message": str(v), "args": list(v.args)}, depth)
        if hasattr(v, "__dict__") and not isinstance(v, _NOT_DATA):
            attrs = {k: x for k, x in vars(v).items() if not (isinstance(k, str) and k.startswith("__"))}
            return self._tagged(name, attrs, depth)
        return {"__type": name, "data": _text(repr(v))}


def _text(s: str) -> str:
    """``s`` as an exact, UTF-8 encodable ``str``: lone surrogates become U+FFFD, surrogate pairs are joined."""
    if type(s) is not str:
        s = str.__str__(s)
    if s.isascii():
        return s
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return s


def _float(f: float) -> float | str:
    if math.isfinite(f):
        return f
    if math.isnan(f):
        return "NaN"
    return "Infinity" if f > 0 else "-Infinity"


def _key(k: Any) -> str:
    """The text of a mapping key (see ``to_jsonable``); a key that cannot be turned into text gets a marker."""
    try:
        if isinstance(k, enum.Enum):
            text = str(k.value)
        elif k is None:
            text = "null"
        elif isinstance(k, bool):
            text = "true" if k else "false"
        elif isinstance(k, str):
            text = k
        elif isinstance(k, int):
            text = int.__repr__(k)
        elif isinstance(k, float):
            text = float.__repr__(k)
        else:
            text = str(k)
        return _text(text)
    except Exception as exc:
        return _unserializable(exc)


def _is_numpy(v: Any) -> bool:
    """Whether ``v``'s type comes from numpy, without importing numpy."""
    module = getattr(type(v), "__module__", None)
    return isinstance(module, str) and (module == "numpy" or module.startswith("numpy."))


def _marker(kind: str, v: Any) -> str:
    return f"<{kind}: {type(v).__name__}>"


def _unserializable(exc: Exception) -> str:
    try:
        message = str(exc)
    except Exception:
        message = "<unprintable message>"
    return _text(f"<unserializable: {type(exc).__name__}: {message}>")
