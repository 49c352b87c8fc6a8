"""SharedUpstream: one upstream per stream, opened for the first client, shared by the rest.

The upstream runs while anyone listens and feeds a :class:`Broadcaster`. When it breaks
(a replica restarted, a call failed) it is opened again after a short pause and the clients
never notice; when it ends (the stream was deleted) every client is ended cleanly; when the
last client leaves it is closed, and the next client opens it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

from serve_app.detached import detached
from serve_app.http.broadcaster import Broadcaster, Subscription

T = TypeVar("T")

log = logging.getLogger(__name__)

RETRY_S = 0.5


class SharedUpstream(Generic[T]):
    def __init__(
        self,
        name: str,
        broadcaster: Broadcaster[T],
        open_upstream: Callable[[], AsyncIterator[T]],
        retry_s: float = RETRY_S,
        on_break: Callable[[Exception], None] | None = None,
    ) -> None:
        self.name = name
        self.clients = broadcaster
        self._open = open_upstream  # called again on each reconnect: it may resume
        self._retry_s = retry_s
        self._on_break = on_break  # tells the clients, who stay connected meanwhile
        self._task: asyncio.Task[None] | None = None
        self.opened = 0  # upstreams opened so far (reconnects included)

    def subscribe(self) -> Subscription[T]:
        subscription = self.clients.subscribe()
        if self._task is None or self._task.done():
            # A shared upstream must outlive the client that opened it.
            self._task = detached(self._run(), name=self.name)
        return subscription

    async def close(self) -> None:
        self.clients.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        while len(self.clients):
            try:
                if await self._pump():
                    self.clients.close()  # the upstream ended: so does every client, cleanly
                    return
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("%s: upstream broke (%s); reconnecting", self.name, error)
                if self._on_break is not None:
                    self._on_break(error)
                await asyncio.sleep(self._retry_s)

    async def _pump(self) -> bool:
        """True when the upstream ended; False when the last client left first."""
        upstream = self._open()
        self.opened += 1
        try:
            async for item in upstream:
                self.clients.publish(item)
                if not len(self.clients):
                    return False
            return True
        finally:
            # An async generator releases its call in its own finally; a bare Serve response
            # must be cancelled, or the callee keeps the call (and a request slot) forever.
            close = getattr(upstream, "aclose", None)
            if close is not None:
                await close()
            cancel = getattr(upstream, "cancel", None)
            if cancel is not None:
                cancel()
