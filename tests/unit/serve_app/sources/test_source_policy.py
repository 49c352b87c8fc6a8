"""SourcePolicy: which files, URLs and webcams a stream may be created from."""

import os
from pathlib import Path

import pytest

from serve_app.sources.source_policy import SourcePolicy
from serve_app.sources.source_spec import SourceError, parse_source


def policy(root: Path, **kw: object) -> SourcePolicy:
    return SourcePolicy(
        file_roots=[str(root)],
        url_schemes=kw.get("schemes", ["rtsp", "http", "https"]),  # type: ignore[arg-type]
        url_hosts=kw.get("hosts", []),  # type: ignore[arg-type]
        allow_webcam=bool(kw.get("webcam", False)),
    )


def test_files_only_under_allowed_roots(tmp_path: Path) -> None:
    root = tmp_path / "media"
    root.mkdir()
    (root / "ok.mp4").write_bytes(b"x")
    (tmp_path / "secret.mp4").write_bytes(b"x")
    p = policy(root)
    p.check(parse_source(str(root / "ok.mp4")))
    with pytest.raises(SourceError, match="outside the allowed roots"):
        p.check(parse_source(str(tmp_path / "secret.mp4")))
    with pytest.raises(SourceError, match="outside the allowed roots"):
        p.check(parse_source(str(root / ".." / "secret.mp4")))


def test_symlinks_cannot_escape(tmp_path: Path) -> None:
    root = tmp_path / "media"
    root.mkdir()
    (tmp_path / "secret.mp4").write_bytes(b"x")
    os.symlink(tmp_path / "secret.mp4", root / "innocent.mp4")
    with pytest.raises(SourceError, match="outside"):
        policy(root).check(parse_source(str(root / "innocent.mp4")))


def test_demo_is_always_allowed(tmp_path: Path) -> None:
    policy(tmp_path).check(parse_source("demo"))


def test_url_schemes_hosts_and_webcams(tmp_path: Path) -> None:
    p = policy(tmp_path, schemes=["rtsp"], hosts=["127.0.0.1"])
    p.check(parse_source("rtsp://127.0.0.1:8554/cam"))
    with pytest.raises(SourceError, match="scheme 'http' is not allowed"):
        p.check(parse_source("http://127.0.0.1/x"))
    with pytest.raises(SourceError, match=r"host 'example\.org'"):
        p.check(parse_source("rtsp://example.org/cam"))
    with pytest.raises(SourceError, match="webcam"):
        p.check(parse_source("0"))
    policy(tmp_path, webcam=True).check(parse_source("0"))
