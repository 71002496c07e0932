"""Any Python value logs without raising and reads back equal to its JSON normalisation (property-based)."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from orka_memory import MemoryLogger, create_memory_logger
from orka_memory.serialization import to_jsonable

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**100), max_value=2**100)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(codec=None), max_size=30)
    | st.binary(max_size=30)
    | st.decimals(allow_nan=True)
    | st.datetimes(timezones=st.just(dt.UTC))
    | st.uuids()
)
keys = st.text(max_size=10) | st.integers() | st.none() | st.booleans() | st.tuples(st.integers())
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.tuples(children, children)
        | st.dictionaries(keys, children, max_size=5)
        | st.frozensets(st.integers() | st.text(max_size=5), max_size=5)
    ),
    max_leaves=25,
)


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MemoryLogger]:
    path = tmp_path_factory.mktemp("roundtrip") / "store.db"
    with create_memory_logger("file", path=str(path), compress_threshold=64) as logger:
        yield logger


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=values)
def test_any_value_round_trips_through_a_real_store(memory: MemoryLogger, value: Any) -> None:
    run_id = uuid.uuid4().hex
    memory.log("prop", "value", {"value": value, "copy": {"value": value, "pad": "p" * 200}}, run_id=run_id)
    memory.flush()
    [event] = memory.trace(run_id)
    expected = to_jsonable(value)
    assert event["payload"]["value"] == expected
    assert event["payload"]["copy"]["value"] == expected


def test_decimal_precision_survives(memory: MemoryLogger) -> None:
    memory.log("prop", "value", {"price": decimal.Decimal("1.10")}, run_id="dec")
    memory.flush()
    assert memory.trace("dec")[0]["payload"]["price"] == "1.10"
