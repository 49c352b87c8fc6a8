"""StreamSpecStore: every stream's spec (id, source, settings) on disk, so streams outlive
the replicas that run them.

A new StreamGateway resumes every stored stream; a stream leaves the store only when it is
deleted. Each start of a stream (its first, or a resume after a restart) gets the next run
number, which keeps the transcript lines of different runs apart.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serve_app.sqlite_file import open_sqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (
    stream_id TEXT PRIMARY KEY,
    source    TEXT    NOT NULL,
    overrides TEXT    NOT NULL,  -- JSON object of per-stream settings, as the client gave them
    trusted   INTEGER NOT NULL,  -- the operator's own (config), not a client's
    runs      INTEGER NOT NULL DEFAULT 0,  -- kept when a stream is deleted: an id reused
    deleted   INTEGER NOT NULL DEFAULT 0   -- later goes on counting, its runs stay apart
);
"""


@dataclass(frozen=True, slots=True)
class StreamSpec:
    stream_id: str
    source: str
    overrides: dict[str, Any] | None = None
    trusted: bool = False


class StreamSpecStore:
    """A small SQLite file beside the transcripts; WAL so a reader never blocks the writer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = open_sqlite(path, SCHEMA)

    def save(self, spec: StreamSpec) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO streams (stream_id, source, overrides, trusted) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (stream_id) DO UPDATE SET source = excluded.source, "
                "overrides = excluded.overrides, trusted = excluded.trusted, deleted = 0",
                (spec.stream_id, spec.source, json.dumps(spec.overrides or {}), int(spec.trusted)),
            )

    def start(self, spec: StreamSpec) -> int:
        """Store the spec of a stream that (re)starts; its run number."""
        self.save(spec)
        return self.next_run(spec.stream_id)

    def next_run(self, stream_id: str) -> int:
        """Count one more start of the stream; its number (1 for the first)."""
        with self._lock:
            row = self._db.execute(
                "UPDATE streams SET runs = runs + 1 WHERE stream_id = ? RETURNING runs",
                (stream_id,),
            ).fetchone()
        return int(row[0]) if row else 1

    def remove(self, stream_id: str) -> None:
        with self._lock:
            self._db.execute("UPDATE streams SET deleted = 1 WHERE stream_id = ?", (stream_id,))

    def get(self, stream_id: str) -> StreamSpec | None:
        """The stream's spec, unless it was deleted (or never was)."""
        with self._lock:
            row = self._db.execute(
                "SELECT stream_id, source, overrides, trusted FROM streams "
                "WHERE stream_id = ? AND deleted = 0",
                (stream_id,),
            ).fetchone()
        return _spec(row) if row else None

    def all(self) -> list[StreamSpec]:
        with self._lock:
            rows = self._db.execute(
                "SELECT stream_id, source, overrides, trusted FROM streams WHERE deleted = 0 "
                "ORDER BY rowid"
            ).fetchall()
        return [_spec(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _spec(row: tuple[Any, ...]) -> StreamSpec:
    return StreamSpec(row[0], row[1], json.loads(row[2]) or None, bool(row[3]))
