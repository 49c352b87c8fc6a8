"""Pure logic imports no framework: engines and rules stay fast to test and run anywhere."""

import subprocess
import sys

PURE_MODULES = [
    "serve_app.settings",
    "serve_app.events",
    "serve_app.clock",
    "serve_app.fanout",
    "serve_app.shared_upstream",
    "serve_app.threaded_iter",
    "serve_app.pacing.latency_ema",
    "serve_app.pacing.delay_policy",
    "serve_app.pacing.audio_clock",
    "serve_app.pacing.skip_filter",
    "serve_app.pacing.intensity",
    "serve_app.pacing.pcm_resampler",
    "serve_app.pacing.release_queue",
    "serve_app.pacing.sentences",
    "serve_app.ingest.display_buffer",
    "serve_app.ingest.inference_window",
    "serve_app.ingest.capture_loop",
    "serve_app.sources.source_spec",
    "serve_app.gateway.event_log",
    "serve_app.transcripts.recorder",
    "serve_app.transcripts.store",
    "serve_app.transcripts.formats",
    "serve_app.gateway.stream_session",
    "models.factory",
    "models.describers.base",
    "models.describers.synthetic",
    "models.describers.hf_vlm",
    "models.describers.embedded",
    "models.describers.scene_cues",
    "models.describers.scene_phrases",
    "models.voices.espeak",
    "models.voices.base",
    "models.voices.utterance_ledger",
    "serve_app.routing.utterance_affinity",
]
FRAMEWORKS = ["ray", "fastapi", "starlette", "torch", "transformers"]


def test_pure_modules_import_no_framework() -> None:
    code = (
        "import sys\n"
        f"for m in {PURE_MODULES!r}: __import__(m)\n"
        f"print(','.join(f for f in {FRAMEWORKS!r} if f in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"pure modules pulled in: {out.stdout.strip()}"
