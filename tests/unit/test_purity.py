"""Pure logic imports no framework: engines and rules stay fast to test and run anywhere.

Every module of serve_app is pure (found on disk, so a new one is checked without being
listed): no Ray, no torch or transformers, and, outside serve_app.http, no web framework
either. serve_app.http is the HTTP surface: FastAPI, Starlette and sse-starlette are its
business, Ray is not (the Ingress deployment hands it a backend). Outside serve_app, the
modules listed below must stay as light.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HTTP_PACKAGE = "serve_app.http"

PURE_OUTSIDE_SERVE_APP = [
    "deployments.threaded_iter",
    "deployments.engine_factory",
    "models.audio",
    "models.messages",
    "models.describers.base",
    "models.describers.synthetic",
    "models.describers.hf_vlm",
    "models.describers.embedded",
    "models.describers.scene_cues",
    "models.describers.scene_phrases",
    "models.voices.espeak",
    "models.voices.base",
    "models.voices.utterance_ledger",
]
MODEL_AND_CLUSTER_FRAMEWORKS = ["ray", "torch", "transformers"]
WEB_FRAMEWORKS = ["fastapi", "starlette", "sse_starlette"]


def serve_app_modules() -> list[str]:
    names = []
    for path in sorted((ROOT / "serve_app").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def in_http(module: str) -> bool:
    return module == HTTP_PACKAGE or module.startswith(HTTP_PACKAGE + ".")


def frameworks_pulled_in(modules: list[str], frameworks: list[str]) -> str:
    """Which of ``frameworks`` importing ``modules`` loads, in a fresh interpreter."""
    code = (
        "import sys\n"
        f"for m in {modules!r}: __import__(m)\n"
        f"print(','.join(f for f in {frameworks!r} if f in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return out.stdout.strip()


def test_every_serve_app_module_is_found_http_ones_included() -> None:
    modules = serve_app_modules()
    assert "serve_app.messages" in modules
    assert {"serve_app.http.api", "serve_app.http.routes", "serve_app.http.wire"} <= set(modules)


def test_pure_modules_import_no_framework() -> None:
    modules = [m for m in serve_app_modules() if not in_http(m)] + PURE_OUTSIDE_SERVE_APP
    pulled = frameworks_pulled_in(modules, MODEL_AND_CLUSTER_FRAMEWORKS + WEB_FRAMEWORKS)
    assert pulled == "", f"pure modules pulled in: {pulled}"


def test_the_http_surface_imports_no_ray_and_no_model_framework() -> None:
    modules = [m for m in serve_app_modules() if in_http(m)]
    pulled = frameworks_pulled_in(modules, MODEL_AND_CLUSTER_FRAMEWORKS)
    assert pulled == "", f"serve_app.http pulled in: {pulled}"
