"""detached: a task started in a request's context runs outside it."""

from __future__ import annotations

import asyncio
import contextvars

from serve_app.detached import detached

REQUEST = contextvars.ContextVar("request", default="none")


async def test_a_detached_task_does_not_see_the_context_of_its_creator() -> None:
    async def seen() -> str:
        return REQUEST.get()

    REQUEST.set("POST /api/streams")  # as Serve keeps the request being handled
    inherited = await asyncio.create_task(seen())
    assert inherited == "POST /api/streams", "a plain task inherits it"
    assert await detached(seen(), name="session") == "none"
