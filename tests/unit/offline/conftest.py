"""Small media files for the offline unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fixture_video import write_counter_clip


@pytest.fixture(scope="module")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1 s counter clip at 25 fps (frame i shows i, at media time i / 25)."""
    return write_counter_clip(tmp_path_factory.mktemp("media") / "counter.mp4", seconds=1.0)
