"""What the browser tests share: headless Chromium (one Playwright for this package) and a
poll-until helper."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--autoplay-policy=no-user-gesture-required",
]


def wait_until(
    read: Callable[[], Any], ok: Callable[[Any], bool], timeout_s: float, what: str
) -> Any:
    """Polls ``read()`` until ``ok`` holds; fails naming ``what`` and the last value read."""
    deadline = time.monotonic() + timeout_s
    value = read()
    while not ok(value):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} within {timeout_s:.0f} s; last read: {value!r}")
        time.sleep(0.5)
        value = read()
    return value


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for every browser test: the sync Playwright API allows one instance per
    thread at a time, and a second browser would only cost the 2-core machine time.

    Package scope, not session: the sync API keeps an event loop running in the main thread
    while it is open, and every later test calling ``asyncio.run`` would fail on it."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
