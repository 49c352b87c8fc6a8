"""The embedded describer: honest CPU commentary from what OpenCV ships, no download needed.

What it can see: how much of the picture moves and which way, whether the whole view
drifts together (likely the camera) or only part of it, cuts to a new shot, whether the
picture is dark or bright and getting darker or brighter, its dominant colours by coarse
name, and, with conservative classic detectors, whether a person (upright, large, HOG) or
a frontal face (Haar cascade) seems to be in view. What it cannot see: what any object
is, who anyone is, what they do or feel, text, sound, or any story; the detectors miss
small, turned, partly hidden and drawn (cartoon) people. So it only speaks of those
measures, hedges every detection ("appears to", "looks like"), compares each window with
the stream's previous one, and answers "..." when nothing notable changed.
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence

import cv2
import numpy as np

from models.describers.scene_cues import SceneCueMeter, SceneCues
from models.describers.scene_phrases import (
    BRIGHTNESS_STEP,
    answer_question,
    compose,
    notable_facts,
)
from models.messages import SKIP_ANSWER, DescribeRequest, DescriberOutput, TextDelta, TimedFrame


class EmbeddedDescriber:
    name = "embedded"

    def __init__(
        self,
        analysis_width_px: int = 320,
        people_width_px: int = 400,
        cut_threshold: float = 0.55,
        brightness_step: float = BRIGHTNESS_STEP,
        words_per_piece: int = 3,
        max_streams: int = 256,
        seed: int = 0,
    ) -> None:
        self._meter = SceneCueMeter(analysis_width_px, people_width_px, cut_threshold)
        self.brightness_step = brightness_step
        self.words_per_piece = words_per_piece
        self.max_streams = max_streams  # bounds memory when a caller never closes streams
        self._rng = random.Random(seed)  # template choice: reproducible, not monotonous
        self._previous: OrderedDict[str, SceneCues] = OrderedDict()
        self._lock = threading.Lock()  # the per-stream memory
        self._measure_lock = threading.Lock()  # the shared detectors

    def describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]:
        if not request.frames:
            text = "I have no frames to look at yet." if request.question else SKIP_ANSWER
            yield from stream_pieces(text, self.words_per_piece)
            return
        images = decode_frames(request.frames, self._meter.analysis_width_px)
        # OpenCV does not promise its HOG and cascade detectors are safe to share between
        # threads, and the Commentator describes streams on threads: one at a time here.
        with self._measure_lock:
            cues = self._meter.measure(images)
        with self._lock:
            previous = self._previous.pop(request.stream_id, None)
            self._previous[request.stream_id] = cues
            while len(self._previous) > self.max_streams:
                self._previous.popitem(last=False)
            if request.question:
                text = answer_question(request.question, cues, self._rng)
            else:
                facts = notable_facts(previous, cues, request.hint, self.brightness_step)
                text = compose(facts, request.hint, self._rng)
        yield from stream_pieces(text, self.words_per_piece)

    def close_stream(self, stream_id: str) -> None:
        with self._lock:
            self._previous.pop(stream_id, None)

    def knows_stream(self, stream_id: str) -> bool:
        return stream_id in self._previous


def decode_frames(frames: Sequence[TimedFrame], analysis_width_px: int) -> list[np.ndarray]:
    """BGR images, oldest first. Older frames decode at half size when that is still wide
    enough: libjpeg's reduced decode is about 3x cheaper and only the newest frame feeds
    the people detector at more than the analysis width."""
    newest = imdecode(frames[-1].jpeg, cv2.IMREAD_COLOR, len(frames) - 1)
    older_flag = cv2.IMREAD_COLOR
    if newest.shape[1] >= 2 * analysis_width_px:
        older_flag = cv2.IMREAD_REDUCED_COLOR_2
    older = [imdecode(f.jpeg, older_flag, i) for i, f in enumerate(frames[:-1])]
    return [*older, newest]


def imdecode(jpeg: bytes, flag: int, index: int) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), flag)
    if image is None:
        raise ValueError(f"frame {index} of the request is not a decodable image")
    return image


def stream_pieces(text: str, words_per_piece: int) -> Iterator[TextDelta]:
    """A few words a piece, spaces kept, so concatenating the pieces gives ``text`` back."""
    words = text.split(" ")
    for start in range(0, len(words), words_per_piece):
        piece = " ".join(words[start : start + words_per_piece])
        yield TextDelta(piece if start + words_per_piece >= len(words) else piece + " ")
