"""Pure logic imports no framework: engines and rules stay fast to test and run anywhere."""

import subprocess
import sys

PURE_MODULES = [
    "serve_app.settings",
    "serve_app.messages",
    "serve_app.clock",
    "serve_app.http.broadcaster",
    "serve_app.http.shared_upstream",
    "deployments.threaded_iter",
    "serve_app.sync.latency_ema",
    "serve_app.sync.delay_policy",
    "serve_app.speech.audio_clock",
    "serve_app.speech.skip_filter",
    "serve_app.prompt.intensity",
    "models.audio",
    "serve_app.sync.release_queue",
    "serve_app.speech.sentences",
    "serve_app.ingest.display_buffer",
    "serve_app.ingest.inference_window",
    "serve_app.ingest.capture_loop",
    "serve_app.sources.source_spec",
    "serve_app.session.event_log",
    "serve_app.transcripts.recorder",
    "serve_app.transcripts.store",
    "serve_app.transcripts.formats",
    "serve_app.session.stream_session",
    "deployments.engine_factory",
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
