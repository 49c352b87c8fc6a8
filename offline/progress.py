"""The progress bar: media time done out of the whole, on stderr (rich)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


class MediaProgress:
    """``with MediaProgress(total_s, console) as bar: bar.at(media_s)``."""

    def __init__(self, total_s: float, console: Console, enabled: bool = True) -> None:
        self._total_s = max(total_s, 0.001)
        self._progress = Progress(
            TextColumn("commentating"),
            BarColumn(),
            TextColumn("{task.completed:6.1f} / {task.total:.1f} s of video"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
            # Logs go through the same console, above the bar; stray prints are not ours.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task = self._progress.add_task("media", total=self._total_s)

    def __enter__(self) -> MediaProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def at(self, media_s: float) -> None:
        """The walk has reached ``media_s`` (an estimate's total grows if the file is longer)."""
        if media_s > self._total_s:
            self._total_s = media_s
            self._progress.update(self._task, total=media_s)
        self._progress.update(self._task, completed=media_s)

    def done(self, media_s: float) -> None:
        self._progress.update(self._task, total=max(media_s, 0.001), completed=media_s)
