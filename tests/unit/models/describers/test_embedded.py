"""EmbeddedDescriber: streamed, hedged commentary about what changed, or "..." when nothing did."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from models.describers.base import Describer
from models.describers.embedded import EmbeddedDescriber
from models.messages import SKIP_ANSWER, DescribeRequest, Intensity, TextDelta, TimedFrame
from tests.unit.models.describers.test_scene_cues import read_clip, square_at, textured_background

HEIGHT, WIDTH = 360, 640
# Words the measurements cannot back up: the describer must never say them.
UNSEEABLE = re.compile(r"\b(rabbit|bunny|car|bike|phone|dog|cat|tree|animal|happy|angry)\b", re.I)


def jpeg(image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
    assert ok
    return encoded.tobytes()


def request(
    images: list[np.ndarray],
    stream_id: str = "s1",
    hint: Intensity = Intensity.NORMAL,
    question: str | None = None,
) -> DescribeRequest:
    frames = tuple(TimedFrame(jpeg(image), 0.5 * i) for i, image in enumerate(images))
    return DescribeRequest(stream_id, frames, hint, "Comment on the video.", 64, question=question)


def answer(describer: EmbeddedDescriber, req: DescribeRequest) -> str:
    pieces = list(describer.describe(req))
    assert pieces, "every request yields at least one TextDelta"
    assert all(isinstance(p, TextDelta) and p.text.strip() for p in pieces)
    text = "".join(p.text for p in pieces)
    assert text == SKIP_ANSWER or re.search(r"[.!?]$", text), text
    assert not UNSEEABLE.search(text), f"claims what it cannot see: {text}"
    return text


def static_images() -> list[np.ndarray]:
    return [textured_background()] * 4


def test_it_is_a_describer_without_speech() -> None:
    describer = EmbeddedDescriber(read_text=False)
    assert isinstance(describer, Describer)
    assert describer.name == "embedded"


def test_a_static_scene_is_described_once_then_skipped() -> None:
    describer = EmbeddedDescriber(read_text=False)
    assert answer(describer, request(static_images())) != SKIP_ANSWER
    assert answer(describer, request(static_images())) == SKIP_ANSWER


def test_text_streams_in_word_groups() -> None:
    pieces = list(EmbeddedDescriber(read_text=False).describe(request(static_images())))
    assert len(pieces) >= 2
    assert all(len(p.text.split()) <= 3 for p in pieces)


def test_a_square_moving_right_is_commented_as_rightward_motion() -> None:
    describer = EmbeddedDescriber(read_text=False)
    answer(describer, request(static_images()))
    text = answer(describer, request([square_at(100 + 12 * i) for i in range(4)]))
    assert "to the right" in text


def test_a_hard_cut_is_called_a_new_shot() -> None:
    describer = EmbeddedDescriber(read_text=False)
    blue = np.full((HEIGHT, WIDTH, 3), (200, 60, 20), np.uint8)
    red = np.full((HEIGHT, WIDTH, 3), (30, 30, 210), np.uint8)
    answer(describer, request([blue] * 4))
    text = answer(describer, request([blue, blue, red, red]))
    assert re.search(r"\b(cut|new scene|different shot|new shot)\b", text), text


def test_a_fade_from_dark_is_called_brighter() -> None:
    describer = EmbeddedDescriber(read_text=False)
    scene = textured_background()
    dark = (scene * 0.15).astype(np.uint8)
    answer(describer, request([dark] * 4))
    fade = [(scene * gain).astype(np.uint8) for gain in (0.15, 0.4, 0.7, 1.0)]
    text = answer(describer, request(fade))
    assert re.search(r"bright|light comes up", text), text
    assert "cut" not in text


def test_hints_set_the_length() -> None:
    images = [square_at(100 + 12 * i) for i in range(4)]
    lengths = {
        hint: answer(EmbeddedDescriber(read_text=False), request(images, hint=hint))
        for hint in Intensity
    }
    assert len(lengths[Intensity.MINIMAL].split()) <= 5
    assert lengths[Intensity.BRIEF].count(".") == 1
    assert lengths[Intensity.NORMAL].count(".") == 2
    assert len(lengths[Intensity.MINIMAL]) < len(lengths[Intensity.BRIEF])
    assert len(lengths[Intensity.BRIEF]) < len(lengths[Intensity.NORMAL])


def test_state_is_kept_per_stream_and_close_stream_forgets_it() -> None:
    describer = EmbeddedDescriber(read_text=False)
    answer(describer, request(static_images(), stream_id="a"))
    # Stream b has not seen this scene yet, so it is described, not skipped.
    assert answer(describer, request(static_images(), stream_id="b")) != SKIP_ANSWER
    assert answer(describer, request(static_images(), stream_id="a")) == SKIP_ANSWER
    describer.close_stream("a")
    assert not describer.knows_stream("a")
    assert answer(describer, request(static_images(), stream_id="a")) != SKIP_ANSWER


def test_streams_beyond_the_cap_are_forgotten_oldest_first() -> None:
    describer = EmbeddedDescriber(max_streams=2, read_text=False)
    for stream_id in ("a", "b", "c"):
        answer(describer, request(static_images(), stream_id=stream_id))
    assert not describer.knows_stream("a")
    assert describer.knows_stream("b") and describer.knows_stream("c")


def test_the_same_seed_gives_the_same_words_and_templates_vary() -> None:
    clip = read_clip("bikes.mp4", range(0, 240, 12))
    windows = [clip[i : i + 4] for i in range(0, 17, 3)]

    def run(seed: int) -> list[str]:
        describer = EmbeddedDescriber(seed=seed, read_text=False)
        return [answer(describer, request(w)) for w in windows]

    first = run(seed=3)
    assert first == run(seed=3)
    spoken = [t for t in first if t != SKIP_ANSWER]
    assert len(spoken) >= 3
    assert len(set(spoken)) == len(spoken), "consecutive answers should not repeat verbatim"


def test_a_question_is_answered_with_what_it_can_and_cannot_see() -> None:
    describer = EmbeddedDescriber(read_text=False)
    answer(describer, request(static_images()))
    text = answer(
        describer, request(static_images(), question="Who is there and what are they doing?")
    )
    assert text != SKIP_ANSWER  # a question always gets an answer
    assert "can't detect anyone" in text
    assert "cannot tell" in text


def test_a_face_in_a_real_clip_is_hedged() -> None:
    frames = read_clip("carphone_pristine.mp4", range(0, 96))
    texts = [
        answer(EmbeddedDescriber(read_text=False), request(frames[i : i + 24 : 8]))
        for i in range(0, 96, 24)
    ]
    mentions = [t for t in texts if "face" in t or "person" in t]
    assert mentions, texts
    assert all(re.search(r"appears|looks like|I think", t) for t in mentions)


def test_a_cartoon_gets_no_people_and_no_names() -> None:
    describer = EmbeddedDescriber(read_text=False)
    clip = read_clip("bigbuckbunny.mp4", range(0, 132, 12))
    for start in range(0, 8, 4):
        text = answer(describer, request(clip[start : start + 4]))
        assert "person" not in text and "face" not in text


def test_no_frames_skip_and_bad_jpeg_raises() -> None:
    describer = EmbeddedDescriber(read_text=False)
    empty = DescribeRequest("s", (), Intensity.BRIEF, "", 64)
    assert "".join(p.text for p in describer.describe(empty)) == SKIP_ANSWER
    broken = DescribeRequest("s", (TimedFrame(b"not a jpeg", 0.0),), Intensity.BRIEF, "", 64)
    with pytest.raises(ValueError, match="not a decodable image"):
        list(describer.describe(broken))
