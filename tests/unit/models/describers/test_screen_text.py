"""ScreenTextReader reads drawn text from the wheel's own models, and only confident text."""

from __future__ import annotations

import pytest
from rapidocr.utils import download_file

from models.describers import screen_text
from models.describers.screen_text import (
    MODEL_FILES,
    ScreenTextReader,
    accept,
    bundled_model_dir,
    normalise,
)
from tests.unit.models.describers.test_scene_cues import read_clip
from tests.unit.models.describers.text_frames import board, jpeg_roundtrip


@pytest.fixture(scope="module")
def reader() -> ScreenTextReader:
    """Loaded once for the module, with every download path of rapidocr made to fail."""
    download = download_file
    original = download.DownloadFile.run

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("rapidocr tried to download a model")

    download.DownloadFile.run = staticmethod(refuse)
    try:
        reader = ScreenTextReader()
        reader.read(board(clock="0:00"))
    finally:
        download.DownloadFile.run = original
    return reader


def test_the_models_are_the_wheels_own_files() -> None:
    models = bundled_model_dir()
    for name in MODEL_FILES.values():
        assert (models / name).stat().st_size > 100_000, name


def test_a_drawn_clock_and_score_are_read_exactly(reader: ScreenTextReader) -> None:
    lines = reader.read(jpeg_roundtrip(board(clock="12:04", score="HOME 2-1 AWAY")))
    assert [line.text for line in lines] == ["12:04", "HOME 2-1 AWAY"]
    assert all(line.score >= reader.min_score for line in lines)
    x, y, w, _h = lines[0].box
    assert 10 <= x <= 60 and 10 <= y <= 60 and 90 <= w <= 200  # where it was drawn


def test_a_known_line_is_reread_from_its_box_alone(reader: ScreenTextReader) -> None:
    first = reader.read(jpeg_roundtrip(board(clock="12:04")))[0]
    calls = reader.calls
    again = reader.reread(jpeg_roundtrip(board(clock="12:05")), first.box)
    assert again is not None and again.text == "12:05"
    assert reader.calls == calls + 1
    assert reader.reread(jpeg_roundtrip(board()), first.box) is None  # nothing there now


def test_frames_without_text_read_nothing(reader: ScreenTextReader) -> None:
    assert reader.read(board(block_x=200)) == ()
    for clip, indices in (("bigbuckbunny.mp4", range(0, 121, 60)), ("bikes.mp4", range(0, 25, 12))):
        for frame in read_clip(clip, indices):
            assert reader.read(frame) == (), clip


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("12 : 04", "12:04"), ("2 – 1", "2-1"), ("ＨＯＭＥ", "HOME"),
     ("  Kick-off   in\tthe final ", "Kick-off in the final")],
)  # fmt: skip
def test_readings_are_normalised(raw: str, clean: str) -> None:
    assert normalise(raw) == clean


@pytest.mark.parametrize(
    ("text", "score", "ok"),
    [("12:04", 0.99, True), ("30", 0.66, False), ("日", 0.85, False), ("日本", 0.99, False),
     ("A", 0.99, False), ("GOAL!", 0.95, True), ("GOAL!", 0.89, False)],
)  # fmt: skip
def test_only_confident_plausible_readings_pass(text: str, score: float, ok: bool) -> None:
    assert accept(text, score, 0.9) is ok


def test_one_reader_is_shared_per_process() -> None:
    assert screen_text.shared_reader() is screen_text.shared_reader()
