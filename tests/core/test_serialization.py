"""to_jsonable: each conversion rule, cycles and depth, the plugin hook, and the fixpoint property on generated data."""

import collections
import dataclasses
import datetime
import decimal
import enum
import gc
import math
import pathlib
import types
import uuid
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import orjson
import pydantic
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from orka_memory.serialization import to_jsonable

INF = float("inf")
NAN = float("nan")
UID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def encoded(value: Any) -> bytes:
    """A canonical JSON encoding: tells 1 from 1.0 and True from 1, which == does not."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def assert_converts(value: Any, expected: Any, **kwargs: Any) -> None:
    out = to_jsonable(value, **kwargs)
    assert out == expected
    assert encoded(out) == encoded(expected)


def assert_plain(value: Any) -> None:
    """value is made only of the types to_jsonable promises."""
    t = type(value)
    if t is dict:
        for k, v in value.items():
            assert type(k) is str
            k.encode("utf-8")
            assert_plain(v)
    elif t is list:
        for v in value:
            assert_plain(v)
    elif t is str:
        value.encode("utf-8")
    elif t is int:
        assert -(2**63) <= value <= 2**63 - 1
    elif t is float:
        assert math.isfinite(value)
    else:
        assert value is None or t is bool, f"not JSON-able: {value!r}"


class Color(enum.StrEnum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Shape(enum.Enum):
    SQUARE = (4, "sides")


class Tag(str):
    pass


class Count(int):
    def __int__(self) -> int:  # not used: the int value itself is kept
        return -1


@dataclasses.dataclass
class Point:
    x: int
    y: float


@dataclasses.dataclass
class Segment:
    start: Point
    end: Point
    label: str = "s"


class User(pydantic.BaseModel):
    name: str
    tags: set[str]
    joined: datetime.date


class Plain:
    kind = "class attribute, not data"

    def __init__(self) -> None:
        self.a = 1
        self._b = [2, (3,)]
        self.__dict__["__hidden"] = "skipped"


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


class Slotted:
    __slots__ = ("x",)

    def __init__(self, x: int) -> None:
        self.x = x

    def __repr__(self) -> str:
        return f"Slotted({self.x})"


class BadRepr:
    __slots__ = ()

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


class BadMapping(Mapping[Any, Any]):
    def __getitem__(self, key: Any) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[Any]:
        raise RuntimeError("boom")

    def __len__(self) -> int:
        return 1


class BadStr:
    def __hash__(self) -> int:
        return 1

    def __str__(self) -> str:
        raise ValueError("no text")


def tagged(tag: str, data: Any) -> dict[str, Any]:
    return {"__type": tag, "data": data}


# -- one rule per row -------------------------------------------------------------------------------------------

RULES = [
    (None, None),
    (True, True),
    (False, False),
    ("abc", "abc"),
    ("héllo ✓", "héllo ✓"),
    ("\ud800", "\ufffd"),
    ("a\udcffb", "a\ufffdb"),
    ("\ud83d\ude00", "\U0001f600"),  # a surrogate pair is joined, not replaced
    (0, 0),
    (2**63 - 1, 2**63 - 1),
    (-(2**63), -(2**63)),
    (2**63, tagged("int", "9223372036854775808")),
    (2**100, tagged("int", "1267650600228229401496703205376")),
    (-(2**70), tagged("int", "-1180591620717411303424")),
    (1.5, 1.5),
    (NAN, "NaN"),
    (INF, "Infinity"),
    (-INF, "-Infinity"),
    (decimal.Decimal("1.10"), "1.10"),
    (decimal.Decimal("-1E+3"), "-1E+3"),
    (decimal.Decimal("NaN"), "NaN"),
    (decimal.Decimal("sNaN"), "NaN"),
    (decimal.Decimal("-Infinity"), "-Infinity"),
    (datetime.datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=datetime.UTC), "2024-01-02T03:04:05.000600+00:00"),
    (datetime.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
    (datetime.date(2024, 1, 2), "2024-01-02"),
    (datetime.time(3, 4, 5), "03:04:05"),
    (datetime.timedelta(minutes=1, milliseconds=500), 60.5),
    (UID, "12345678-1234-5678-1234-567812345678"),
    (pathlib.PurePosixPath("/tmp/x.txt"), "/tmp/x.txt"),
    (pathlib.PurePosixPath("/tmp/\udcff"), "/tmp/\ufffd"),  # undecodable file name (surrogateescape)
    (Color.RED, "red"),
    (Level.HIGH, 3),
    (Shape.SQUARE, [4, "sides"]),
    (Tag("t"), "t"),
    (Count(7), 7),
    (np.float32(1.5), 1.5),
    (np.float64(NAN), "NaN"),
    (np.int64(3), 3),
    (np.bool_(True), True),
    (np.array([[1.0, NAN], [3.0, 4.0]]), [[1.0, "NaN"], [3.0, 4.0]]),
    (np.array(5), 5),
    (b"\xff\xfe", tagged("bytes", "//4=")),
    (bytearray(b"hi"), tagged("bytes", "aGk=")),
    (memoryview(b"hi"), tagged("bytes", "aGk=")),
    ((1, "a", (2,)), [1, "a", [2]]),
    (collections.deque([1, 2]), [1, 2]),
    (range(3), [0, 1, 2]),
    ({3, 1, 2}, tagged("set", [1, 2, 3])),
    (frozenset({"b", "a", 1}), tagged("set", ["a", "b", 1])),  # sorted by JSON text: '"a"' < '"b"' < '1'
    (complex(1, -2), tagged("complex", [1.0, -2.0])),
    (complex(NAN, INF), tagged("complex", ["NaN", "Infinity"])),
    (collections.OrderedDict(b=1, a=2), {"b": 1, "a": 2}),
    (types.MappingProxyType({"k": (1,)}), {"k": [1]}),
    (
        Segment(Point(1, 2.0), Point(3, NAN)),
        tagged(
            "Segment",
            {
                "start": tagged("Point", {"x": 1, "y": 2.0}),
                "end": tagged("Point", {"x": 3, "y": "NaN"}),
                "label": "s",
            },
        ),
    ),
    (
        User(name="ann", tags={"b", "a"}, joined=datetime.date(2024, 1, 2)),
        tagged(
            "User",
            {
                "name": "ann",
                "tags": tagged("set", ["a", "b"]),
                "joined": "2024-01-02",
            },
        ),
    ),
    (ValueError("bad", 3), tagged("ValueError", {"message": "('bad', 3)", "args": ["bad", 3]})),
    (KeyError("k"), tagged("KeyError", {"message": "'k'", "args": ["k"]})),
    (Plain(), tagged("Plain", {"a": 1, "_b": [2, [3]]})),
    (types.SimpleNamespace(n=UID), tagged("SimpleNamespace", {"n": str(UID)})),
    (Slotted(1), tagged("Slotted", "Slotted(1)")),
    (BadRepr(), "<unserializable: RuntimeError: no repr>"),
    (int, tagged("type", "<class 'int'>")),
    (math, tagged("module", repr(math))),
    (len, tagged("builtin_function_or_method", "<built-in function len>")),
    (iter([1, 2]), "<iterator: list_iterator>"),
    ({"ok": 1, "bad": BadMapping()}, {"ok": 1, "bad": "<unserializable: RuntimeError: boom>"}),
]


@pytest.mark.parametrize(
    ("value", "expected"), RULES, ids=[f"{i}-{type(v).__name__}" for i, (v, _) in enumerate(RULES)]
)
def test_rule(value: Any, expected: Any) -> None:
    assert_converts(value, expected)


def test_functions_are_shown_by_repr_not_by_their_dict() -> None:
    def f() -> None: ...

    f.attr = 1  # type: ignore[attr-defined]
    assert to_jsonable(f) == tagged("function", repr(f))


def test_int_too_long_for_str_gives_a_marker() -> None:
    assert to_jsonable([10**5000]) == [
        "<unserializable: ValueError: Exceeds the limit (4300 digits) for integer string conversion; "
        "use sys.set_int_max_str_digits() to increase the limit>"
    ]


def test_generator_is_not_consumed() -> None:
    gen = (i for i in range(3))
    assert to_jsonable({"g": gen}) == {"g": "<iterator: generator>"}
    assert next(gen) == 0


# -- mapping keys -----------------------------------------------------------------------------------------------


def test_keys_become_text() -> None:
    value = {
        "s": 0,
        None: 1,
        True: 2,
        False: 3,
        7: 4,
        2**70: 5,
        1.5: 6,
        NAN: 7,
        (1, "a"): 8,
        Color.RED: 9,
        Level.HIGH: 10,
        "\ud800x": 11,
        UID: 12,
        decimal.Decimal("1.10"): 13,
    }
    assert_converts(
        value,
        {
            "s": 0,
            "null": 1,
            "true": 2,
            "false": 3,
            "7": 4,
            "1180591620717411303424": 5,
            "1.5": 6,
            "nan": 7,
            "(1, 'a')": 8,
            "red": 9,
            "3": 10,
            "\ufffdx": 11,
            str(UID): 12,
            "1.10": 13,
        },
    )


def test_colliding_keys_keep_the_later_value() -> None:
    assert to_jsonable({1: "int", "1": "str"}) == {"1": "str"}
    assert to_jsonable({"1": "str", 1: "int"}) == {"1": "int"}


def test_key_without_text_gets_a_marker() -> None:
    assert to_jsonable({BadStr(): 1, "ok": 2}) == {"<unserializable: ValueError: no text>": 1, "ok": 2}


# -- cycles and depth -------------------------------------------------------------------------------------------


def test_self_referencing_dict_and_list() -> None:
    d: dict[str, Any] = {"a": 1}
    d["self"] = d
    items: list[Any] = [1]
    items.append(items)
    assert to_jsonable(d) == {"a": 1, "self": "<circular-reference: dict>"}
    assert to_jsonable(items) == [1, "<circular-reference: list>"]
    assert to_jsonable({"x": items}) == {"x": [1, "<circular-reference: list>"]}


def test_mutual_cycle_between_two_objects() -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a
    assert to_jsonable(a) == tagged("Node", {"other": tagged("Node", {"other": "<circular-reference: Node>"})})


def test_cycle_through_a_set() -> None:
    node = Node()
    members = {node}
    node.other = members  # type: ignore[assignment]
    assert to_jsonable(members) == tagged("set", [tagged("Node", {"other": "<circular-reference: set>"})])


def test_same_object_in_siblings_is_not_a_cycle() -> None:
    shared = [1, {"k": "v"}]
    point = Point(1, 2.0)
    out = to_jsonable({"a": shared, "b": shared, "points": [point, point]})
    assert out == {
        "a": [1, {"k": "v"}],
        "b": [1, {"k": "v"}],
        "points": [tagged("Point", {"x": 1, "y": 2.0})] * 2,
    }
    assert out["a"] is not out["b"]


def nested_lists(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels):
        value = [value]
    return value


def test_deep_nesting_is_cut_at_max_depth() -> None:
    out = to_jsonable(nested_lists(10_000))
    for _ in range(100):
        out = out[0]
    assert out == ["<max-depth-exceeded: list>"]


def test_deep_output_stays_encodable_and_a_fixpoint() -> None:
    out = to_jsonable(nested_lists(10_000))
    assert orjson.loads(orjson.dumps(out)) == out
    assert to_jsonable(out) == out


def test_max_depth_is_capped_at_what_orjson_accepts() -> None:
    out = to_jsonable(nested_lists(1_000), max_depth=1_000)
    assert orjson.loads(orjson.dumps(out)) == out
    for _ in range(200):
        out = out[0]
    assert out == ["<max-depth-exceeded: list>"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"a": {"b": {"c": 1}}}, {"a": {"b": "<max-depth-exceeded: dict>"}}),
        ([1, [2, [3]]], [1, [2, "<max-depth-exceeded: list>"]]),
        # wrappers are containers too: the output is never deeper than max_depth, so it stays a fixpoint
        ([[2**70]], [["<max-depth-exceeded: int>"]]),
        ([[b"x"]], [["<max-depth-exceeded: bytes>"]]),
        ([Point(1, 2.0)], [tagged("Point", "<max-depth-exceeded: dict>")]),
        ([["deep scalars stay", 1, None]], [["deep scalars stay", 1, None]]),
    ],
)
def test_max_depth(value: Any, expected: Any) -> None:
    out = to_jsonable(value, max_depth=1)
    assert out == expected
    assert to_jsonable(out, max_depth=1) == out


# -- fresh output ---------------------------------------------------------------------------------------------


def test_output_never_aliases_the_input() -> None:
    nested = {"b": [2]}
    value = {"a": [1, nested], "p": Plain()}
    out = to_jsonable(value)
    value["a"].append(9)  # type: ignore[attr-defined]
    nested["b"].append(5)
    value["p"]._b.append(4)  # type: ignore[attr-defined]
    value["new"] = 1
    assert out == {"a": [1, {"b": [2]}], "p": tagged("Plain", {"a": 1, "_b": [2, [3]]})}


# -- the plugin hook --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Money:
    amount: int
    currency: str


def money_hook(value: Any) -> Any:
    return f"{value.amount} {value.currency}" if isinstance(value, Money) else None


def test_hook_handles_its_type_before_the_builtin_rules() -> None:
    assert to_jsonable({"price": Money(3, "EUR"), "p": Point(1, 2.0)}, hook=money_hook) == {
        "price": "3 EUR",
        "p": tagged("Point", {"x": 1, "y": 2.0}),
    }


def test_hook_sees_builtin_subclasses_but_not_exact_builtins() -> None:
    seen: list[Any] = []

    def hook(value: Any) -> Any:
        seen.append(value)
        return {"tag": str(value)} if isinstance(value, Tag) else None

    assert to_jsonable({"a": [1, "x", 1.5, None, True, {"d": []}], "t": Tag("v")}, hook=hook) == {
        "a": [1, "x", 1.5, None, True, {"d": []}],
        "t": {"tag": "v"},
    }
    assert seen == [Tag("v")]


def test_hook_result_is_converted_further() -> None:
    assert to_jsonable(Money(1, "EUR"), hook=lambda v: {v.currency, NAN} if isinstance(v, Money) else None) == (
        tagged("set", ["EUR", "NaN"])
    )


def test_hook_returning_none_falls_through() -> None:
    assert to_jsonable(Money(3, "EUR"), hook=lambda v: None) == tagged("Money", {"amount": 3, "currency": "EUR"})


def test_hook_raising_falls_through() -> None:
    def hook(value: Any) -> Any:
        raise RuntimeError("plugin bug")

    assert to_jsonable([Money(3, "EUR")], hook=hook) == [tagged("Money", {"amount": 3, "currency": "EUR"})]


def test_hook_returning_its_input_does_not_loop() -> None:
    assert to_jsonable(Money(3, "EUR"), hook=lambda v: v) == tagged("Money", {"amount": 3, "currency": "EUR"})


def test_hook_result_containing_its_input_is_a_cycle() -> None:
    hook = lambda v: {"wrapped": v} if isinstance(v, Money) else None  # noqa: E731
    assert to_jsonable(Money(3, "EUR"), hook=hook) == {"wrapped": "<circular-reference: Money>"}


# -- properties on generated values -----------------------------------------------------------------------------

SURROGATES = st.integers(0xD800, 0xDFFF).map(chr)
TEXT = st.text(alphabet=st.one_of(st.characters(codec=None), SURROGATES))
INTEGERS = st.one_of(st.integers(), st.integers(-(2**80), 2**80))
HASHABLE = st.one_of(st.none(), st.booleans(), INTEGERS, st.floats(), TEXT)
KEYS = st.one_of(HASHABLE, st.tuples(INTEGERS, TEXT))
SCALARS = st.one_of(
    HASHABLE,
    st.binary(),
    st.decimals(),
    st.datetimes(timezones=st.sampled_from([None, datetime.UTC])),
    st.dates(),
    st.timedeltas(),
    st.uuids(),
    st.complex_numbers(),
    st.sampled_from([Color.RED, Level.HIGH, Shape.SQUARE]),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children),
        st.lists(children).map(tuple),
        st.dictionaries(KEYS, children),
        st.sets(HASHABLE),
        st.frozensets(st.tuples(HASHABLE, HASHABLE)),
        st.builds(Point, children, children),
    ),
    max_leaves=30,
)


def test_generated_text_has_lone_surrogates() -> None:
    found = find(TEXT, lambda s: any(0xD800 <= ord(c) <= 0xDFFF for c in s))
    assert to_jsonable(found) != found


@settings(max_examples=300, deadline=None)
@given(VALUES)
def test_output_is_plain_json_and_a_fixpoint(value: Any) -> None:
    out = to_jsonable(value)
    assert_plain(out)
    assert orjson.loads(orjson.dumps(out)) == out
    assert to_jsonable(out) == out


def test_the_fast_path_leaves_nothing_behind_when_it_gives_up() -> None:
    """Values outside the fast path fall back to the full converter; doing so a thousand times must not keep the
    frames (and the payloads in them) of earlier calls alive."""

    class Payload(dict):  # a dict subclass: not plain, so every call falls back
        pass

    first = Payload(when=datetime.date(2020, 1, 1))
    alive = weakref.ref(first)
    assert to_jsonable(first) == {"when": "2020-01-01"}
    del first
    for _ in range(1000):
        to_jsonable(Payload(when=datetime.date(2020, 1, 1)))
    gc.collect()
    assert alive() is None
