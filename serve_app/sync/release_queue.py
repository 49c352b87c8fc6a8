"""ReleaseQueue: results wait here until the display clock reaches the frames they speak of."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReleaseTime:
    """When a result goes out, and whether it missed its frames."""

    at: float
    late: bool
    lateness_s: float


def release_time(
    anchor_capture_wall: float, display_delay_s: float, ready_at: float, hold: bool
) -> ReleaseTime:
    """The instant a result about a frame captured at ``anchor_capture_wall`` is released.

    The frame is on screen at capture + delay. Held results wait for that; a result ready
    after it goes at once and is late by the difference. Without holding (the original
    policy) results go when ready, early or late.
    """
    shown_at = anchor_capture_wall + display_delay_s
    lateness = ready_at - shown_at
    late = lateness > 0
    at = max(ready_at, shown_at) if hold else ready_at
    return ReleaseTime(at=at, late=late, lateness_s=lateness)


@dataclass(order=True)
class _Entry(Generic[T]):
    at: float
    order: int
    item: T = field(compare=False)


class ReleaseQueue(Generic[T]):
    """Items ordered by release time; ties keep insertion order."""

    def __init__(self) -> None:
        self._heap: list[_Entry[T]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, at: float, item: T) -> None:
        heapq.heappush(self._heap, _Entry(at, next(self._order), item))

    def next_at(self) -> float | None:
        return self._heap[0].at if self._heap else None

    def pop_due(self, now: float) -> list[T]:
        due: list[T] = []
        while self._heap and self._heap[0].at <= now:
            due.append(heapq.heappop(self._heap).item)
        return due

    def drain(self) -> list[T]:
        items = [e.item for e in sorted(self._heap)]
        self._heap.clear()
        return items
