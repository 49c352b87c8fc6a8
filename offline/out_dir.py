"""Where the outputs go: ``--out DIR``, or ``<stem>.commentary/`` next to the input."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


class OutputError(ValueError):
    """The output folder cannot be used. The message says which and why."""


@dataclass(frozen=True, slots=True)
class OutputPaths:
    """The files one run writes, all in one folder, named after the input."""

    folder: Path
    stem: str

    @property
    def vtt(self) -> Path:
        return self.folder / f"{self.stem}.vtt"

    @property
    def srt(self) -> Path:
        return self.folder / f"{self.stem}.srt"

    @property
    def wav(self) -> Path:
        return self.folder / f"{self.stem}.commentary.wav"

    @property
    def mp4(self) -> Path:
        return self.folder / f"{self.stem}.commentary.mp4"

    @property
    def line_list(self) -> Path:
        return self.folder / f"{self.stem}.commentary.json"


def default_folder(video: Path) -> Path:
    return video.parent / f"{video.stem}.commentary"


def prepare_outputs(video: Path, folder: Path | None) -> OutputPaths:
    """Create the folder if needed and prove it writable, or raise OutputError."""
    target = folder if folder is not None else default_folder(video)
    try:
        target.mkdir(parents=True, exist_ok=True)
        # Root may write where the mode bits say no, and a mount may be read-only whatever
        # they say: only writing a file proves it.
        handle, probe = tempfile.mkstemp(prefix=".write-check-", dir=target)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise OutputError(f"cannot write to output folder '{target}': {reason}") from None
    return OutputPaths(folder=target, stem=video.stem)
