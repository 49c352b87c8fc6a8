"""The generic Hugging Face backend through the real Serve graph, with a tiny random model.

The words are noise; the test checks the plumbing: the real processor → generate →
streamer path answers in the Commentator replica and reaches an SSE client with timings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.serve_process import ServeProcess, free_port
from tests.support.streams import SseEvent, read_sse

pytestmark = [pytest.mark.e2e, pytest.mark.hf, pytest.mark.own_service]

pytest.importorskip("torch")
pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def hf_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    from tests.fixtures.tiny_vlm import build_tiny_vlm

    workdir = tmp_path_factory.mktemp("hf")
    model_dir = build_tiny_vlm(workdir / "tiny-vlm")
    process = ServeProcess(
        workdir,
        free_port(),
        args={
            "backend": "hf",
            "hf_model_path": str(model_dir),
            "enable_tts": False,
            "max_new_tokens": 12,
            "stream_delay_init_s": 1.0,
            "data_dir": str(workdir / "data"),
        },
    )
    with process.running():
        yield process


def whole_cycles(events: list[SseEvent]) -> list[dict[str, Any]]:
    """The cycle_end events of the cycles whose cycle_start was seen too."""
    started = {e.data["cycle"] for e in events if e.event == "cycle_start"}
    return [e.data for e in events if e.event == "cycle_end" and e.data["cycle"] in started]


def test_hf_backend_streams_commentary_through_serve(hf_service: ServeProcess) -> None:
    with httpx.Client(base_url=hf_service.base_url, timeout=30) as client:
        status = client.get("/api/status").json()
        assert status["backend"]["describer"] == "hf"
        events = read_sse(
            client, "/api/events", seconds=120, until=lambda evs: len(whole_cycles(evs)) >= 2
        )
    # A client joins mid-cycle: only the cycles it saw from their start are whole.
    ends = whole_cycles(events)
    assert len(ends) >= 2
    for end in ends:
        assert end["error"] == ""
        assert end["inference_s"] > 0 and end["latency_s"] >= 0
        pieces = [
            e.data["text"] for e in events if e.event == "text" and e.data["cycle"] == end["cycle"]
        ]
        assert "".join(pieces) == end["text"]
    starts = [e.data for e in events if e.event == "cycle_start"]
    assert all(len(s["frames_media_ts_s"]) >= 1 for s in starts)


def test_tiny_model_dir_is_small(tmp_path: Path) -> None:
    from tests.fixtures.tiny_vlm import build_tiny_vlm

    model_dir = build_tiny_vlm(tmp_path / "m")
    size = sum(f.stat().st_size for f in model_dir.rglob("*") if f.is_file())
    assert size < 5_000_000
