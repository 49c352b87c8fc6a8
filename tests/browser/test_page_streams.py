"""The page's many-stream controls in headless Chromium, against the real service.

The stream list switches video, text and URL; the form adds a stream (asking for the API
token) and the list deletes it; a question's answer streams into the log; the API's own
error words reach the form; an ended stream is announced; and at phone width the page fits
and works from the keyboard. Each test deletes the streams it made: the shared service
allows four.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import wait_until
from tests.conftest import API_TOKEN, ARTIFACTS
from tests.support.fixture_video import write_counter_clip
from tests.support.serve_process import ServeProcess

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "page-streams"
TOKEN_KEY = "live-commentary.api-token"  # the page's sessionStorage key
# A new file stream speaks within seconds (1 s display delay, the embedded describer);
# the bound is generous for a 2-core machine shared with Ray.
COMMENTARY_WAIT_S = 60.0
LINES_JS = "window.commentaryState.lines"
# Keeps the longest text a pending answer line (ask.js's own) ever showed.
PENDING_WATCH_JS = """
() => {
  window.pendingAnswerSeen = "";
  new MutationObserver(() => {
    for (const span of document.querySelectorAll("#lines li.answer.pending span")) {
      if (span.textContent.length > window.pendingAnswerSeen.length) {
        window.pendingAnswerSeen = span.textContent;
      }
    }
  }).observe(document.getElementById("lines"),
             {subtree: true, childList: true, characterData: true});
}
"""


@pytest.fixture(scope="module")
def clip(service: ServeProcess) -> Path:
    """A looping test clip inside the service's allowed media root."""
    return write_counter_clip(service.workdir / "media" / "page-streams.mp4", seconds=6.0)


@contextlib.contextmanager
def api_stream(
    client: httpx.Client, stream_id: str, source: Path, **settings: Any
) -> Iterator[str]:
    """A stream made through the API (speech off, short delay), deleted afterwards."""
    body = {
        "source": str(source),
        "id": stream_id,
        "settings": {"enable_tts": False, "stream_delay_init_s": 1.0, **settings},
    }
    created = client.post("/api/streams", json=body)
    assert created.status_code == 201, created.text
    try:
        yield stream_id
    finally:
        client.delete(f"/api/streams/{stream_id}", timeout=60)


@pytest.fixture()
def open_page(browser: Any, service: ServeProcess) -> Iterator[Callable[..., Any]]:
    """Opens the page in a fresh browser context (its own sessionStorage); closes them all."""
    contexts: list[Any] = []

    def open_(path: str = "/", width: int = 1440, height: int = 900, token: bool = False) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        if token:  # as if the token had been entered once in this tab
            context.add_init_script(
                f"try {{ sessionStorage.setItem({json.dumps(TOKEN_KEY)}, "
                f"{json.dumps(API_TOKEN)}); }} catch (e) {{}}"
            )
        page = context.new_page()
        page.uncaught = []
        page.on("pageerror", lambda error: page.uncaught.append(str(error)))
        # Not "load": the MJPEG <img> never finishes loading.
        page.goto(service.base_url + path, wait_until="domcontentloaded")
        return page

    try:
        yield open_
    finally:
        for context in contexts:
            context.close()


def shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def address(page: Any) -> str:
    """The page's URL as it is now: a plain read of ``page.url`` misses a pushState that
    happened while the test slept, since the sync API only takes in events during calls."""
    return str(page.evaluate("location.href"))


def list_link(page: Any, stream_id: str) -> Any:
    return page.locator(f'#stream-list li[data-id="{stream_id}"] a')


def lines_of(page: Any, stream_id: str) -> list[dict[str, Any]]:
    return [line for line in page.evaluate(LINES_JS) if line["stream"] == stream_id]


def logged_streams(page: Any) -> set[str]:
    return set(page.eval_on_selector_all("#lines li", "els => els.map(e => e.dataset.stream)"))


def test_a_click_switches_video_text_and_url_and_a_link_opens_the_stream(
    client: httpx.Client, open_page: Callable[..., Any], clip: Path
) -> None:
    with api_stream(client, "switch-b", clip):
        page = open_page("/")
        wait_until(lambda: lines_of(page, "demo"), bool, COMMENTARY_WAIT_S, "demo commentary")
        list_link(page, "switch-b").click(timeout=15_000)

        wait_until(
            lambda: address(page), lambda u: u.endswith("/?stream=switch-b"), 5, "URL names it"
        )
        assert "/api/streams/switch-b/mjpeg" in page.get_attribute("#video", "src")
        assert list_link(page, "switch-b").get_attribute("aria-current") == "page"
        assert page.text_content("#stream-id") == "switch-b"
        wait_until(lambda: lines_of(page, "switch-b"), bool, COMMENTARY_WAIT_S, "its commentary")
        assert logged_streams(page) == {"switch-b"}, "the old stream's lines are gone"
        assert lines_of(page, "demo") == []
        wait_until(
            lambda: page.evaluate("document.getElementById('video').naturalWidth"),
            lambda w: w > 0,
            20,
            "its video",
        )
        shoot(page, "switched")

        page.go_back()  # popstate: back to the default stream
        wait_until(lambda: page.evaluate("window.commentaryState.stream"), "demo".__eq__, 5, "back")
        assert "?stream" not in address(page)
        assert "/api/mjpeg" in page.get_attribute("#video", "src")

        direct = open_page("/?stream=switch-b")
        wait_until(
            lambda: list_link(direct, "switch-b").get_attribute("aria-current"),
            "page".__eq__,
            15,
            "the linked stream selected",
        )
        assert "/api/streams/switch-b/mjpeg" in direct.get_attribute("#video", "src")
        assert page.uncaught == [] and direct.uncaught == []


def test_a_stream_added_from_the_form_speaks_and_is_deleted_from_the_list(
    client: httpx.Client, open_page: Callable[..., Any], clip: Path
) -> None:
    page = open_page("/")  # no token yet: the first write asks for it
    try:
        page.click("#add-details summary")
        page.fill("#add-source", str(clip))
        page.fill("#add-id", "from-form")
        page.uncheck("#add-speech")
        page.click("#add-submit")

        dialog = page.locator("#token-dialog")
        dialog.wait_for(state="visible", timeout=10_000)
        assert "Bearer" in page.text_content("#token-why"), "the API's 401 says why"
        shoot(page, "token-asked")
        page.fill("#token-input", API_TOKEN)
        page.click("#token-ok")

        wait_until(
            lambda: address(page), lambda u: u.endswith("?stream=from-form"), 20, "switched to it"
        )
        assert page.evaluate(f"sessionStorage.getItem({json.dumps(TOKEN_KEY)})") == API_TOKEN
        created = client.get("/api/streams/from-form").json()
        assert created["speech"] is False and created["source"] == str(clip)
        wait_until(lambda: lines_of(page, "from-form"), bool, COMMENTARY_WAIT_S, "its commentary")
        shoot(page, "added")

        delete = page.locator('#stream-list li[data-id="from-form"] button.delete')
        delete.click()
        assert delete.text_content() == "Confirm", "a second press deletes"
        delete.click()
        wait_until(lambda: list_link(page, "from-form").count(), lambda n: n == 0, 20, "deleted")
        assert "?stream" not in address(page), "back on the default stream"
        assert page.is_hidden("#token-dialog"), "the kept token was used: not asked again"
        assert page.uncaught == []
    finally:
        client.delete("/api/streams/from-form", timeout=60)


def test_a_question_is_answered_in_the_log_as_an_answer(open_page: Callable[..., Any]) -> None:
    page = open_page("/", token=True)
    wait_until(lambda: page.text_content("#state"), "live".__eq__, 20, "the demo stream live")
    question = "What colours dominate the picture?"
    page.evaluate(PENDING_WATCH_JS)
    page.fill("#ask-input", question)
    page.press("#ask-input", "Enter")

    # Only ask.js draws a pending line (the events stream's lines never are): words seen in
    # it beyond the question came over the POST's own stream. Watched from the page, since
    # the events stream may complete the line between two reads from here.
    wait_until(
        lambda: page.evaluate("window.pendingAnswerSeen"),
        lambda text: text.startswith(question + " — ") and len(text) > len(question) + 5,
        COMMENTARY_WAIT_S,
        "the answer streamed into its pending line",
    )
    answer = page.locator("#lines li.answer")
    assert answer.first.get_attribute("data-kind") == "answer"
    # Its cycle_end on the events stream completes the same line: no second copy.
    wait_until(
        lambda: page.locator("#lines li.answer.pending").count(),
        lambda pending: pending == 0,
        COMMENTARY_WAIT_S,
        "the answer reached its picture",
    )
    assert answer.count() == 1
    assert any(line["kind"] == "answer" for line in page.evaluate(LINES_JS))
    assert page.text_content("#ask-error") == ""
    shoot(page, "answered")
    assert page.uncaught == []


def test_a_refused_source_shows_the_apis_words_next_to_the_form(
    client: httpx.Client, service: ServeProcess, open_page: Callable[..., Any]
) -> None:
    outside = write_counter_clip(service.workdir / "outside-the-roots.mp4", seconds=1.0)
    missing = service.workdir / "media" / "no-such-clip.mp4"
    page = open_page("/", token=True)
    page.click("#add-details summary")
    error = page.locator("#add-error")
    for source, gist in [(outside, "outside the allowed roots"), (missing, "does not exist")]:
        refused = client.post("/api/streams", json={"source": str(source)})
        assert refused.status_code == 422 and gist in refused.json()["error"]
        page.fill("#add-source", str(source))
        page.click("#add-submit")
        wait_until(lambda: error.text_content(), lambda t, g=gist: g in t, 20, f"'{gist}' shown")
        assert error.text_content() == refused.json()["error"], "the API's words, as they are"
    assert address(page).endswith("/"), "still on the stream it showed"
    shoot(page, "refused")


def test_an_ended_stream_is_announced(
    client: httpx.Client, service: ServeProcess, open_page: Callable[..., Any]
) -> None:
    short = write_counter_clip(service.workdir / "media" / "page-short.mp4", seconds=2.0)
    with api_stream(client, "short", short, loop=False):
        page = open_page("/?stream=short")
        wait_until(
            lambda: page.text_content("#banner-text") if page.is_visible("#banner") else "",
            lambda text: "has ended" in text,
            30,
            "a visible banner saying it ended",
        )
        badge = page.locator('#stream-list li[data-id="short"] .badge')
        wait_until(lambda: badge.text_content(), "ended".__eq__, 10, "the list's badge")
        assert page.text_content("#state") == "ended"
        shoot(page, "ended")


def test_phone_width_fits_and_the_keyboard_switches_streams(
    client: httpx.Client, open_page: Callable[..., Any], clip: Path
) -> None:
    with api_stream(client, "phone-b", clip):
        page = open_page("/", width=390, height=844)
        list_link(page, "phone-b").wait_for(timeout=15_000)
        wait_until(lambda: page.text_content("#backend"), lambda t: t != "…", 15, "the status")
        overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px of horizontal scroll at 390 px"
        assert page.is_visible("#stream-list li") and page.is_visible("#video")
        shoot(page, "phone")

        target = 'a[href="?stream=phone-b"]'
        for _ in range(40):  # Tab from the top of the page to the stream's list item
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({json.dumps(target)})"):
                break
        else:
            pytest.fail("Tab never reached the stream's list item")
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", "focus is visible"
        shoot(page, "phone-focus")
        page.keyboard.press("Enter")
        wait_until(
            lambda: address(page), lambda u: u.endswith("?stream=phone-b"), 5, "Enter switched"
        )
        assert "/api/streams/phone-b/mjpeg" in page.get_attribute("#video", "src")
        wait_until(
            lambda: list_link(page, "phone-b").get_attribute("aria-current"),
            "page".__eq__,
            5,
            "the list marks it shown",
        )
        wait_until(lambda: page.text_content("#stream-id"), "phone-b".__eq__, 5, "in the header")
        overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px of horizontal scroll after switching"
        assert page.uncaught == []
