"""MiniCPM-o's path through the real Serve graph, with a stand-in for the weights.

The Commentator runs the real MiniCPMODescriber around a stand-in model object whose
methods mirror the real remote code (tests/fixtures/fake_minicpmo.py says where each comes
from); the Vocoder runs the real Token2wavVoice around a stand-in Token2wav. Speech tokens
cross from one deployment to the other as they would on a GPU node.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from models.loading.token2wav_assets import TOKEN2WAV_FILES
from tests.support.serve_process import ServeProcess, free_port
from tests.support.streams import read_speech, read_sse

pytestmark = [pytest.mark.e2e, pytest.mark.own_service]


def write_assets(root: Path) -> tuple[Path, Path]:
    """A Token2wav folder (file names as the real one has) and a 16 kHz reference voice."""
    tts_dir = root / "assets" / "token2wav"
    tts_dir.mkdir(parents=True)
    for name in TOKEN2WAV_FILES:
        (tts_dir / name).write_bytes(b"stand-in")
    ref = root / "assets" / "ref_audio.wav"
    t = np.arange(16_000 * 3) / 16_000
    samples = (0.3 * np.sin(2 * np.pi * 180 * t) * 32767).astype("<i2")
    with wave.open(str(ref), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(samples.tobytes())
    return tts_dir, ref


@pytest.fixture(scope="module")
def minicpmo_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    workdir = tmp_path_factory.mktemp("minicpmo")
    tts_dir, ref = write_assets(workdir / "model")
    process = ServeProcess(
        workdir,
        free_port(),
        args={
            "backend": "minicpmo",
            "minicpmo_engine": "remote_code",  # the engine with MiniCPM-o's own voice
            "voice": "token2wav",
            "minicpmo_loader": "tests.fixtures.fake_minicpmo:load_fake_minicpmo",
            "token2wav_factory": "tests.fixtures.fake_minicpmo:FakeToken2wav",
            "model_path": str(workdir / "model"),
            "tts_model_dir": str(tts_dir),
            "ref_audio_path": str(ref),
            "stream_delay_init_s": 1.0,
            "data_dir": str(workdir / "data"),
        },
    )
    with process.running():
        yield process


def test_text_and_speech_tokens_flow_through_commentator_and_vocoder(
    minicpmo_service: ServeProcess,
) -> None:
    with httpx.Client(base_url=minicpmo_service.base_url, timeout=30) as client:
        backend = client.get("/api/status").json()["backend"]
        assert (backend["describer"], backend["voice"]) == ("minicpmo", "token2wav")
        assert backend["voice_input"] == "tokens" and backend["describer_speaks"]
        events = read_sse(
            client,
            "/api/events",
            seconds=120,
            until=lambda evs: sum(e.event == "cycle_end" for e in evs) >= 4,
        )
        transcript = client.get("/api/streams/demo/transcript").json()
    ends = [e.data for e in events if e.event == "cycle_end"]
    assert all(end["error"] == "" for end in ends), ends
    spoken = [end for end in ends if not end["skip"]]
    skipped = [end for end in ends if end["skip"]]
    assert spoken and skipped, "the stand-in alternates real answers and skips"
    for end in spoken:
        assert "<|" not in end["text"], "special tokens are stripped"
        # The cycle's latency counts to its first audio: speech tokens reached the Vocoder
        # and came back as sound.
        assert end["latency_s"] > 0
    assert {line["text"] for line in transcript} <= {e["text"].strip() for e in spoken}
    assert len(transcript) >= 1


def test_speech_comes_out_as_48k_pcm_and_skips_are_silent(minicpmo_service: ServeProcess) -> None:
    with (
        httpx.Client(base_url=minicpmo_service.base_url, timeout=30) as client,
        client.stream("GET", "/api/audio-stream", timeout=httpx.Timeout(10, read=60)) as r,
    ):
        assert r.status_code == 200 and r.headers["x-audio-rate"] == "48000"
        speech = read_speech(r, speech_s=1.0, rate_hz=48_000)  # silence between lines aside
    assert len(speech) >= 48_000 and np.sqrt(np.mean(speech**2)) > 0.01
