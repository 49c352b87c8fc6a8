"""TranscriptStore: every commentary line, kept in SQLite so none is lost on restart.

Append-only: each line is a new row, and each run of a stream (its first start, each resume
after a restart) has its own run number, so a restarted stream counting its cycles from 1
again never overwrites what an earlier run said. Lines are read in pages, oldest first.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from serve_app.sqlite_file import open_sqlite

# A new table name: files written before lines were append-only keep their old table untouched.
SCHEMA = """
CREATE TABLE IF NOT EXISTS transcript (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id   TEXT    NOT NULL,
    cycle       INTEGER NOT NULL,
    media_start REAL    NOT NULL,  -- media time of the oldest frame the line speaks of
    media_ts    REAL    NOT NULL,  -- media time of the newest frame: where the line is shown
    wall_ts     REAL    NOT NULL,
    text        TEXT    NOT NULL,
    kind        TEXT    NOT NULL DEFAULT 'commentary',  -- or 'answer' to a question
    run         INTEGER NOT NULL DEFAULT 1,
    seq         INTEGER NOT NULL DEFAULT -1  -- the event's seq: replayed with it after a restart
);
CREATE INDEX IF NOT EXISTS transcript_by_stream ON transcript (stream_id, id);
"""
COLUMNS = "stream_id, cycle, media_start, media_ts, wall_ts, text, kind, run, seq"
PAGE_LINES = 1_000  # a page of an export: small enough to hold, large enough to be quick


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    stream_id: str
    cycle: int
    media_start: float
    media_ts: float
    wall_ts: float
    text: str
    kind: str = "commentary"
    run: int = 1
    seq: int = -1


class TranscriptStore:
    """A small SQLite file per service; WAL so readers never block the writer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = open_sqlite(path, SCHEMA)

    def add(self, line: TranscriptLine) -> int:
        """Append a line; its id, which orders it after every line stored before."""
        with self._lock:
            cursor = self._db.execute(
                f"INSERT INTO transcript ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    line.stream_id,
                    line.cycle,
                    line.media_start,
                    line.media_ts,
                    line.wall_ts,
                    line.text,
                    line.kind,
                    line.run,
                    line.seq,
                ),
            )
        return int(cursor.lastrowid or 0)

    def page(
        self, stream_id: str, after_id: int = 0, limit: int = PAGE_LINES
    ) -> list[tuple[int, TranscriptLine]]:
        """Up to ``limit`` lines stored after ``after_id``, oldest first, with their ids."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT id, {COLUMNS} FROM transcript WHERE stream_id = ? AND id > ? "
                "ORDER BY id LIMIT ?",
                (stream_id, after_id, limit),
            ).fetchall()
        return [(row[0], TranscriptLine(*row[1:])) for row in rows]

    def iter_lines(self, stream_id: str, page_lines: int = PAGE_LINES) -> Iterator[TranscriptLine]:
        """Every line of the stream, oldest first, read a page at a time: no cap."""
        after = 0
        while page := self.page(stream_id, after, page_lines):
            yield from (line for _, line in page)
            after = page[-1][0]

    def released_since(self, stream_id: str, wall_ts: float) -> list[TranscriptLine]:
        """The stream's lines released at or after ``wall_ts``, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {COLUMNS} FROM transcript WHERE stream_id = ? AND wall_ts >= ? "
                "ORDER BY id",
                (stream_id, wall_ts),
            ).fetchall()
        return [TranscriptLine(*row) for row in rows]

    def lines(self, stream_id: str) -> list[TranscriptLine]:
        return list(self.iter_lines(stream_id))

    def close(self) -> None:
        with self._lock:
            self._db.close()
