# syntax=docker/dockerfile:1
# The service on a GPU host: MiniCPM-o 4.5 on vLLM (the `[gpu]` extra), eSpeak NG speaking.
#
#   docker build -f containers/gpu.Dockerfile -t live-commentary:gpu .
#   docker run --init --gpus all --ipc=host -p 8000:8000 -p 8080:8080 \
#       -v /path/to/weights:/app/weights:ro live-commentary:gpu
#
# Weights are never part of the image: mount the folder that holds MiniCPM-o-4_5-awq/ at
# /app/weights (MODEL_PATH defaults to weights/MiniCPM-o-4_5-awq, relative to /app).
# GPU_CONFIG=configs/gpu-bf16.yaml builds the BF16 preset instead. docs/containers.md.

# torch 2.11.0 from PyPI is built for CUDA 13.0 and brings its own CUDA libraries as wheels;
# the base image gives the matching runtime layout and the NVIDIA container toolkit's hooks.
# Ubuntu 24.04's Python is 3.12, the one vLLM 0.26 was measured with (docs/gpu.md).
ARG CUDA_IMAGE=nvidia/cuda:13.0.2-runtime-ubuntu24.04

# ---- build: the project with the [gpu] extra, in a virtual environment ----------------------
FROM ${CUDA_IMAGE} AS build
ARG GPU_CONFIG=configs/gpu-awq.yaml
ENV DEBIAN_FRONTEND=noninteractive \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# Ubuntu's archive drops a package version once it is superseded, so exact apt pins would break
# the build within weeks; the base image's tag fixes the release (noble) instead.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.12 python3.12-venv \
    && rm -rf /var/lib/apt/lists/*
RUN python3.12 -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY serve_app/ serve_app/
COPY deployments/ deployments/
COPY models/ models/
# vllm==0.26.0 with exactly what its wheel pins (torch 2.11.0, torchvision 0.26.0, torchaudio
# 2.11.0) and transformers >= 5.5.3: pyproject.toml's [gpu] extra, docs/minicpmo.md.
RUN /opt/venv/bin/pip install --no-cache-dir ".[gpu]"
# The presets bind HTTP to 127.0.0.1; in a container it must be every interface.
COPY configs/ configs/
RUN sed 's/^  host: 127\.0\.0\.1$/  host: 0.0.0.0/' "${GPU_CONFIG}" > /src/container-gpu.yaml \
    && grep -q '^  host: 0\.0\.0\.0$' /src/container-gpu.yaml

# ---- runtime -------------------------------------------------------------------------------
FROM ${CUDA_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
# gcc, libc6-dev and python3.12-dev: Triton (vLLM's kernels, torch.compile) compiles a small C
# launcher against Python.h the first time the engine starts.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.12 python3.12-dev gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
# RAY_USAGE_STATS_ENABLED=0: no usage report. METRICS_PORT: Ray's Prometheus export port.
# HF_HUB_OFFLINE=1: weights come from the mount, never from a hub (set 0 to let MODEL_PATH be a
# hub id on a host with network). VLLM_USE_FLASHINFER_SAMPLER=0: PyTorch's sampler, as in the
# measured runs (docs/gpu.md); flashinfer compiles kernels with nvcc, which a runtime image lacks.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RAY_USAGE_STATS_ENABLED=0 \
    RAY_DISABLE_DOCKER_CPU_WARNING=1 \
    METRICS_PORT=8080 \
    HF_HUB_OFFLINE=1 \
    VLLM_USE_FLASHINFER_SAMPLER=0
# UID 10001: Ubuntu's image already has `ubuntu` as 1000. The home holds ~/.ray and the caches
# of Triton, torch.compile and vLLM (~/.triton, ~/.cache).
RUN groupadd --gid 10001 app \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY configs/ configs/
COPY --from=build /src/container-gpu.yaml configs/container-gpu.yaml
# weights/: the mount point for the model (read-only is enough); data/: DATA_DIR (SQLite).
RUN mkdir /app/weights /app/data && chown 10001:10001 /app/data
USER 10001:10001
EXPOSE 8000 8080
# vLLM's start (torch.compile, CUDA graph capture) takes 1.5-2 min before the first health check
# can pass (docs/minicpmo.md).
HEALTHCHECK --interval=15s --timeout=5s --start-period=300s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/status', timeout=4)"]
CMD ["python", "-m", "deployments.launch", "configs/container-gpu.yaml"]
