"""Run a blocking generator (a model, a voice) in a thread and consume it asynchronously.

Engines are plain blocking generators so they stay simple and testable; deployments must
not block their event loop, so each call runs in its own thread and hands items over
through a small bounded queue. When the consumer stops early (a client left, a cycle was
cancelled) the producer is told to stop at its next item.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


async def iterate_in_thread(
    make_iterator: Callable[[], Iterator[T]], max_pending: int = 64
) -> AsyncIterator[T]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue(max_pending)
    stop = threading.Event()

    def put(item: object) -> None:
        # Blocks the producer thread while the queue is full: back-pressure, not buffering.
        if stop.is_set():
            return  # nobody is listening any more
        putting = queue.put(item)
        try:
            future = asyncio.run_coroutine_threadsafe(putting, loop)
        except RuntimeError:  # the consumer's loop has closed
            putting.close()
            return
        while not stop.is_set() and not loop.is_closed():
            try:
                future.result(timeout=0.5)
                return
            except TimeoutError:
                continue
        future.cancel()

    def produce() -> None:
        try:
            iterator = make_iterator()
            try:
                for item in iterator:
                    if stop.is_set():
                        break
                    put(item)
            finally:
                close = getattr(iterator, "close", None)
                if close is not None:
                    close()
        except BaseException as error:  # re-raised in the consumer
            put(error)
        finally:
            put(_DONE)

    thread = threading.Thread(target=produce, name="engine-call", daemon=True)
    thread.start()
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
