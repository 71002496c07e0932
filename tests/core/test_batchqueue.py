"""The writer's queue: FIFO, batches, back-pressure instead of loss, and a timeout when empty."""

import threading
import time

import pytest
from orka_memory.batchqueue import BatchQueue


def test_take_returns_up_to_limit_items_in_order() -> None:
    queue: BatchQueue[int] = BatchQueue(10)
    for item in range(5):
        queue.put(item)
    assert queue.take(3) == [0, 1, 2]
    assert queue.take(10) == [3, 4]
    assert len(queue) == 0


def test_take_times_out_with_an_empty_list() -> None:
    assert BatchQueue[int](1).take(5, timeout=0.05) == []


def test_a_full_queue_blocks_the_producer_until_the_consumer_takes() -> None:
    queue: BatchQueue[int] = BatchQueue(2)
    queue.put(1)
    queue.put(2)
    done = threading.Event()
    producer = threading.Thread(target=lambda: (queue.put(3), done.set()))
    producer.start()
    assert not done.wait(0.1), "put returned while the queue was full"
    assert queue.take(1) == [1]
    assert done.wait(5)
    producer.join()
    assert queue.take(5) == [2, 3]


def test_concurrent_producers_lose_and_duplicate_nothing() -> None:
    queue: BatchQueue[tuple[int, int]] = BatchQueue(50)
    received: list[tuple[int, int]] = []

    def consume() -> None:
        while len(received) < 8 * 1000:
            received.extend(queue.take(64, timeout=5))

    consumer = threading.Thread(target=consume)
    consumer.start()
    producers = [threading.Thread(target=lambda p=p: [queue.put((p, i)) for i in range(1000)]) for p in range(8)]
    for thread in producers:
        thread.start()
    for thread in producers:
        thread.join()
    consumer.join(timeout=30)
    assert sorted(received) == [(p, i) for p in range(8) for i in range(1000)]
    for producer in range(8):  # each producer's items arrive in its order
        mine = [i for p, i in received if p == producer]
        assert mine == sorted(mine)


def test_a_consumer_waiting_on_an_empty_queue_wakes_for_a_put() -> None:
    queue: BatchQueue[str] = BatchQueue(4)
    threading.Timer(0.05, queue.put, args=("late",)).start()
    started = time.monotonic()
    assert queue.take(4, timeout=10) == ["late"]
    assert time.monotonic() - started < 5


def test_maxsize_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        BatchQueue(0)
