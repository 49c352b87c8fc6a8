"""iterate_in_thread: a blocking generator consumed from the event loop through a thread."""

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import pytest

from deployments.threaded_iter import iterate_in_thread

WAIT_S = 10.0  # a guard against hanging, never a measured duration


async def test_items_arrive_in_order() -> None:
    items = [item async for item in iterate_in_thread(lambda: iter(range(200)), max_pending=4)]
    assert items == list(range(200))


async def test_a_blocking_generator_runs_in_another_thread_and_the_loop_keeps_running() -> None:
    released = threading.Event()
    producer_threads: list[int] = []

    def blocking() -> Iterator[str]:
        producer_threads.append(threading.get_ident())
        yield "waiting"
        # Only a task on the event loop sets this: it can run only if the loop is free.
        yield "released" if released.wait(WAIT_S) else "the loop was blocked"

    async def release() -> None:
        await asyncio.sleep(0)
        released.set()

    task = asyncio.create_task(release())
    items = [item async for item in iterate_in_thread(blocking)]
    await task
    assert items == ["waiting", "released"]
    assert producer_threads and producer_threads[0] != threading.get_ident()


async def test_an_exception_in_the_generator_reaches_the_consumer_after_earlier_items() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise RuntimeError("engine broke")

    received: list[int] = []
    with pytest.raises(RuntimeError, match="engine broke"):
        async for item in iterate_in_thread(failing):
            received.append(item)
    assert received == [1]


async def test_an_exception_making_the_iterator_reaches_the_consumer() -> None:
    def make() -> Iterator[int]:
        raise ValueError("no model")

    with pytest.raises(ValueError, match="no model"):
        async for _ in iterate_in_thread(make):
            pass


async def test_closing_early_stops_and_closes_the_threads_generator() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            count = 0
            while True:
                yield count
                count += 1
        finally:
            closed.set()

    received: list[int] = []
    async with contextlib.aclosing(iterate_in_thread(endless, max_pending=2)) as items:
        async for item in items:
            received.append(item)
            if len(received) == 3:
                break
    assert received == [0, 1, 2]
    assert await asyncio.to_thread(closed.wait, WAIT_S), "the generator was never closed"
