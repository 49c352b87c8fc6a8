"""TranscriptStore: every commentary line, kept in SQLite so none is lost on restart."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS lines (
    stream_id   TEXT    NOT NULL,
    cycle       INTEGER NOT NULL,
    media_start REAL    NOT NULL,  -- media time of the oldest frame the line speaks of
    media_ts    REAL    NOT NULL,  -- media time of the newest frame: where the line is shown
    wall_ts     REAL    NOT NULL,
    text        TEXT    NOT NULL,
    kind        TEXT    NOT NULL DEFAULT 'commentary',  -- or 'answer' to a question
    PRIMARY KEY (stream_id, cycle, kind)
);
CREATE INDEX IF NOT EXISTS lines_by_stream ON lines (stream_id, media_ts);
"""


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    stream_id: str
    cycle: int
    media_start: float
    media_ts: float
    wall_ts: float
    text: str
    kind: str = "commentary"


class TranscriptStore:
    """A small SQLite file per service; WAL so readers never block the writer."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def add(self, line: TranscriptLine) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO lines VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    line.stream_id,
                    line.cycle,
                    line.media_start,
                    line.media_ts,
                    line.wall_ts,
                    line.text,
                    line.kind,
                ),
            )

    def lines(self, stream_id: str, limit: int = 10_000) -> list[TranscriptLine]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM lines WHERE stream_id = ? ORDER BY wall_ts LIMIT ?",
                (stream_id, limit),
            ).fetchall()
        return [TranscriptLine(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
