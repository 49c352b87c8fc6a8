"""``live-commentary FILE``: commentate a recorded video with the service's engines, no Ray.

This module is the entry point and only maps outcomes to exit codes: 0 done; 1 the input or
output folder cannot be used, or the run failed; 2 a bad setting or flag; 130 interrupted
(Ctrl-C). Every error is one line on stderr, never a traceback (LOG_LEVEL=DEBUG logs one for
an unexpected failure). It imports nothing but the standard library before ``main`` runs, so
a Ctrl-C while the rest loads is caught too; the work is in command.py.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

PROGRAM = "live-commentary"
EXIT_FAILED = 1
EXIT_USAGE = 2  # argparse's own code for a bad command line; bad settings are the same kind
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells expect of a program stopped by Ctrl-C

log = logging.getLogger("offline")


def main(argv: list[str] | None = None) -> int:
    try:
        return _run_reporting_errors(argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _run_reporting_errors(argv: list[str] | None) -> int:
    from rich.console import Console

    from offline import command
    from offline.out_dir import OutputError
    from offline.probe import InputError
    from serve_app.settings import SettingsError
    from serve_app.sources.source_spec import SourceError

    errors = Console(stderr=True, highlight=False)
    try:
        return command.run(argv, errors)
    except (command.UsageError, SettingsError) as error:
        return _fail(errors, str(error), EXIT_USAGE)
    except (InputError, OutputError, SourceError) as error:
        return _fail(errors, str(error), EXIT_FAILED)
    except Exception as error:
        log.debug("unexpected failure", exc_info=True)
        return _fail(errors, f"failed: {type(error).__name__}: {error}", EXIT_FAILED)


def _fail(console: Console, message: str, code: int) -> int:
    flat = " ".join(message.split())  # one line, whatever the message held
    console.print(f"{PROGRAM}: error: {flat}", markup=False, soft_wrap=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
