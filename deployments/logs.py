"""Our own modules' logs in a replica go where Serve's go: same format, same files.

Serve configures only its "ray.serve" logger in a replica; records of other loggers fall
through to Python's last-resort handler (warnings only, no replica tag). The engines log
under their module names ("serve_app.…", "models.…"), so a replica hands them Serve's
handlers, whose filters add the replica's context.
"""

from __future__ import annotations

import logging

SERVE_LOGGER = "ray.serve"
OUR_PACKAGES = ("serve_app", "models")


def send_to_serve_logs(level: str) -> None:
    handlers = list(logging.getLogger(SERVE_LOGGER).handlers)
    for package in OUR_PACKAGES:
        logger = logging.getLogger(package)
        logger.setLevel(level)
        logger.handlers = handlers
        logger.propagate = False
