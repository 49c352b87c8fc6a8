"""The embedded describer: honest CPU commentary from what OpenCV and RapidOCR ship, no download.

What it can see: how much of the picture moves and which way, whether the whole view
drifts together (likely the camera) or only part of it, cuts to a new shot, whether the
picture is dark or bright and getting darker or brighter, its dominant colours by coarse
name, with conservative classic detectors whether a person (upright, large, HOG) or a
frontal face (Haar cascade) seems to be in view or has gone out of it, and on-screen text
(scores, clocks, captions, signs) that RapidOCR's bundled models read with confidence,
quoted as read, with a clock or a score named when that is what changed.

What it cannot see: what any object is, who anyone is, what they do or feel, sound, or any
story; the detectors miss small, turned, partly hidden and drawn (cartoon) people; text
that is small (under ~8 px high at 640 px), not Latin, moving (a sign in a pan) or only on
screen for a moment is not read. So it speaks only of those measures, hedges every
detection ("appears to", "looks like"), compares each window with the stream's previous
ones, leaves out a state it has just said, and answers "..." when nothing notable changed.
OCR runs only when text-like regions changed (text_watch.py), at most once in full plus a
few single lines a window.
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict, deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from models.describers.scene_cues import SceneCueMeter, SceneCues
from models.describers.scene_phrases import (
    BRIGHTNESS_STEP,
    Fact,
    answer_question,
    compose,
    is_cut,
    notable_facts,
    spoken_count,
)
from models.describers.screen_text import ScreenTextReader, shared_reader
from models.describers.text_phrases import text_answer, text_facts
from models.describers.text_watch import TextNews, TextWatch
from models.describers.view_changes import Presence, drop_recent
from models.messages import SKIP_ANSWER, DescribeRequest, DescriberOutput, TextDelta, TimedFrame


@dataclass(slots=True)
class StreamMemory:
    """What one stream's next window is compared with."""

    cues: SceneCues | None = None
    text: TextWatch = field(default_factory=TextWatch)
    presence: Presence = field(default_factory=Presence)
    last_text: str = ""
    # The clauses of the facts the last two answers spoke: drop_recent leaves those out.
    recent: deque[set[str]] = field(default_factory=lambda: deque(maxlen=2))
    # A stream's cycles come one at a time, but nothing promises it: OCR runs outside the
    # describer-wide lock, so each stream's text state has its own.
    lock: threading.Lock = field(default_factory=threading.Lock)


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
        read_text: bool = True,
        text_reader: ScreenTextReader | None = None,
        warm_up: bool = False,
    ) -> None:
        self._meter = SceneCueMeter(analysis_width_px, people_width_px, cut_threshold)
        self.brightness_step = brightness_step
        self.words_per_piece = words_per_piece
        self.max_streams = max_streams  # bounds memory when a caller never closes streams
        self._rng = random.Random(seed)  # template choice: reproducible, not monotonous
        self.read_text = read_text
        # The OCR models load on the first frame with text-like regions, once per process.
        self._reader = text_reader
        self._memory: OrderedDict[str, StreamMemory] = OrderedDict()
        self._lock = threading.Lock()  # the per-stream memory
        self._measure_lock = threading.Lock()  # the shared detectors
        if warm_up and read_text:  # in the background: the service starts as fast as before
            threading.Thread(
                target=self.text_reader().warm, name="ocr-warm-up", daemon=True
            ).start()

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
            memory = self._memory.pop(request.stream_id, None) or StreamMemory()
            self._memory[request.stream_id] = memory
            while len(self._memory) > self.max_streams:
                self._memory.popitem(last=False)
        with memory.lock:
            news = TextNews()
            if self.read_text:
                news = memory.text.update(self.text_reader(), images[cues.shot_start :])
            previous, memory.cues = memory.cues, cues
            left = memory.presence.update(cues)
            with self._lock:  # the shared RNG
                if request.question:
                    text = answer_question(request.question, cues, self._rng)
                    if self.read_text and (
                        about_text := text_answer(request.question, memory.text.lines)
                    ):
                        text = about_text
                else:
                    facts = notable_facts(previous, cues, request.hint, self.brightness_step)
                    facts = merge(facts, text_facts(news), left)
                    facts = drop_recent(facts, memory.recent)
                    text = compose(facts, request.hint, self._rng, avoid=memory.last_text)
                    spoken = facts[: spoken_count(request.hint)]
                    memory.recent.append({clause for clause, _ in spoken})
                    memory.last_text = text
        yield from stream_pieces(text, self.words_per_piece)

    def text_reader(self) -> ScreenTextReader:
        if self._reader is None:
            self._reader = shared_reader()
        return self._reader

    def close_stream(self, stream_id: str) -> None:
        with self._lock:
            self._memory.pop(stream_id, None)

    def knows_stream(self, stream_id: str) -> bool:
        return stream_id in self._memory


def merge(scene: list[Fact], text: list[Fact], left: Fact | None) -> list[Fact]:
    """Cuts first (they explain everything after), then text news (it says the most),
    then the rest, with someone leaving after any arrival."""
    lead = 1 if scene and is_cut(scene[0]) else 0
    rest = [*scene[lead:], left] if left else scene[lead:]
    return [*scene[:lead], *text, *rest]


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
