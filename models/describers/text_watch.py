"""One stream's on-screen text across windows: when to run OCR, and what changed.

OCR runs on the newest frame only, and only when the cheap gate (text_regions.py) says so:

- a text-like region whose strokes held still since the shot's previous frame (overlays,
  captions and signs in a steady shot do; texture in a moving scene rarely does) is new
  since the last read, or shows new content: one full read (detection and recognition),
  at most once every ``full_every`` windows (up to ``max_full_every`` after reads that
  found nothing), so busy footage cannot make every cycle pay ~0.25 s;
- a line already read shows new content (a clock ticking, a score changing): recognition
  alone on that line, ~30 ms, at most ``max_rereads`` lines a window.

So a window costs at most one full read plus ``max_rereads`` line reads, and a static
picture, or one whose text regions are unchanged, costs none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from models.describers.scene_cues import resize_to_width
from models.describers.screen_text import ScreenTextReader, TextLine
from models.describers.text_regions import (
    GATE_WIDTH_PX,
    Box,
    TextRegions,
    content_changed,
    find_text_regions,
    overlaps,
)


@dataclass(frozen=True, slots=True)
class TextNews:
    """What the window's text did: lines that appeared, changed (before, now), or went."""

    appeared: tuple[TextLine, ...] = ()
    changed: tuple[tuple[TextLine, TextLine], ...] = ()
    gone: tuple[TextLine, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.appeared or self.changed or self.gone)


@dataclass(slots=True)
class TextWatch:
    """Lines known on screen and the gate's picture of the frame they were last checked in."""

    full_every: int = 2
    max_full_every: int = 6
    max_rereads: int = 3
    lines: tuple[TextLine, ...] = ()
    _checked: TextRegions | None = None
    _windows_since_full: int = field(default=1_000_000)
    _gap: int = 0  # windows between full reads now: doubles while reads find nothing new
    # Each line's pixels (grey, full size) when last read: small digits change too little
    # at the gate's half size to be sure of.
    _crops: dict[Box, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._gap = self.full_every

    def update(self, reader: ScreenTextReader, shot: Sequence[np.ndarray]) -> TextNews:
        """``shot``: the window's frames since its last cut, oldest first, BGR."""
        newest = shot[-1]
        # Text candidates are strokes that held still since the shot's previous frame; right
        # after a cut there is none, so the gate waits for the next window's evidence.
        # Both at the newest frame's gate size: an older frame decoded at half size can be a
        # row off otherwise (640x269 gives 134 rows, its 320x135 half 135).
        before = None
        if len(shot) > 1:
            small = resize_to_width(shot[-2], GATE_WIDTH_PX, like=newest)
            before = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        now = find_text_regions(newest, before)
        steady = now.boxes if now.steady else ()
        self._windows_since_full += 1
        news = TextNews()
        if self._windows_since_full >= self._gap and self._has_new_text(now, steady):
            news = self._full_read(reader, newest, now)
        elif self.lines and self._checked is not None:  # also when a full read must wait
            news = self._reread_changed(reader, newest, now)
        return news

    def _has_new_text(self, now: TextRegions, steady: tuple[Box, ...]) -> bool:
        seen = self._checked
        if seen is None or seen.gray.shape != now.gray.shape:
            return bool(steady)
        known = [gate_box(line.box, now.scale) for line in self.lines]
        for box in steady:
            if any(same_place(box, k) for k in known):
                continue  # a known line: rereading it is cheaper
            matched = any(overlaps(box, s) for s in seen.boxes)
            if not matched or content_changed(seen.gray, now.gray, box):
                return True
        return False

    def _full_read(self, reader: ScreenTextReader, frame: np.ndarray, now: TextRegions) -> TextNews:
        self._windows_since_full = 0
        read = reader.read(frame)
        appeared: list[TextLine] = []
        changed: list[tuple[TextLine, TextLine]] = []
        kept: list[TextLine] = []
        for line in read:
            before = next((o for o in self.lines if same_place(o.box, line.box)), None)
            if before is None:
                appeared.append(line)
            elif not same_text(before.text, line.text):
                changed.append((before, line))
        gone: list[TextLine] = []
        for old in self.lines:
            if any(same_place(old.box, line.box) for line in read):
                continue
            if self._vanished(old, now):
                gone.append(old)
            else:  # unread this time but still there: a miss is not a change
                kept.append(old)
        self.lines = tuple(sorted([*read, *kept], key=lambda line: (line.box[1], line.box[0])))
        self._checked = now
        # Texture that looks like text (leaves, a textured wall) passes the gate again and
        # again in busy footage: each read that finds nothing new (known lines aside) waits
        # twice as long, up to max_full_every windows; new or changed text resets the pace.
        found = bool(appeared or changed)
        self._gap = self.full_every if found else min(2 * self._gap, self.max_full_every)
        self._crops = {line.box: gray_crop(frame, line.box) for line in self.lines}
        return TextNews(tuple(appeared), tuple(changed), tuple(gone))

    def _reread_changed(
        self, reader: ScreenTextReader, frame: np.ndarray, now: TextRegions
    ) -> TextNews:
        assert self._checked is not None
        if self._checked.gray.shape != now.gray.shape:
            return TextNews()
        moved = [line for line in self.lines if self._line_changed(line, frame)]
        moved = moved[: self.max_rereads]
        if not moved:
            return TextNews()
        changed: list[tuple[TextLine, TextLine]] = []
        gone: list[TextLine] = []
        lines = list(self.lines)
        for old in moved:
            fresh = reader.reread(frame, old.box)
            if fresh is None:  # unreadable now: forget it, say "gone" only when it is
                lines.remove(old)
                if self._vanished(old, now):
                    gone.append(old)
                continue
            self._crops[old.box] = gray_crop(frame, old.box)
            if not same_text(fresh.text, old.text):
                changed.append((old, fresh))
                lines[lines.index(old)] = fresh
        self.lines = tuple(lines)
        self._checked = TextRegions(self._checked.boxes, now.gray, now.scale)
        return TextNews((), tuple(changed), tuple(gone))

    def _line_changed(self, line: TextLine, frame: np.ndarray) -> bool:
        before = self._crops.get(line.box)
        now = gray_crop(frame, line.box)
        if before is None or before.shape != now.shape:
            return True
        return content_changed(before, now, (0, 0, now.shape[1], now.shape[0]))

    def _vanished(self, line: TextLine, now: TextRegions) -> bool:
        """No text-like region left where the line was, and its pixels changed."""
        box = gate_box(line.box, now.scale)
        if any(overlaps(box, b, 0.2) for b in now.boxes):
            return False
        seen = self._checked
        return (
            seen is None
            or seen.gray.shape != now.gray.shape
            or content_changed(seen.gray, now.gray, box)
        )


def gray_crop(frame: np.ndarray, box: Box) -> np.ndarray:
    """The box of a BGR frame in grey (cropped first: converting the whole frame costs more)."""
    x, y, w, h = box
    part = frame[max(0, y) : y + h, max(0, x) : x + w]
    if part.size == 0:
        return np.empty(part.shape[:2], np.uint8)
    return cv2.cvtColor(part, cv2.COLOR_BGR2GRAY)


def gate_box(box: Box, scale: float) -> Box:
    x, y, w, h = (round(v * scale) for v in box)
    return x, y, max(1, w), max(1, h)


def same_place(a: Box, b: Box) -> bool:
    return overlaps(a, b, 0.3)


def same_text(a: str, b: str) -> bool:
    """Equal but for spacing and case: the engine reads "12:02 HOME" and "12:02HOME" by turns."""
    return "".join(a.split()).casefold() == "".join(b.split()).casefold()
