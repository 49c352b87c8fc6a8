"""UtteranceAffinity: every piece of one utterance goes to the replica that started it.

A streaming vocoder (Token2wav) keeps an utterance's caches between its pieces, on the
replica that took the first one. Once the Vocoder autoscales, a balancer that picks per
request would send the next piece elsewhere, where it starts over from silence: clicks and
lost words. So each new utterance is placed on the live replica with the fewest streams
pinned to it (a freshly scaled-up replica takes the next ones), and its later pieces follow
it. A stream speaks one utterance at a time, so a stream has one pin, replaced by its next
utterance. A stream whose last utterance never got its final piece (a cycle cut short) stays
where it is: its next utterance replaces the stale caches there, and its clean-up finds them.
A replica that dies or drains loses its pins: the next piece starts anew elsewhere, the best
that can be done once the caches are gone.

Every answer is idempotent: a router asks again while a request waits for a busy replica.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Hashable
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class _Pin:
    utterance_id: str
    replica: Hashable
    finished: bool = False  # its final piece has been placed: no caches left behind
    closed: bool = False  # the stream is gone: kept only to route its clean-up


MAX_CLOSED_PINS = 1024


class UtteranceAffinity:
    """Which replica holds each stream's current utterance. Plain Python: no Ray."""

    def __init__(self) -> None:
        self._pins: dict[str, _Pin] = {}  # stream id -> its current utterance's replica

    def place(
        self,
        stream_id: str,
        utterance_id: str,
        live: Collection[Hashable],
        final: bool = False,
    ) -> Hashable:
        """The replica for this piece: the utterance's own, or a chosen one for a new one."""
        if not live:
            raise ValueError("no live replica to place an utterance on")
        pin = self._pins.get(stream_id)
        usable = pin is not None and not pin.closed and pin.replica in live
        if pin is not None and usable and pin.utterance_id == utterance_id:
            replica = pin.replica
        elif pin is not None and usable and not pin.finished:
            replica = pin.replica  # stale caches of a cut-short utterance wait there
        else:
            loads = self.loads(live, excluding=stream_id)
            replica = min(live, key=lambda r: (loads[r], str(r)))
        finished = final or (pin is not None and pin.utterance_id == utterance_id and pin.finished)
        self._pins[stream_id] = _Pin(utterance_id, replica, finished=finished)
        return replica

    def lost_replica(
        self, stream_id: str, utterance_id: str, live: Collection[Hashable]
    ) -> Hashable | None:
        """The replica that held this utterance mid-way and has since left (died or drained
        by a downscale); None otherwise. Its next piece starts anew wherever it is placed.
        Asked before `place`: once placed, the utterance has a live replica again."""
        pin = self._pins.get(stream_id)
        if pin is None or pin.closed or pin.finished or pin.utterance_id != utterance_id:
            return None
        return None if pin.replica in live else pin.replica

    def replica_for_stream(self, stream_id: str, live: Collection[Hashable]) -> Hashable | None:
        """The live replica holding the stream's utterance, if any (for its clean-up)."""
        pin = self._pins.get(stream_id)
        return pin.replica if pin is not None and pin.replica in live else None

    def stream_closed(self, stream_id: str) -> None:
        """The stream is gone: its pin no longer counts as load (its clean-up still finds it)."""
        pin = self._pins.pop(stream_id, None)
        if pin is not None:
            self._pins[stream_id] = replace(pin, closed=True)  # now the newest closed pin
        closed = [s for s, p in self._pins.items() if p.closed]
        for old in closed[: max(0, len(closed) - MAX_CLOSED_PINS)]:
            del self._pins[old]

    def loads(self, live: Collection[Hashable], excluding: str | None = None) -> Counter[Hashable]:
        """Streams pinned to each live replica."""
        loads: Counter[Hashable] = Counter({replica: 0 for replica in live})
        for stream_id, pin in self._pins.items():
            if stream_id != excluding and not pin.closed and pin.replica in loads:
                loads[pin.replica] += 1
        return loads


_TABLES: dict[Hashable, UtteranceAffinity] = {}


def affinity_table(key: Hashable) -> UtteranceAffinity:
    """The process's table for one deployment. It lives here, in a module imported the usual
    way, because Serve pickles a router's own module by value and reloads it on every config
    update: state kept there would be wiped in the middle of utterances."""
    return _TABLES.setdefault(key, UtteranceAffinity())
