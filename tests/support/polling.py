"""Waiting on real threads and tasks in tests: poll a condition, drain an async iterator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(predicate: Callable[[], object], within_s: float = 10.0) -> None:
    """Poll until ``predicate`` holds; the bound only keeps a broken test from hanging."""
    async with asyncio.timeout(within_s):
        while not predicate():
            await asyncio.sleep(0.02)


async def drain(items: AsyncIterator[T]) -> list[T]:
    return [item async for item in items]
