"""detached: a task that outlives the request that started it.

A task inherits its creator's context, and Ray Serve keeps each request's identity there:
every handle call made from the task would carry the request's id, be cancelled with it,
and (under a request router that matches calls to requests by that id, as the stream and
utterance routers do) two concurrent calls sharing it could never both be routed. A
stream's session, recorder or shared feed is no part of the request that started it, so it
runs in an empty context and each of its calls is a request of its own.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def detached(coroutine: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
    return asyncio.get_running_loop().create_task(
        coroutine, name=name, context=contextvars.Context()
    )
