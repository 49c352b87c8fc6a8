"""The page at GET / in headless Chromium, against the real service.

One browser page is shared by the module's tests, in order: it loads cleanly, the video
moves, commentary arrives, and the audio player schedules real speech and mutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import CHROMIUM, wait_until
from tests.conftest import ARTIFACTS
from tests.support.serve_process import ServeProcess

pytestmark = pytest.mark.browser

# The first commentary is held back ~5 s to line up with the delayed picture, and the
# embedded describer shares two cores with Ray: a minute is a generous bound.
COMMENTARY_WAIT_S = 60.0
AUDIO_WAIT_S = 60.0

if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt install chromium)", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="pip install playwright")

# Reads the <img>'s current frame through a canvas (same origin, so never tainted).
FRAME_DIGEST_JS = """
() => {
  const img = document.getElementById('video');
  if (!img.complete || !img.naturalWidth) return null;
  const canvas = document.createElement('canvas');
  canvas.width = 64; canvas.height = 36;
  const g = canvas.getContext('2d');
  g.drawImage(img, 0, 0, canvas.width, canvas.height);
  const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum = (sum * 31 + data[i]) % 1000000007;
  return {width: img.naturalWidth, digest: sum};
}
"""
PLAYER_JS = """
() => {
  const p = window.commentaryPlayer;
  return {buffers: p.buffersScheduled, samples: p.samplesScheduled,
          rms: p.lastBufferRms, peak: p.maxBufferRms, context: p.contextState};
}
"""


@pytest.fixture(scope="module")
def page(service: ServeProcess, browser: Any) -> Iterator[Any]:
    console_errors: list[str] = []
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
    # Not "load": the MJPEG <img> never finishes loading.
    page.goto(service.base_url + "/", wait_until="domcontentloaded")
    page.console_errors = console_errors  # type: ignore[attr-defined]
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "page.png"), full_page=True)
        context.close()


def test_page_loads_without_console_errors(page: Any) -> None:
    assert page.title() == "Live commentary"
    wait_until(lambda: page.text_content("#backend"), lambda t: t and t != "…", 15, "backend shown")
    wait_until(lambda: page.text_content("#speech"), lambda t: t == "on", 15, "speech badge on")
    wait_until(lambda: page.text_content("#state"), lambda t: t == "live", 15, "state live")
    # The first requests settle (the picture is showing) before the console is judged.
    wait_until(
        lambda: page.evaluate("document.getElementById('video').naturalWidth"),
        lambda w: w > 0,
        20,
        "the first frame shown",
    )
    assert page.console_errors == []


def test_video_frames_update(page: Any) -> None:
    first = wait_until(
        lambda: page.evaluate(FRAME_DIGEST_JS), lambda v: v is not None, 20, "a first frame"
    )
    assert first["width"] > 0
    wait_until(
        lambda: page.evaluate(FRAME_DIGEST_JS),
        lambda v: v is not None and v["digest"] != first["digest"],
        10,
        "the picture changed",
    )


def test_commentary_lines_appear(page: Any) -> None:
    lines = wait_until(
        lambda: page.evaluate("window.commentaryState.lines"),
        lambda v: any(line["text"].strip() for line in v),
        COMMENTARY_WAIT_S,
        "a commentary line",
    )
    assert page.evaluate("window.commentaryState.lastText").strip()
    assert page.locator("#lines li").count() >= 1
    assert isinstance(lines[0]["media_ts_s"], (int, float))
    assert page.evaluate("window.commentaryState.delay") is not None


def test_start_audio_schedules_speech(page: Any) -> None:
    page.click("#start-audio")
    player = wait_until(
        lambda: page.evaluate(PLAYER_JS),
        # A burst ends in silence, so the last buffer may be quiet; the loudest one is not.
        lambda p: p["buffers"] > 0 and p["peak"] > 0.01,
        AUDIO_WAIT_S,
        "a non-silent audio buffer scheduled",
    )
    assert player["samples"] > 0
    assert player["rms"] >= 0
    assert player["context"] == "running"


def test_mute_toggles_gain(page: Any) -> None:
    mute = page.locator("#mute")
    mute.click()
    assert page.evaluate("window.commentaryPlayer.muted") is True
    assert page.evaluate("window.commentaryPlayer.gain") == 0
    assert mute.get_attribute("aria-pressed") == "true"
    mute.click()
    assert page.evaluate("window.commentaryPlayer.muted") is False
    assert page.evaluate("window.commentaryPlayer.gain") == 1
    assert mute.get_attribute("aria-pressed") == "false"
    assert page.console_errors == []


def test_the_api_docs_render_with_no_network(page: Any, service: ServeProcess) -> None:
    """/docs in a browser that reaches nothing but the service: every route is listed."""
    context = page.context.browser.new_context()  # the module's browser: one Playwright
    offsite: list[str] = []
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(service.base_url)
            else (offsite.append(route.request.url), route.abort())
        ),
    )
    try:
        docs = context.new_page()
        docs.goto(service.base_url + "/docs")
        docs.wait_for_selector(".opblock", timeout=30_000)
        operations = docs.locator(".opblock").count()
        ARTIFACTS.mkdir(exist_ok=True)
        docs.screenshot(path=str(ARTIFACTS / "docs.png"))
    finally:
        context.close()
    assert offsite == [], "it asked for nothing beyond the service"
    assert operations >= 15, f"{operations} routes shown"
