"""TextWatch runs OCR only when text regions change, a bounded number of times a window."""

from __future__ import annotations

import cv2
import numpy as np

from models.describers.scene_cues import resize_to_width
from models.describers.screen_text import TextLine
from models.describers.text_regions import GATE_WIDTH_PX, find_text_regions
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


def gate_gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(resize_to_width(frame, GATE_WIDTH_PX), cv2.COLOR_BGR2GRAY)


def test_the_gate_finds_drawn_text_and_ignores_a_flat_or_moving_picture() -> None:
    regions = find_text_regions(board(clock="12:04", caption="Kick-off in the final"))
    assert len(regions.boxes) >= 2
    assert find_text_regions(board()).boxes == ()
    # The same clock over a scene that moved: its strokes held still, the block's did not.
    before = gate_gray(board(clock="12:04", block_x=100))
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
        watch.update(reader, shot)
    # 19 windows: the gate and the back-off after fruitless reads allow 4 full reads.
    assert len(windows) == 19
    assert reader.full_reads <= 4
    assert reader.rereads == 0


def dashes(shift: int) -> np.ndarray:
    """Rows of white dashes, 640x269: text-like to the gate, a moving texture when shifted."""
    image = np.full((269, 640, 3), (60, 120, 50), np.uint8)
    for y in range(60, 200, 40):
        for x in range(40 + shift, 600, 16):
            cv2.rectangle(image, (x, y), (x + 7, y + 15), (255, 255, 255), -1)
    return image


def test_an_odd_height_half_size_older_frame_still_masks_moving_texture() -> None:
    # The describer decodes older frames at half size: 640x269 -> 320x135, one row more than
    # the newest frame's 134 at the gate's width.
    ok, encoded = cv2.imencode(".jpg", dashes(0), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    older = cv2.imdecode(encoded, cv2.IMREAD_REDUCED_COLOR_2)
    newest = jpeg_roundtrip(dashes(8))
    assert older.shape[:2] == (135, 320)
    assert find_text_regions(newest).boxes  # unmasked, the dashes look like text lines
    reader, watch = ScriptedReader(), TextWatch()
    watch.update(reader, [older, newest])
    assert reader.full_reads == 0  # masked: every dash moved, none is steady text
