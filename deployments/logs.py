"""Our own modules' logs in a replica go where Serve's go: same format, same files.

Serve configures only its "ray.serve" logger in a replica; records of other loggers fall
through to Python's last-resort handler (warnings only, no replica tag). The engines log
under their module names ("serve_app.…", "models.…"), so a replica forwards them to Serve's
handlers, looked up at each record: Serve rebuilds them when its logging config changes.
"""

from __future__ import annotations

import logging

SERVE_LOGGER = "ray.serve"
OUR_PACKAGES = ("serve_app", "models")


class ServeLogForwarder(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        for handler in logging.getLogger(SERVE_LOGGER).handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


def send_to_serve_logs(level: str) -> None:
    for package in OUR_PACKAGES:
        logger = logging.getLogger(package)
        logger.setLevel(level)
        logger.handlers = [ServeLogForwarder()]
        logger.propagate = False
