"""A real clip for the ingest tests: a frame counter drawn into each frame."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.fixture_video import write_counter_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_counter_clip(tmp_path_factory.mktemp("media") / "counter.mp4", seconds=2.0)
