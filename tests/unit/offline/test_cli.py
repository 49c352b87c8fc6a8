"""The command's edges: exit codes, one-line errors, the summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import offline.cli as cli
import offline.command as command
from offline.commentator import SpokenLine
from offline.job import OfflineReport
from offline.summary import summary_lines


def raise_(error: BaseException):
    def run(argv: list[str] | None, errors: object) -> int:
        raise error

    return run


def test_ctrl_c_exits_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(command, "run", raise_(KeyboardInterrupt()))
    assert cli.main(["clip.mp4"]) == 130
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_an_unexpected_failure_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(command, "run", raise_(RuntimeError("every cycle failed;\nthe last: x")))
    assert cli.main(["clip.mp4"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "RuntimeError: every cycle failed; the last: x" in err


def test_a_bad_flag_exits_2_naming_the_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["clip.mp4", "--interval", "-3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "inference_interval_s" in err


def test_a_bad_command_line_exits_2_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["clip.mp4", "--no-such-flag"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--no-such-flag" in err


def test_the_summary_gives_the_numbers_and_the_files() -> None:
    speech = np.zeros(48_000, np.int16)
    report = OfflineReport(
        lines=[SpokenLine(1, 0.0, 0.0, "Hello.", 0.0, speech)],
        skipped=2,
        errors=[],
        media_s=10.0,
        wall_s=2.5,
        files=[Path("out/clip.vtt")],
        notes=["MP4 skipped: no way to write it"],
    )
    text = "\n".join(summary_lines(report))
    for expected in (
        "lines           1",
        "skipped cycles  2",
        "speech          1.0 s",
        "media           10.0 s",
        "wall            2.5 s",
        "speed           4.0× real time",
        "out/clip.vtt",
        "note: MP4 skipped",
    ):
        assert expected in text


def test_a_backend_this_machine_cannot_run_is_a_bad_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import offline.engines as engines
    from serve_app.settings import ServiceSettings, SettingsError

    def cannot_start(*args: object) -> None:
        raise ValueError("backend vllm needs a GPU")

    monkeypatch.setattr(engines, "gpu_present", lambda: False)
    monkeypatch.setattr(engines, "check_can_start", cannot_start)
    with pytest.raises(SettingsError, match="needs a GPU"):
        engines.build_engines(ServiceSettings(), speech=False)


def test_an_engine_that_fails_to_build_is_a_failure_not_a_bad_setting(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    short_clip: Path,
    tmp_path: Path,
) -> None:
    import offline.engines as engines

    def corrupt(*args: object) -> None:
        raise ValueError("the model file is corrupt")

    monkeypatch.setattr(engines, "gpu_present", lambda: False)
    monkeypatch.setattr(engines, "build_describer", corrupt)
    monkeypatch.setattr(command, "configure_logging", lambda settings, console: None)
    monkeypatch.setenv("BACKEND", "embedded")
    monkeypatch.setenv("VOICE", "espeak")
    assert cli.main([str(short_clip), "--out", str(tmp_path / "out"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = [x for x in err.splitlines() if "error:" in x]
    assert "ValueError: the model file is corrupt" in line
