"""Start the real Serve application (serve_config.yaml) in a subprocess on 127.0.0.1.

Used by the end-to-end and browser tests and by the benchmarks: they talk to the service
over real HTTP exactly as a user's client would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DEPLOYMENTS = {"Ingress", "StreamGateway", "FrameIngest", "Commentator", "Vocoder"}


def port_free(port: int, within_s: float) -> bool:
    """Can 127.0.0.1:``port`` be listened on again (waiting up to ``within_s``)?"""
    deadline = time.monotonic() + within_s
    while True:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
            try:
                probe.bind(("127.0.0.1", port))
                probe.listen()
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
        time.sleep(0.2)


class ServeProcess:
    """`serve run` of a copy of serve_config.yaml with the given port, args and env."""

    def __init__(
        self,
        workdir: Path,
        port: int,
        args: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        user_config: dict[str, Any] | None = None,
        deployments: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
        config["http_options"]["port"] = port
        application = config["applications"][0]
        application["args"] = {**application.get("args", {}), **(args or {})}
        if user_config is not None:
            for deployment in application["deployments"]:
                if deployment["name"] == "StreamGateway":
                    deployment["user_config"] = user_config
        for deployment in application["deployments"]:
            deployment.update((deployments or {}).get(deployment["name"], {}))
        self.config_path = workdir / "serve_config.yaml"
        self.config_path.write_text(yaml.safe_dump(config))
        self.log_path = workdir / "serve.log"
        # A fresh local cluster of our own, never someone else's: no RAY_ADDRESS.
        inherited = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
        self.env = {
            **inherited,
            "RAY_USAGE_STATS_ENABLED": "0",
            "PYTHONUNBUFFERED": "1",
            "RAY_DEDUP_LOGS": "0",  # every replica's lines, as tests read them from the log
            # HAProxy's stats and metrics listen on fixed ports: services side by side (the
            # suite's shared one and a test's own) need their own.
            "RAY_SERVE_HAPROXY_STATS_PORT": str(free_port()),
            "RAY_SERVE_HAPROXY_METRICS_PORT": str(free_port()),
            "METRICS_PORT": str(free_port()),  # Ray's metrics export port (deployments.launch)
            "RAY_metrics_report_interval_ms": "2000",  # tests read metrics within seconds
            **(env or {}),
        }
        self.metrics_url = f"http://127.0.0.1:{self.env['METRICS_PORT']}/metrics"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self, timeout_s: float = 180.0, wait_for_stream: str | None = "demo") -> float:
        """Start and wait until all five deployments are healthy; returns seconds taken."""
        self.started_at = time.monotonic()
        # As `make run` starts it: `serve run` with direct ingress where HAProxy is at hand.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deployments.launch", str(self.config_path)],
            cwd=ROOT,
            env=self.env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = self.started_at + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve run exited early:\n{self.log_tail()}")
            if self._ready(wait_for_stream):
                return time.monotonic() - self.started_at
            time.sleep(0.5)
        raise TimeoutError(f"service not ready in {timeout_s} s:\n{self.log_tail()}")

    def _ready(self, stream_id: str | None) -> bool:
        try:
            status = httpx.get(f"{self.base_url}/api/status", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return False
        health = status.get("deployments", {})
        if set(health) != DEPLOYMENTS or any(v != "HEALTHY" for v in health.values()):
            return False
        if stream_id is None:
            return True
        return any(s["id"] == stream_id and s["source_state"] == "live" for s in status["streams"])

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    @contextlib.contextmanager
    def running(self, wait_for_stream: str | None = "demo") -> Iterator[ServeProcess]:
        """Started for the block, stopped after it, whatever happens."""
        try:
            self.start(wait_for_stream=wait_for_stream)
            yield self
        finally:
            self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        # SIGTERM takes the local cluster down in ~5 s; a backgrounded `serve run` ignores SIGINT.
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        # Nothing of it may outlive it: an HAProxy left holding the port breaks the next start.
        if not port_free(self.port, within_s=10):
            raise RuntimeError(f"port {self.port} is still taken after the service stopped")
