"""The summary printed at the end of a run."""

from __future__ import annotations

from offline.job import OfflineReport


def summary_lines(report: OfflineReport) -> list[str]:
    """Plain lines, so the summary reads the same in a terminal, a log and a pipe."""
    lines = [
        f"lines           {len(report.lines)}",
        f"skipped cycles  {report.skipped}",
        f"speech          {report.speech_s:.1f} s",
        f"media           {report.media_s:.1f} s",
        f"wall            {report.wall_s:.1f} s",
        f"speed           {report.speed_x:.1f}× real time",
    ]
    if report.errors:
        lines.append(f"failed cycles   {len(report.errors)} (the log says why)")
    lines.append("files written")
    lines += [f"  {path}" for path in report.files]
    lines += [f"note: {note}" for note in report.notes]
    return lines
