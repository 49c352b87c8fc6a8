"""build_app: serve_config.yaml's import_path. Settings in, the bound five-deployment graph out.

This is the only place that reads settings from outside (the YAML's ``args`` and the
environment), picks the backends, and sets each deployment's resources. A replica that asks
for a GPU on a machine without one would wait forever without a word, so GPUs are asked
for only when one is really there.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from ray.serve import Application
from ray.serve.config import RequestRouterConfig

from deployments.backend_choice import BackendChoice, check_can_start, choose_backends
from deployments.cluster import gpus_in_reach
from deployments.commentator import Commentator
from deployments.frame_ingest import FrameIngest
from deployments.gateway import StreamGateway
from deployments.ingress import Ingress
from deployments.vocoder import Vocoder
from serve_app.http.access import AccessPolicy
from serve_app.settings import ServiceSettings, SettingsError, load_settings

log = logging.getLogger("ray.serve")

# Long-lived MJPEG/SSE/audio connections each hold a request slot for their whole life;
# Serve's default of 5 per replica would stall the sixth viewer.
INGRESS_MAX_ONGOING = 1000
# The gateway serves a follow() stream per Ingress hub plus control calls.
GATEWAY_MAX_ONGOING = 1000
# FrameIngest serves a display_frames() stream per Ingress hub plus each cycle's frames.
INGEST_MAX_ONGOING = 1000
# A draining gateway or ingest replica keeps its streams' leases until it exits; its
# long-lived feeds would hold Serve's default drain (20 s) to the end.
STREAM_DRAIN_S = 5.0
# The methods whose first argument is a stream id: they go to the replica holding it.
GATEWAY_STREAM_METHODS = (
    "create_stream",
    "delete_stream",
    "ask",
    "follow",
    "events_since",
    "get_stream",
)
INGEST_STREAM_METHODS = (
    "open_stream",
    "close_stream",
    "take_batch",
    "set_display_delay",
    "latest_frame",
    "display_frames",
)


def backend_info(choice: BackendChoice, gpu_available: bool) -> dict[str, Any]:
    """The choice as /api/status shows it; the gateway reads voice_input and describer_speaks."""
    return {
        "describer": str(choice.describer),
        "voice": str(choice.voice),
        "reason": choice.reason,
        "gpu": gpu_available,
        "voice_input": str(choice.voice_input),
        "describer_speaks": choice.describer_speaks,
    }


def access_policy(settings: ServiceSettings) -> AccessPolicy:
    if settings.api_token:
        return AccessPolicy(settings.api_token, False, settings.protect_reads)
    token = secrets.token_urlsafe(24)
    # Printed once so an operator can reach a service bound beyond loopback.
    log.warning("API_TOKEN unset: generated %s (clients on loopback need none)", token)
    return AccessPolicy(token, True, settings.protect_reads)


def stream_router(settings: ServiceSettings, methods: tuple[str, ...]) -> RequestRouterConfig:
    """Several replicas each hold a share of the streams: a stream's calls go to its own."""
    return RequestRouterConfig(
        request_router_class="deployments.stream_router:StreamAffinityRouter",
        request_router_kwargs={
            "placements": str(Path(settings.data_dir) / "placements.sqlite"),
            "stream_methods": list(methods),
        },
    )


def build_graph(settings: ServiceSettings, gpu_available: bool) -> Application:
    choice = choose_backends(settings, gpu_available)
    try:
        check_can_start(settings, choice, gpu_available)
    except ValueError as error:  # ModelDirError too: a config error, before anything deploys
        raise SettingsError(str(error)) from None
    info = backend_info(choice, gpu_available)
    log.info("backend: %s describer, %s voice (%s)", choice.describer, choice.voice, choice.reason)
    commentator_gpus = settings.commentator_num_gpus if choice.wants_gpu and gpu_available else 0
    vocoder_gpus = settings.vocoder_num_gpus if choice.voice_wants_gpu and gpu_available else 0
    # num_cpus 0–0.5 everywhere: each deployment otherwise reserves a whole CPU and five of
    # them never fit a 2-core machine (they sit DEPLOYING forever, silently).
    ingest = FrameIngest.options(
        ray_actor_options={"num_cpus": 0.25},
        max_ongoing_requests=INGEST_MAX_ONGOING,
        request_router_config=stream_router(settings, INGEST_STREAM_METHODS),
        graceful_shutdown_timeout_s=STREAM_DRAIN_S,
    ).bind(settings)
    commentator = Commentator.options(
        ray_actor_options={"num_cpus": 0.25, "num_gpus": commentator_gpus},
        max_ongoing_requests=settings.max_streams + 4,  # a cycle per stream, plus questions
    ).bind(settings, choice)
    vocoder = Vocoder.options(
        ray_actor_options={"num_cpus": 0.1, "num_gpus": vocoder_gpus},
        # An utterance's pieces share the vocoder's caches: they must stay on one replica.
        request_router_config=RequestRouterConfig(
            request_router_class="deployments.vocoder_router:UtteranceAffinityRouter"
        ),
    ).bind(settings, choice)
    gateway = StreamGateway.options(
        ray_actor_options={"num_cpus": 0.1},
        max_ongoing_requests=GATEWAY_MAX_ONGOING,
        request_router_config=stream_router(settings, GATEWAY_STREAM_METHODS),
        graceful_shutdown_timeout_s=STREAM_DRAIN_S,
    ).bind(settings, ingest, commentator, vocoder, info)
    return Ingress.options(
        ray_actor_options={"num_cpus": 0.1}, max_ongoing_requests=INGRESS_MAX_ONGOING
    ).bind(settings, gateway, ingest, info, access_policy(settings))


def build_app(args: dict[str, Any]) -> Application:
    """Ray Serve application builder (serve_config.yaml: import_path: deployments.app:build_app)."""
    settings = load_settings(args)  # raises SettingsError naming each bad field
    logging.getLogger("serve_app").setLevel(settings.log_level)
    sight = gpus_in_reach()
    log.info("GPUs: %s", sight.seen_on)
    return build_graph(settings, sight.available)
