"""The whole service on the embedded default, through real HTTP, as a user's client sees it."""

from __future__ import annotations

import time

import cv2
import httpx
import numpy as np
import pytest

from tests.support.serve_process import DEPLOYMENTS, ServeProcess
from tests.support.streams import SseEvent, read_mjpeg, read_speech, read_sse

pytestmark = pytest.mark.e2e

CLIP_FPS = 25.0  # bigbuckbunny.mp4, the demo clip
CLIP_SIZE = (1280, 720)


def decode(jpeg: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "not a decodable JPEG"
    return image


def test_status_reports_the_embedded_backend_and_five_healthy_deployments(
    client: httpx.Client,
) -> None:
    status = client.get("/api/status").json()
    assert status["backend"]["describer"] == "embedded"
    assert status["backend"]["voice"] == "espeak"
    assert "no GPU" in status["backend"]["reason"]
    assert status["deployments"] == {name: "HEALTHY" for name in DEPLOYMENTS}
    (demo,) = [s for s in status["streams"] if s["id"] == "demo"]
    assert demo["source_state"] == "live"
    assert demo["ingest"]["fps"] == CLIP_FPS


def test_frame_is_the_latest_decodable_jpeg(client: httpx.Client) -> None:
    response = client.get("/api/frame")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    image = decode(response.content)
    assert (image.shape[1], image.shape[0]) == CLIP_SIZE
    later = client.get("/api/frame").headers["x-media-ts"]
    assert float(later) >= float(response.headers["x-media-ts"])


def test_mjpeg_parts_decode_at_the_clips_native_rate(client: httpx.Client) -> None:
    # Right after boot nothing is due yet (the picture lags capture by the delay): read long
    # enough for playback to be under way, and time its steady part.
    parts = list(read_mjpeg(client, "/api/mjpeg", seconds=9.0))
    assert len(parts) > 40
    for part in parts[:: max(1, len(parts) // 5)]:
        assert decode(part.jpeg).shape[:2] == (CLIP_SIZE[1], CLIP_SIZE[0])
    media = [float(p.headers["x-media-ts"]) for p in parts]
    assert media == sorted(media), "frames must come in media order"
    steady = [p for p in parts if p.received_at >= parts[-1].received_at - 3.0]
    rate = (len(steady) - 1) / (steady[-1].received_at - steady[0].received_at)
    assert 0.7 * CLIP_FPS <= rate <= 1.15 * CLIP_FPS, f"{rate:.1f} fps"


def test_mjpeg_is_delayed_by_the_target_delay(client: httpx.Client) -> None:
    delay = client.get("/api/streams/demo").json()["target_delay_s"]
    part = next(read_mjpeg(client, "/api/mjpeg", seconds=3.0))
    lag = part.received_at - float(part.headers["x-capture-wall"])
    assert lag >= delay - 0.1, f"shown {lag:.2f} s after capture, delay is {delay:.2f} s"


def test_sse_delivers_commentary_text_and_cycle_events(client: httpx.Client) -> None:
    def complete_cycle(events: list[SseEvent]) -> dict | None:  # type: ignore[type-arg]
        started = {e.data["cycle"] for e in events if e.event == "cycle_start"}
        return next(
            (
                e.data
                for e in events
                if e.event == "cycle_end" and not e.data["skip"] and e.data["cycle"] in started
            ),
            None,
        )

    events = read_sse(client, "/api/events", seconds=120, until=complete_cycle)
    ended = complete_cycle(events)
    assert ended is not None, [e.event for e in events]
    texts = "".join(
        e.data["text"] for e in events if e.event == "text" and e.data["cycle"] == ended["cycle"]
    )
    assert texts == ended["text"] and len(texts) > 5
    assert ended["latency_s"] > 0
    assert [int(e.id) for e in events] == sorted(int(e.id) for e in events)


def test_audio_stream_delivers_non_silent_48k_pcm(client: httpx.Client) -> None:
    with client.stream("GET", "/api/audio-stream", timeout=httpx.Timeout(10, read=90)) as r:
        assert r.status_code == 200
        assert r.headers["x-audio-rate"] == "48000"
        assert r.headers["x-audio-channels"] == "1"
        assert r.headers["x-audio-format"] == "s16le"
        speech = read_speech(r, speech_s=1.0, rate_hz=48_000)  # silence between lines aside
    rms = np.sqrt(np.mean(speech**2))
    assert len(speech) >= 48_000 and rms > 0.01, f"audio is silent (rms {rms:.4f})"


def test_unknown_stream_is_a_404_with_a_message(client: httpx.Client) -> None:
    response = client.get("/api/streams/nope/mjpeg")
    assert response.status_code == 404
    assert "nope" in response.json()["error"]


def test_bad_sources_and_settings_are_4xx_not_crashes(
    client: httpx.Client, service: ServeProcess
) -> None:
    missing = client.post("/api/streams", json={"source": "/no/such/clip.mp4"})
    assert missing.status_code == 422
    assert "does not exist" in missing.json()["error"]
    scheme = client.post("/api/streams", json={"source": "gopher://x/y"})
    assert scheme.status_code == 422 and "scheme" in scheme.json()["error"]
    setting = client.post("/api/streams", json={"source": "demo", "settings": {"capture_fps": -1}})
    assert setting.status_code == 422 and "capture_fps" in setting.json()["error"]
    unknown = client.post("/api/streams", json={"source": "demo", "settings": {"bogus": 1}})
    assert unknown.status_code == 422 and "bogus" in unknown.json()["error"]
    garbage = client.post(
        "/api/streams", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 422
    not_video = service.workdir / "media" / "not-a-video.mp4"
    not_video.write_bytes(b"this is not a video")
    unreadable = client.post("/api/streams", json={"source": str(not_video)})
    assert unreadable.status_code == 422 and "could not be opened" in unreadable.json()["error"]
    assert client.get("/api/status").json()["deployments"] == {n: "HEALTHY" for n in DEPLOYMENTS}


def test_a_stream_without_speech_has_no_audio_stream(client: httpx.Client) -> None:
    created = client.post(
        "/api/streams",
        json={"source": "demo:bikes.mp4", "id": "quiet", "settings": {"enable_tts": False}},
    )
    assert created.status_code == 201, created.text
    assert created.json()["urls"]["mjpeg"] == "/api/streams/quiet/mjpeg"
    try:
        audio = client.get("/api/streams/quiet/audio-stream")
        assert audio.status_code == 404
        assert "speech is off" in audio.json()["error"]
        frame = client.get("/api/streams/quiet/frame")
        for _ in range(50):  # the first frame is decoded within a fraction of a second
            if frame.status_code == 200:
                break
            time.sleep(0.1)
            frame = client.get("/api/streams/quiet/frame")
        assert decode(frame.content).shape[:2] == (272, 640)
    finally:
        assert client.delete("/api/streams/quiet").status_code == 204
    assert client.get("/api/streams/quiet").status_code == 404
