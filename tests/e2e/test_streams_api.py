"""Many streams, live sources, transcripts, questions and the guards, through real HTTP."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.fixture_video import write_counter_clip
from tests.support.live_server import LiveHttpSource
from tests.support.serve_process import ServeProcess
from tests.support.streams import read_sse

pytestmark = pytest.mark.e2e


def wait_for_state(client: httpx.Client, stream_id: str, state: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        info = client.get(f"/api/streams/{stream_id}").json()
        if info.get("source_state") == state:
            return True
        time.sleep(0.2)
    return False


def test_writes_need_the_token(service: ServeProcess) -> None:
    with httpx.Client(base_url=service.base_url, timeout=30) as anonymous:
        response = anonymous.post("/api/streams", json={"source": "demo"})
        assert response.status_code == 401 and "Bearer" in response.json()["error"]
        wrong = anonymous.delete("/api/streams/demo", headers={"Authorization": "Bearer no"})
        assert wrong.status_code == 403
        assert anonymous.get("/api/status").status_code == 200  # reads stay open


def test_oversize_body_is_a_413(client: httpx.Client) -> None:
    response = client.post(
        "/api/streams",
        content=b'{"source": "' + b"x" * 100_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413 and "MAX_REQUEST_BYTES" in response.json()["error"]


def test_files_outside_the_allowed_roots_are_refused(
    client: httpx.Client, service: ServeProcess
) -> None:
    outside = service.workdir / "outside.mp4"
    write_counter_clip(outside, seconds=1.0)
    refused = client.post("/api/streams", json={"source": str(outside)})
    assert refused.status_code == 422 and "outside the allowed roots" in refused.json()["error"]
    traversal = client.post(
        "/api/streams", json={"source": str(service.workdir / "media" / ".." / "outside.mp4")}
    )
    assert traversal.status_code == 422 and "outside" in traversal.json()["error"]


def test_create_list_transcript_and_delete_a_file_stream(
    client: httpx.Client, service: ServeProcess
) -> None:
    clip = write_counter_clip(service.workdir / "media" / "counter.mp4", seconds=6.0)
    created = client.post(
        "/api/streams",
        json={
            "source": str(clip),
            "id": "counter",
            "settings": {"enable_tts": False, "stream_delay_init_s": 1.0, "loop": False},
        },
    )
    assert created.status_code == 201, created.text
    assert (
        client.post("/api/streams", json={"source": str(clip), "id": "counter"}).status_code == 409
    )
    assert "counter" in {s["id"] for s in client.get("/api/streams").json()}
    events = read_sse(
        client,
        "/api/streams/counter/events",
        seconds=60,
        until=lambda evs: any(e.event == "state" and e.data["state"] == "ended" for e in evs),
    )
    states = [e.data["state"] for e in events if e.event == "state"]
    assert "ended" in states, "a file that is not looped ends with an event"
    said = [e.data for e in events if e.event == "cycle_end" and not e.data["skip"]]
    transcript = client.get("/api/streams/counter/transcript").json()
    assert [line["text"] for line in transcript] == [s["text"].strip() for s in said]
    vtt = client.get("/api/streams/counter/transcript", params={"format": "vtt"})
    assert vtt.text.startswith("WEBVTT") and vtt.headers["content-type"].startswith("text/vtt")
    srt = client.get("/api/streams/counter/transcript", params={"format": "srt"}).text
    assert srt.count(" --> ") == len(transcript)
    assert client.delete("/api/streams/counter").status_code == 204
    # The transcript outlives the stream; nothing said is lost.
    assert len(client.get("/api/streams/counter/transcript").json()) == len(transcript)


def test_asking_about_the_picture_streams_an_answer(client: httpx.Client) -> None:
    with client.stream(
        "POST",
        "/api/streams/demo/ask",
        json={"question": "What colours do you see?"},
        timeout=httpx.Timeout(10, read=60),
    ) as response:
        assert response.status_code == 200
        lines = [line for line in response.iter_lines() if line.startswith("event:")]
    assert "event: answer" in lines and lines[-1] == "event: done"
    assert client.post("/api/streams/demo/ask", json={"question": ""}).status_code == 422
    assert client.post("/api/streams/nope/ask", json={"question": "hi"}).status_code == 404


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_a_live_source_reconnects_and_clients_stay_connected(
    client: httpx.Client, tmp_path: Path
) -> None:
    server = LiveHttpSource(write_counter_clip(tmp_path / "live.mp4", seconds=4.0))
    server.start()
    try:
        created = client.post(
            "/api/streams",
            json={"source": server.url, "id": "live", "settings": {"enable_tts": False}},
        )
        assert created.status_code == 201, created.text
        assert wait_for_state(client, "live", "live", 20)
        collected: list = []  # type: ignore[type-arg]

        def listen() -> None:
            collected.extend(
                read_sse(
                    client,
                    "/api/streams/live/events",
                    seconds=60,
                    until=lambda evs: (
                        [e.data["state"] for e in evs if e.event == "state"][-2:]
                        == ["reconnecting", "live"]
                    ),
                )
            )

        listener = threading.Thread(target=listen)
        listener.start()
        time.sleep(1.0)
        server.kill()
        assert wait_for_state(client, "live", "reconnecting", 30)
        server.start()
        assert wait_for_state(client, "live", "live", 30)
        listener.join(60)
        states = [e.data["state"] for e in collected if e.event == "state"]
        assert states[-2:] == ["reconnecting", "live"], "one SSE connection saw it all"
    finally:
        client.delete("/api/streams/live")
        server.kill()


def test_the_stream_limit(client: httpx.Client) -> None:
    created = []
    try:
        for i in range(20):
            response = client.post(
                "/api/streams",
                json={
                    "source": "demo:carphone_pristine.mp4",
                    "id": f"many-{i}",
                    "settings": {"enable_tts": False},
                },
            )
            if response.status_code == 429:
                assert "MAX_STREAMS" in response.json()["error"]
                break
            assert response.status_code == 201
            created.append(f"many-{i}")
        else:
            pytest.fail("no limit")
    finally:
        for stream_id in created:
            assert client.delete(f"/api/streams/{stream_id}", timeout=60).status_code == 204


def test_an_sse_client_resumes_with_last_event_id_without_gaps_or_repeats(
    client: httpx.Client,
) -> None:
    first = read_sse(client, "/api/events", seconds=60, until=lambda evs: len(evs) >= 3)
    seen = [int(e.id) for e in first]
    resumed = read_sse(
        client,
        "/api/events",
        seconds=60,
        until=lambda evs: len(evs) >= 3,
        headers={"Last-Event-ID": str(seen[0])},
    )
    ids = [int(e.id) for e in resumed]
    assert ids == sorted(set(ids)), "no event twice, in order"
    assert ids[0] > seen[0] and ids[0] <= seen[1], "it starts right after the id it gave"
