"""PlacementTable: which replica of a deployment holds each stream, shared by every process.

When FrameIngest and StreamGateway run several replicas, each stream lives on one of them,
and every caller must find it there. The holder writes its claim here; the request routers
read it (deployments/stream_router.py). A claim is a lease: its holder renews it every
RENEW_S, and one that has not been renewed for LEASE_TTL_S (its replica died) may be taken
by another replica. A holder going away on purpose releases its leases at once.

Each row also carries its holder's last snapshot of the stream (its state as the API lists
it), so any replica can list every stream without asking the others.

The file lives in the data directory beside the transcripts. SQLite in WAL mode needs
every process using it on one host, so the replicas of both deployments run on one node
(docs/deploy.md).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serve_app.sqlite_file import open_sqlite

LEASE_TTL_S = 5.0  # a holder silent this long is taken for dead
RENEW_S = 1.0  # how often a holder renews its leases (and publishes its snapshots)

SCHEMA = """
CREATE TABLE IF NOT EXISTS placements (
    deployment TEXT NOT NULL,
    stream_id  TEXT NOT NULL,
    replica    TEXT NOT NULL,
    expires    REAL NOT NULL,             -- wall-clock time the lease lapses unless renewed
    snapshot   TEXT NOT NULL DEFAULT '{}', -- the stream as its holder last described it
    PRIMARY KEY (deployment, stream_id)
);
"""


@dataclass(frozen=True, slots=True)
class Placement:
    replica: str
    expires: float
    snapshot: dict[str, Any] = field(default_factory=dict)

    def live(self, now: float) -> bool:
        return self.expires > now


class PlacementTable:
    """One SQLite file for every deployment's placements; safe across threads and processes."""

    def __init__(self, path: Path, ttl_s: float = LEASE_TTL_S) -> None:
        self.path = path
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._db = open_sqlite(path, SCHEMA)

    def claim(
        self, deployment: str, stream_id: str, replica: str, now: float, take: bool = False
    ) -> bool:
        """Hold the stream. Refused (False) while another replica's lease is live, unless
        ``take``: the caller knows it is the stream's holder from now on (it just opened it)."""
        condition = (
            "" if take else "WHERE placements.replica = excluded.replica OR placements.expires <= ?"
        )
        params: tuple[Any, ...] = (deployment, stream_id, replica, now + self.ttl_s)
        with self._lock:
            cursor = self._db.execute(
                "INSERT INTO placements (deployment, stream_id, replica, expires) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (deployment, stream_id) DO UPDATE SET "
                f"replica = excluded.replica, expires = excluded.expires {condition}",
                params if take else (*params, now),
            )
            return cursor.rowcount == 1

    def renew(
        self, deployment: str, replica: str, now: float, snapshots: dict[str, dict[str, Any]]
    ) -> set[str]:
        """Renew every lease the replica holds, storing its snapshots; the streams it holds.

        A stream it runs but no longer holds was taken by another replica (this one looked
        dead): the caller must let it go."""
        with self._lock:
            self._db.execute(
                "UPDATE placements SET expires = ? WHERE deployment = ? AND replica = ?",
                (now + self.ttl_s, deployment, replica),
            )
            self._db.executemany(
                "UPDATE placements SET snapshot = ? "
                "WHERE deployment = ? AND stream_id = ? AND replica = ?",
                [
                    (json.dumps(snapshot, default=str), deployment, stream_id, replica)
                    for stream_id, snapshot in snapshots.items()
                ],
            )
            rows = self._db.execute(
                "SELECT stream_id FROM placements WHERE deployment = ? AND replica = ?",
                (deployment, replica),
            ).fetchall()
        return {row[0] for row in rows}

    def release(self, deployment: str, stream_id: str, replica: str) -> None:
        """The stream is gone (deleted): forget its placement if the replica holds it."""
        with self._lock:
            self._db.execute(
                "DELETE FROM placements WHERE deployment = ? AND stream_id = ? AND replica = ?",
                (deployment, stream_id, replica),
            )

    def release_all(self, deployment: str, replica: str) -> None:
        """The replica is going away: its leases lapse now, so others take its streams at once."""
        with self._lock:
            self._db.execute(
                "UPDATE placements SET expires = 0 WHERE deployment = ? AND replica = ?",
                (deployment, replica),
            )

    def holder(self, deployment: str, stream_id: str) -> Placement | None:
        with self._lock:
            row = self._db.execute(
                "SELECT replica, expires FROM placements WHERE deployment = ? AND stream_id = ?",
                (deployment, stream_id),
            ).fetchone()
        return Placement(row[0], row[1]) if row else None

    def holders(self, deployment: str) -> list[str]:
        """The holder of every placed stream (no snapshots: what a router counts loads by)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT replica FROM placements WHERE deployment = ?", (deployment,)
            ).fetchall()
        return [row[0] for row in rows]

    def placements(self, deployment: str) -> dict[str, Placement]:
        """Every stream's placement, with its snapshot."""
        with self._lock:
            rows = self._db.execute(
                "SELECT stream_id, replica, expires, snapshot FROM placements "
                "WHERE deployment = ? ORDER BY stream_id",
                (deployment,),
            ).fetchall()
        return {row[0]: Placement(row[1], row[2], json.loads(row[3])) for row in rows}

    def close(self) -> None:
        with self._lock:
            self._db.close()
