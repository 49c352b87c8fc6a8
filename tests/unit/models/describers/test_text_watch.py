"""TextWatch runs OCR only when text regions change, a bounded number of times a window."""

from __future__ import annotations

import numpy as np

from models.describers.screen_text import TextLine
from models.describers.text_regions import find_text_regions, gate_gray
from models.describers.text_watch import TextWatch
from tests.unit.models.describers.test_scene_cues import read_clip
from tests.unit.models.describers.text_frames import board, jpeg_roundtrip

CLOCK_BOX = (30, 25, 160, 55)  # where board() draws its clock, in frame pixels


class ScriptedReader:
    """Stands in for the OCR engine: reads what the test says is on screen, counts calls."""

    def __init__(self) -> None:
        self.on_screen: dict[tuple[int, int, int, int], str] = {}
        self.full_reads = 0
        self.rereads = 0

    def read(self, frame: np.ndarray) -> tuple[TextLine, ...]:
        self.full_reads += 1
        return tuple(TextLine(text, 0.99, box) for box, text in self.on_screen.items())

    def reread(self, frame: np.ndarray, box: tuple[int, int, int, int]) -> TextLine | None:
        self.rereads += 1
        text = self.on_screen.get(box)
        return TextLine(text, 0.99, box) if text else None


def window(image: np.ndarray) -> list[np.ndarray]:
    return [jpeg_roundtrip(image)] * 4


def test_the_gate_finds_drawn_text_and_ignores_a_flat_or_moving_picture() -> None:
    regions = find_text_regions(board(clock="12:04", caption="Kick-off in the final"))
    assert len(regions.boxes) >= 2
    assert find_text_regions(board()).boxes == ()
    # The same clock over a scene that moved: its strokes held still, the block's did not.
    before = gate_gray(board(clock="12:04", block_x=100))[0]
    now = find_text_regions(board(clock="12:04", block_x=160), before)
    assert len(now.boxes) == 1 and now.boxes[0][1] < 40


def test_an_unchanged_screen_is_read_once() -> None:
    reader, watch = ScriptedReader(), TextWatch()
    reader.on_screen = {CLOCK_BOX: "12:04"}
    news = watch.update(reader, window(board(clock="12:04")))
    assert [line.text for line in news.appeared] == ["12:04"]
    for _ in range(4):
        assert not watch.update(reader, window(board(clock="12:04")))
    assert (reader.full_reads, reader.rereads) == (1, 0)


def test_a_changed_line_is_reread_alone() -> None:
    reader, watch = ScriptedReader(), TextWatch()
    reader.on_screen = {CLOCK_BOX: "12:04"}
    watch.update(reader, window(board(clock="12:04")))
    reader.on_screen = {CLOCK_BOX: "12:05"}
    news = watch.update(reader, window(board(clock="12:05")))
    assert [(a.text, b.text) for a, b in news.changed] == [("12:04", "12:05")]
    assert (reader.full_reads, reader.rereads) == (1, 1)


def test_text_that_goes_is_reported_gone() -> None:
    reader, watch = ScriptedReader(), TextWatch()
    reader.on_screen = {CLOCK_BOX: "12:04"}
    watch.update(reader, window(board(clock="12:04")))
    reader.on_screen = {}
    news = watch.update(reader, window(board()))
    assert [line.text for line in news.gone] == ["12:04"]
    assert watch.lines == ()


def test_a_textless_clip_costs_a_few_reads_at_most() -> None:
    reader, watch = ScriptedReader(), TextWatch()
    frames = read_clip("bigbuckbunny.mp4", range(0, 132, 6))
    windows = [frames[i : i + 4] for i in range(0, len(frames) - 3)]
    for shot in windows:
        news = watch.update(reader, shot)
        assert not news
    # Each window may cost one full read at most, and fruitless reads back off.
    assert reader.full_reads <= len(windows) // 2
    assert reader.rereads == 0
