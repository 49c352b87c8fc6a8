"""Where the outputs go, and a folder that cannot take them."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.out_dir import OutputError, default_folder, prepare_outputs


def test_by_default_the_outputs_go_beside_the_input(tmp_path: Path) -> None:
    video = tmp_path / "clip.mp4"
    paths = prepare_outputs(video, None)
    assert paths.folder == default_folder(video) == tmp_path / "clip.commentary"
    assert paths.folder.is_dir()
    assert paths.vtt.name == "clip.vtt" and paths.srt.name == "clip.srt"
    assert paths.wav.name == "clip.commentary.wav" and paths.mp4.name == "clip.commentary.mp4"


def test_a_given_folder_is_created(tmp_path: Path) -> None:
    paths = prepare_outputs(tmp_path / "clip.mp4", tmp_path / "a" / "b")
    assert paths.folder.is_dir() and not list(paths.folder.iterdir())


def test_a_folder_that_cannot_be_made_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="cannot write to output folder"):
        prepare_outputs(tmp_path / "clip.mp4", blocker / "out")
