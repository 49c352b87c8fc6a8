"""The vLLM MiniCPM-o engine through the real Serve graph, with a stand-in for vLLM itself.

The Commentator runs the real MiniCPMOVllmDescriber and the real start-up checks
(``check_model_dir``, ``engine_args``) on a model directory with a real config.json; only the
engine object is the stand-in of vLLM 0.26's AsyncLLM (tests/fixtures/fake_vllm.py). Three
streams run at once: their cycles must share the engine's batch, not queue behind a lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from models.describers.frame_prep import SLICE_SIDE_PX
from tests.support.serve_process import ServeProcess, free_port
from tests.support.streams import read_sse
from tests.unit.models.loading.test_vllm_engine import write_model_dir

pytestmark = [pytest.mark.e2e, pytest.mark.own_service]


@pytest.fixture(scope="module")
def vllm_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    workdir = tmp_path_factory.mktemp("vllm")
    stats = workdir / "engine_stats.json"
    process = ServeProcess(
        workdir,
        free_port(),
        args={
            "backend": "minicpmo",
            "minicpmo_engine_factory": "tests.fixtures.fake_vllm:start_fake_engine",
            "model_path": str(write_model_dir(workdir)),
            "stream_delay_init_s": 1.0,
            "enable_tts": False,
            "data_dir": str(workdir / "data"),
        },
        # 0.1 s a token: each answer takes most of a second, so streams' cycles overlap.
        env={"FAKE_VLLM_STATS": str(stats), "FAKE_VLLM_STEP_S": "0.1"},
    )
    process.stats_file = stats  # type: ignore[attr-defined]
    with process.running():
        yield process


def test_streams_share_the_engine_and_their_commentary_arrives(vllm_service: ServeProcess) -> None:
    with httpx.Client(base_url=vllm_service.base_url, timeout=30) as client:
        backend = client.get("/api/status").json()["backend"]
        assert (backend["describer"], backend["voice"]) == ("minicpmo", "espeak")
        assert not backend["describer_speaks"], "vLLM returns text only"
        for name in ("two", "three"):
            created = client.post(
                "/api/streams",
                json={"source": "demo", "id": name, "settings": {"enable_tts": False}},
            )
            assert created.status_code == 201, created.text
        ends = {}
        for name in ("demo", "two", "three"):
            events = read_sse(
                client,
                f"/api/streams/{name}/events",
                seconds=90,
                until=lambda evs: sum(e.event == "cycle_end" for e in evs) >= 2,
            )
            ends[name] = [e.data for e in events if e.event == "cycle_end"]
    for name, cycle_ends in ends.items():
        assert len(cycle_ends) >= 2, name
        assert all(end["error"] == "" for end in cycle_ends), cycle_ends
        texts = {end["text"].strip() for end in cycle_ends}
        assert "A rabbit steps out of its burrow." in texts, (name, texts)
    stats = json.loads(vllm_service.stats_file.read_text())  # type: ignore[attr-defined]
    assert stats["peak_batch"] >= 2, "cycles of different streams were in flight together"
    assert stats["raw_prompts"] == 0
    assert 0 < stats["largest_image_area"] <= SLICE_SIDE_PX**2
    assert stats["max_cached_tokens"] > 0, "a stream's history came back as a cached prefix"


def test_a_question_is_answered_by_the_engine(vllm_service: ServeProcess) -> None:
    with httpx.Client(base_url=vllm_service.base_url, timeout=60) as client:
        response = client.post("/api/streams/demo/ask", json={"question": "What animal is it?"})
        assert response.status_code == 200, response.text
        assert "rabbit in a meadow" in response.text
