"""The command's work: its flags, the checks, the run, the summary (cli.py wraps it)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.logging import RichHandler

from offline.cli import PROGRAM
from offline.options import OfflineSettings, load_offline_settings
from offline.out_dir import prepare_outputs
from offline.probe import probe_video


class UsageError(Exception):
    """A bad command line (argparse's complaint, as one line)."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROGRAM,
        description="Commentate a recorded video: subtitles (VTT, SRT), spoken commentary "
        "(WAV) and the video with both added (MP4). Settings come from the environment as "
        "in the service (docs/settings.md); these flags override a few of them.",
    )
    parser.add_argument("file", type=Path, help="the video file")
    parser.add_argument(
        "--out", type=Path, help="output folder (default: <stem>.commentary/ beside FILE)"
    )
    parser.add_argument("--no-speech", action="store_true", help="ENABLE_TTS=false: text only")
    # Values stay strings here so the settings model validates them, with its own messages.
    parser.add_argument("--language", help="LANGUAGE: commentary language, e.g. en, de")
    parser.add_argument(
        "--interval", help="INFERENCE_INTERVAL_S: least media seconds between cycles"
    )
    parser.add_argument("--frames", help="FRAMES_PER_INFERENCE: frames given to the model a cycle")
    parser.add_argument("--instruction", help="INSTRUCTION: the base prompt")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def run(argv: list[str] | None, errors: Console) -> int:
    args = build_parser().parse_args(argv)
    settings = load_offline_settings(vars(args))
    configure_logging(settings, errors)
    info = probe_video(args.file.expanduser().resolve())
    outputs = prepare_outputs(info.path, args.out.expanduser() if args.out else None)
    # Imported only now, so a bad input or setting fails in a blink: these load the engines'
    # libraries (OpenCV's detectors, SciPy's resampler, the voice).
    from offline.engines import build_engines
    from offline.job import OfflineJob, commentate_file
    from offline.progress import MediaProgress
    from offline.summary import summary_lines

    engines = build_engines(settings.service, settings.stream.enable_tts)
    job = OfflineJob(info=info, outputs=outputs, settings=settings)
    show_bar = not args.no_progress and errors.is_terminal
    with MediaProgress(info.duration_s, errors, enabled=show_bar) as bar:
        report = commentate_file(job, engines, on_progress=bar.at)
        bar.done(report.media_s)
    out = Console(highlight=False, soft_wrap=True)
    for line in summary_lines(report):
        out.print(line, markup=False)
    return 0


def configure_logging(settings: OfflineSettings, console: Console) -> None:
    """Logs on stderr: through rich in a terminal (they scroll above the progress bar), as
    plain lines anywhere else (rich would wrap them at 80 columns)."""
    handler: logging.Handler
    if console.is_terminal:
        handler = RichHandler(console=console, show_time=False, show_path=False, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(f"{PROGRAM}: %(levelname)s: %(message)s"))
    logging.basicConfig(level=settings.service.log_level, handlers=[handler], force=True)
