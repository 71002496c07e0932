"""The key-value API of the file backend keeps Redis semantics: return values, types, TTLs and SCAN."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from orka_memory.backend import WrongTypeError
from orka_memory_file import FileBackend
from orka_memory_file.backend import _now_ms

TTL = 0.2  # seconds; tests sleep EXPIRED_AFTER to see a key expire
EXPIRED_AFTER = 0.3


def test_hash_commands_return_redis_values(backend: FileBackend) -> None:
    assert backend.hset("h", "a", "1") == 1
    assert backend.hset("h", "a", "2") == 0, "replacing a field is not adding one"
    assert backend.hset("h", "b", "3") == 1
    assert backend.hget("h", "a") == "2"
    assert backend.hget("h", "missing") is None and backend.hget("no-such-hash", "a") is None
    assert backend.hkeys("h") == ["a", "b"]
    assert backend.hgetall("h") == {"a": "2", "b": "3"}
    assert backend.hkeys("no-such-hash") == [] and backend.hgetall("no-such-hash") == {}
    assert backend.hdel("h", "a", "missing", "a") == 1
    assert backend.hdel("no-such-hash", "a") == 0
    assert backend.hgetall("h") == {"b": "3"}


def test_hkeys_and_smembers_are_sorted(backend: FileBackend) -> None:
    for field in ["zeta", "alpha", "Mid", "ä", "10", "9"]:
        backend.hset("h", field, "v")
        backend.sadd("s", field)
    assert backend.hkeys("h") == sorted(["zeta", "alpha", "Mid", "ä", "10", "9"])
    assert backend.smembers("s") == sorted(["zeta", "alpha", "Mid", "ä", "10", "9"])


def test_hdel_of_the_last_field_deletes_the_key(backend: FileBackend) -> None:
    backend.hset("h", "only", "v")
    assert backend.hdel("h", "only") == 1
    assert backend.scan(0, count=10) == (0, [])
    assert backend.sadd("h", "now a set") == 1, "the key is gone, so any type may take the name"
    assert backend.stats(now_ms=_now_ms()).kv_keys == 1


def test_set_commands_return_redis_values(backend: FileBackend) -> None:
    assert backend.sadd("s", "x", "y", "x") == 2
    assert backend.sadd("s", "y", "z") == 1
    assert backend.smembers("s") == ["x", "y", "z"]
    assert backend.srem("s", "x", "missing", "x") == 1
    assert backend.srem("no-such-set", "x") == 0
    assert backend.smembers("s") == ["y", "z"] and backend.smembers("no-such-set") == []
    assert backend.srem("s", "y", "z") == 2
    assert backend.scan(0, count=10) == (0, []), "a set disappears with its last member"
    assert backend.sadd("empty") == 0
    assert backend.scan(0, count=10) == (0, []), "SADD without members creates nothing"


def test_string_commands_return_redis_values(backend: FileBackend) -> None:
    assert backend.set("k", "v1") is True
    assert backend.set("k", "v2") is True
    assert backend.get("k") == "v2" and backend.get("missing") is None
    assert backend.delete("k", "missing", "k") == 1
    assert backend.get("k") is None
    assert backend.delete() == 0
    assert backend.expire("missing", 10) is False


def test_values_keep_any_text(backend: FileBackend) -> None:
    value = '{"ok": true, "text": "é ✓ \'quoted\' \\n"}' + "x" * 10_000
    backend.set("k", value)
    backend.hset("h", "field with spaces ✓", value)
    assert backend.get("k") == value
    assert backend.hgetall("h") == {"field with spaces ✓": value}


def test_set_replaces_a_key_of_any_type(backend: FileBackend) -> None:
    backend.hset("name", "field", "v")
    assert backend.set("name", "string now") is True
    assert backend.get("name") == "string now"
    with pytest.raises(WrongTypeError):
        backend.hgetall("name")
    backend.delete("name")
    assert backend.hset("name", "fresh", "v") == 1
    assert backend.hgetall("name") == {"fresh": "v"}, "no field of the old hash survives"


WRONG_TYPE_CALLS: dict[str, Callable[[FileBackend, str], object]] = {
    "hset": lambda backend, key: backend.hset(key, "f", "v"),
    "hget": lambda backend, key: backend.hget(key, "f"),
    "hkeys": lambda backend, key: backend.hkeys(key),
    "hgetall": lambda backend, key: backend.hgetall(key),
    "hdel": lambda backend, key: backend.hdel(key, "f", "x"),
    "sadd": lambda backend, key: backend.sadd(key, "x"),
    "srem": lambda backend, key: backend.srem(key, "x"),
    "smembers": lambda backend, key: backend.smembers(key),
    "get": lambda backend, key: backend.get(key),
}
HOLDS = {"hset": "hash", "hget": "hash", "hkeys": "hash", "hgetall": "hash", "hdel": "hash", "get": "string"}


def fill(backend: FileBackend) -> None:
    backend.hset("a-hash", "f", "v")
    backend.hset("a-hash", "x", "w")
    backend.sadd("a-set", "f", "x")
    backend.set("a-string", "value")


def snapshot(backend: FileBackend) -> tuple[object, ...]:
    return backend.hgetall("a-hash"), backend.smembers("a-set"), backend.get("a-string"), backend.scan(0, count=10)


@pytest.mark.parametrize("operation", WRONG_TYPE_CALLS)
def test_wrong_type_raises_naming_key_type_and_operation_and_changes_nothing(
    backend: FileBackend, operation: str
) -> None:
    fill(backend)
    before = snapshot(backend)
    wanted = HOLDS.get(operation, "set")
    for key, held in [("a-hash", "hash"), ("a-set", "set"), ("a-string", "string")]:
        if held == wanted:
            continue
        with pytest.raises(WrongTypeError) as raised:
            WRONG_TYPE_CALLS[operation](backend, key)
        message = str(raised.value)
        assert key in message and held in message and operation in message
    assert snapshot(backend) == before


def test_hdel_on_a_set_never_deletes_it(backend: FileBackend) -> None:
    backend.sadd("group", "y")
    with pytest.raises(WrongTypeError):
        backend.hdel("group", "y")
    assert backend.smembers("group") == ["y"]


# -- TTL ------------------------------------------------------------------------------------------------------


def test_set_with_ttl_expires_and_set_without_ttl_clears_it(backend: FileBackend) -> None:
    backend.set("short", "v", ttl_seconds=TTL)
    backend.set("cleared", "v", ttl_seconds=TTL)
    backend.set("cleared", "v2")  # SET without a TTL drops the old one, as in Redis
    assert backend.get("short") == "v"
    time.sleep(EXPIRED_AFTER)
    assert backend.get("short") is None
    assert backend.get("cleared") == "v2"


def test_expire_gives_a_ttl_and_expired_keys_are_absent_everywhere(backend: FileBackend) -> None:
    backend.hset("h", "old-field", "v")
    backend.sadd("s", "old-member")
    backend.set("k", "v")
    assert backend.expire("h", TTL) is True
    assert backend.expire("s", TTL) is True
    assert backend.expire("k", TTL) is True
    time.sleep(EXPIRED_AFTER)
    assert (backend.hgetall("h"), backend.hkeys("h"), backend.hget("h", "old-field")) == ({}, [], None)
    assert backend.smembers("s") == [] and backend.get("k") is None
    assert backend.scan(0, count=10) == (0, [])
    assert backend.stats(now_ms=_now_ms()).kv_keys == 0
    assert backend.expire("k", 10) is False, "an expired key does not exist"
    assert backend.delete("k") == 0, "an expired key does not count as deleted"
    assert backend.hdel("h", "old-field") == 0 and backend.srem("s", "old-member") == 0
    # writing to an expired name starts a new key of any type, without the old values or TTL
    assert backend.sadd("h", "m") == 1
    assert backend.hset("s", "new-field", "v") == 1
    assert backend.smembers("h") == ["m"] and backend.hgetall("s") == {"new-field": "v"}, "the new keys have no TTL"


def test_expire_with_zero_ttl_makes_the_key_absent(backend: FileBackend) -> None:
    backend.set("k", "v")
    assert backend.expire("k", 0) is True
    assert backend.get("k") is None


def test_cleanup_removes_expired_keys_with_their_values(backend: FileBackend) -> None:
    backend.hset("h", "f", "v")
    backend.set("k", "v")
    backend.expire("h", TTL)
    time.sleep(EXPIRED_AFTER)
    now = _now_ms()
    assert backend.cleanup(now_ms=now, dry_run=True).kv_keys == 1
    assert backend.cleanup(now_ms=now, dry_run=False).kv_keys == 1
    connection = backend._connection()
    assert connection.execute("SELECT count(*) FROM kv_hash").fetchone()[0] == 0
    assert connection.execute("SELECT key FROM kv_keys").fetchall() == [("k",)]
    assert backend.stats(now_ms=now).kv_keys == 1


# -- SCAN -----------------------------------------------------------------------------------------------------


def scan_all(backend: FileBackend, match: str | None = None, count: int = 3) -> list[str]:
    cursor, found, calls = 0, [], 0
    while True:
        cursor, keys = backend.scan(cursor, match=match, count=count)
        found.extend(keys)
        calls += 1
        assert calls < 100, "scan never finished"
        if cursor == 0:
            return found


def test_scan_visits_every_key_exactly_once(backend: FileBackend) -> None:
    names = [f"key:{index}" for index in range(20)]
    for name in names:
        backend.set(name, "v")
    cursor, first = backend.scan(0, count=3)
    assert len(first) == 3 and cursor != 0
    found = scan_all(backend)
    assert sorted(found) == sorted(names) and len(found) == len(set(found))


def test_scan_keeps_its_place_when_keys_change_meanwhile(backend: FileBackend) -> None:
    for index in range(10):
        backend.set(f"k{index}", "v")
    cursor, found = backend.scan(0, count=4)
    backend.delete(found[0])
    backend.set("late", "v")
    while cursor:
        cursor, keys = backend.scan(cursor, count=4)
        found.extend(keys)
    assert sorted(found) == sorted([f"k{index}" for index in range(10)] + ["late"])


@pytest.mark.parametrize(
    ("match", "expected"),
    [
        ("fork_group:*", ["fork_group:1", "fork_group:2", "fork_group:10"]),
        ("fork_group:?", ["fork_group:1", "fork_group:2"]),
        ("fork_group:[12]", ["fork_group:1", "fork_group:2"]),
        ("fork_group:[^1]", ["fork_group:2"]),
        ("*result*", ["agent_result:x"]),
        ("FORK*", []),  # case-sensitive, as in Redis
        ("*", ["fork_group:1", "fork_group:2", "fork_group:10", "agent_result:x", "other"]),
    ],
)
def test_scan_match_uses_redis_glob_syntax(backend: FileBackend, match: str, expected: list[str]) -> None:
    for name in ["fork_group:1", "fork_group:2", "fork_group:10", "agent_result:x", "other"]:
        backend.set(name, "v")
    assert sorted(scan_all(backend, match=match, count=2)) == sorted(expected)


def test_scan_skips_expired_keys(backend: FileBackend) -> None:
    backend.set("live", "v")
    backend.set("short", "v", ttl_seconds=TTL)
    time.sleep(EXPIRED_AFTER)
    assert scan_all(backend) == ["live"]
