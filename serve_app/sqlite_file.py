"""open_sqlite: the service's small SQLite files (transcripts, streams), opened one way.

WAL so a reader never blocks the writer; ``synchronous=NORMAL`` because WAL keeps the file
consistent across a crash and only the last moments' writes could be lost. The connection is
shared across threads (each store guards it with its own lock) and commits every statement.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_sqlite(path: Path, schema: str) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(schema)
    return db
