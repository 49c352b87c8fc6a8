"""The embedded describer on frames with known text and motion: it says what was drawn, only."""

from __future__ import annotations

import re

import numpy as np
import pytest

from models.describers.embedded import EmbeddedDescriber
from models.describers.screen_text import ScreenTextReader
from models.messages import SKIP_ANSWER, Intensity
from tests.unit.models.describers.test_embedded import answer, request
from tests.unit.models.describers.test_scene_cues import read_clip
from tests.unit.models.describers.text_frames import board

TEXT_CLAIM = re.compile(r'"|\b(clock|score\w*|reads?|text|caption)\b', re.IGNORECASE)
PEOPLE_CLAIM = re.compile(r"\b(person|people|face|someone)\b", re.IGNORECASE)
DIRECTION = re.compile(r"\b(left|right|up|down|upwards|downwards)\b")


@pytest.fixture(scope="module")
def reader() -> ScreenTextReader:
    return ScreenTextReader()  # the OCR models load once for the module


def describer(reader: ScreenTextReader) -> EmbeddedDescriber:
    return EmbeddedDescriber(text_reader=reader)


def quoted(text: str) -> list[str]:
    return re.findall(r'"([^"]+)"', text)


def test_a_clock_that_ticks_is_read_then_followed(reader: ScreenTextReader) -> None:
    d = describer(reader)
    first = answer(d, request([board(clock="12:04")] * 4))
    assert "12:04" in first
    second = answer(d, request([board(clock="12:05")] * 4))
    assert "12:05" in second and "clock" in second
    assert answer(d, request([board(clock="12:05")] * 4)) == SKIP_ANSWER
    assert not PEOPLE_CLAIM.search(first + second)


def test_a_score_change_is_named(reader: ScreenTextReader) -> None:
    d = describer(reader)
    first = answer(d, request([board(score="HOME 2-1 AWAY")] * 4))
    assert [q.replace("–", "-") for q in quoted(first)] == ["HOME 2-1 AWAY"]
    second = answer(d, request([board(score="HOME 3-1 AWAY")] * 4))
    assert "score is now 3–1" in second or "scoreline changes to 3–1" in second


def test_a_caption_is_quoted_and_nothing_else_is(reader: ScreenTextReader) -> None:
    d = describer(reader)
    answer(d, request([board(clock="12:04")] * 4))
    # A full read waits a window after the last one (the per-window OCR bound): the
    # caption is read in one of the next two windows, and the clock is not news again.
    captioned = [board(clock="12:04", caption="Kick-off in the final")] * 4
    texts = [answer(d, request(captioned)) for _ in range(2)]
    assert [quoted(t) for t in texts if t != SKIP_ANSWER] == [["Kick-off in the final"]]
    assert not any("12:04" in t for t in texts)


def test_a_block_moving_right_under_a_clock_is_motion_not_text(reader: ScreenTextReader) -> None:
    d = describer(reader)
    answer(d, request([board(clock="12:04", block_x=100)] * 4))
    moving = [board(clock="12:04", block_x=100 + 12 * i) for i in range(4)]
    text = answer(d, request(moving))
    assert "to the right" in text
    assert not TEXT_CLAIM.search(text), text
    moving_left = [board(block_x=300 - 12 * i) for i in range(4)]
    assert "to the left" in answer(describer(reader), request(moving_left))


def test_a_static_textless_board_gets_no_direction_text_or_people(
    reader: ScreenTextReader,
) -> None:
    d = describer(reader)
    text = answer(d, request([board(block_x=200)] * 4))
    assert text != SKIP_ANSWER
    assert not DIRECTION.search(text) and not TEXT_CLAIM.search(text)
    assert not PEOPLE_CLAIM.search(text)
    assert answer(d, request([board(block_x=200)] * 4)) == SKIP_ANSWER


@pytest.mark.parametrize("clip", ["bigbuckbunny.mp4", "bikes.mp4"])
def test_a_textless_real_clip_gets_no_text_claims(reader: ScreenTextReader, clip: str) -> None:
    d = describer(reader)
    frames = read_clip(clip, range(0, 121, 12))
    for start in range(0, 8):
        text = answer(d, request(frames[start : start + 4]))
        assert not TEXT_CLAIM.search(text), text


def test_a_question_about_text_quotes_what_is_on_screen(reader: ScreenTextReader) -> None:
    d = describer(reader)
    answer(d, request([board(score="HOME 2-1 AWAY")] * 4))
    text = answer(
        d, request([board(score="HOME 2-1 AWAY")] * 4, question="What does the scoreboard say?")
    )
    assert quoted(text) == ["HOME 2-1 AWAY"]
    plain = answer(describer(reader), request([board()] * 4, question="What does the sign say?"))
    assert "can't read any text" in plain


def test_text_reading_can_be_turned_off(reader: ScreenTextReader) -> None:
    d = EmbeddedDescriber(read_text=False, text_reader=reader)
    calls = reader.calls
    text = answer(d, request([board(clock="12:04")] * 4, hint=Intensity.NORMAL))
    assert "12:04" not in text and reader.calls == calls


def test_a_scene_question_with_no_text_on_screen_gets_a_scene_answer(
    reader: ScreenTextReader,
) -> None:
    d = describer(reader)
    dark = [np.full((360, 640, 3), 20, np.uint8)] * 4
    answer(d, request(dark))
    text = answer(d, request(dark, question="Is it night time?"))  # "time" is a text word
    assert "can't read" not in text
    assert "dark" in text
