"""SharedUpstream: one upstream for many clients, reopened when it breaks, closed when idle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from serve_app.http.broadcaster import Broadcaster, Overflow
from serve_app.http.shared_upstream import SharedUpstream


class Source:
    """Numbers from ``start``; may break after a few, or end; records opens and closes."""

    def __init__(self, break_after: int | None = None, end_after: int | None = None) -> None:
        self.break_after, self.end_after = break_after, end_after
        self.opened = self.closed = 0
        self.next = 0

    async def stream(self) -> AsyncIterator[int]:
        self.opened += 1
        sent = 0
        try:
            while True:
                if self.end_after is not None and self.next >= self.end_after:
                    return
                if self.break_after is not None and sent == self.break_after:
                    self.break_after = None  # breaks once
                    raise ConnectionError("replica restarted")
                await asyncio.sleep(0.001)
                yield self.next
                self.next += 1
                sent += 1
        finally:
            self.closed += 1


def shared(source: Source) -> SharedUpstream[int]:
    return SharedUpstream("test", Broadcaster(1000, Overflow.DISCONNECT), source.stream, 0.01)


async def take(subscription: AsyncIterator[int], n: int) -> list[int]:
    got = []
    async for item in subscription:
        got.append(item)
        if len(got) == n:
            break
    return got


async def test_many_clients_share_one_upstream() -> None:
    source = Source()
    upstream = shared(source)
    a, b, c = upstream.subscribe(), upstream.subscribe(), upstream.subscribe()
    got = await asyncio.gather(take(a, 5), take(b, 5), take(c, 5))
    assert got[0] == got[1] == got[2] == [0, 1, 2, 3, 4]
    assert source.opened == 1
    await upstream.close()


async def test_a_broken_upstream_is_reopened_and_clients_stay() -> None:
    source = Source(break_after=3)
    upstream = shared(source)
    got = await take(upstream.subscribe(), 8)
    assert got == list(range(8))  # nothing lost, nothing repeated: the source resumes
    assert source.opened == 2
    await upstream.close()


async def test_an_ended_upstream_ends_every_client_cleanly() -> None:
    source = Source(end_after=4)
    upstream = shared(source)
    a, b = upstream.subscribe(), upstream.subscribe()
    got = await asyncio.wait_for(asyncio.gather(take(a, 99), take(b, 99)), 5)
    assert got == [[0, 1, 2, 3], [0, 1, 2, 3]]
    assert upstream.clients.closed


async def test_the_last_client_leaving_closes_it_and_the_next_reopens_it() -> None:
    source = Source()
    upstream = shared(source)
    first = upstream.subscribe()
    await take(first, 2)  # leaving: the iterator's exit unsubscribes
    for _ in range(100):
        if source.closed:
            break
        await asyncio.sleep(0.01)
    assert source.closed == 1
    assert len(await take(upstream.subscribe(), 2)) == 2
    assert source.opened == 2
    await upstream.close()
    assert source.closed == 2
