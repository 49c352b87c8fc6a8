"""StreamAffinity: the replica a stream's requests go to, when a deployment runs several.

A stream's state (its capture in FrameIngest, its session in StreamGateway) lives on one
replica. Its requests go to the replica that holds it (the PlacementTable says which) while
that replica is live. A stream nobody live holds (new, or its replica died or was scaled
down) goes to the live replica holding fewest streams; ties are broken by rendezvous
hashing, so every caller, in every process, that sees the same replicas and the same table
picks the same one, and asking again gives the same answer.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Iterable


def rendezvous_weight(stream_id: str, replica: str) -> int:
    # A stable hash (Python's own is salted per process): every process must agree.
    digest = hashlib.blake2b(f"{stream_id}\0{replica}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def choose_replica(
    stream_id: str,
    holder: str | None,
    live: Collection[str],
    holders: Iterable[str] = (),
) -> str:
    """The replica for a request about ``stream_id``.

    ``holder``: the replica the table names for the stream (None: none); ``holders``: the
    holder of every placed stream, to count each live replica's load."""
    if not live:
        raise ValueError("no live replica to route a stream to")
    if holder is not None and holder in live:
        return holder
    loads = Counter({replica: 0 for replica in live})
    loads.update(replica for replica in holders if replica in loads)
    return min(live, key=lambda r: (loads[r], -rendezvous_weight(stream_id, r)))
