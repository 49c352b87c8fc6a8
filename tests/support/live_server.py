"""A live video source on 127.0.0.1: FFmpeg serving a clip as HTTP MPEG-TS, in real time.

Killed and restarted by tests to show that the service reconnects.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from tests.support.serve_process import free_port


class LiveHttpSource:
    def __init__(self, clip: Path, port: int | None = None) -> None:
        if shutil.which("ffmpeg") is None:
            raise RuntimeError("ffmpeg is not installed (make system-deps)")
        self.clip = clip
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/live.ts"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._launch()
            while time.monotonic() < deadline and self.process.poll() is None:
                # Not by connecting: FFmpeg's -listen 1 serves exactly one client.
                if self._listening():
                    return
                time.sleep(0.05)
            # It exited (the port may still be held by the killed one): try again.
            time.sleep(0.2)
        raise RuntimeError("ffmpeg did not start listening")

    def _launch(self) -> None:
        # -re: real time, like a camera; -listen 1: FFmpeg is the HTTP server.
        self.process = subprocess.Popen(
            [
                "ffmpeg",
                "-hide_banner",
                "-loglevel",
                "error",
                "-re",
                "-stream_loop",
                "-1",
                "-i",
                str(self.clip),
                "-c",
                "copy",
                "-f",
                "mpegts",
                "-listen",
                "1",
                self.url,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _listening(self) -> bool:
        """Listening, or already serving: a reconnecting capture may connect between two looks,
        and FFmpeg's -listen 1 stops listening once it has its one client."""
        port_hex = f":{self.port:04X} "
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            # 0A: LISTEN; 01: ESTABLISHED (a local address on our port: FFmpeg's side of it).
            if (fields[1] + " ").endswith(port_hex) and fields[3] in ("0A", "01"):
                return True
        return False

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)
            self.process = None
