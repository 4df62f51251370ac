# syntax=docker/dockerfile:1.7
# One image for every role: `resort run api`, `resort run <worker role>`, `resort migrate`, ...
# Multi-stage: the build stage has the compilers and makes the virtual environment; the runtime stage gets
# only that environment, runs as a non-root user, and has no compiler. The base is pinned to a patch release
# (CI pins its digest when it pushes: `docker buildx build --build-arg PYTHON_IMAGE=python:...@sha256:...`).
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY realtime ./realtime
COPY sagas ./sagas
COPY sync ./sync
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir .

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    RESORT_API_HOST=0.0.0.0 RESORT_LOG_JSON=true RESORT_DATA_DIR=/var/lib/resort RESORT_WORKER_METRICS_PORT=9100
RUN groupadd --system --gid 10001 resort && useradd --system --uid 10001 --gid resort --no-create-home resort \
 && mkdir -p /var/lib/resort/keys /var/lib/resort/payments && chown -R 10001:10001 /var/lib/resort
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /var/lib/resort
EXPOSE 8000 9100
# The api's /health/live, or a worker role's own HTTP server (app/probe.py).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["python", "-m", "app.probe"]
ENTRYPOINT ["resort"]
CMD ["run", "api"]
