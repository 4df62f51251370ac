# syntax=docker/dockerfile:1.7
# Multi-stage: build wheels with the compilers, run from a slim image as a non-root user.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY realtime ./realtime
COPY sagas ./sagas
COPY sync ./sync
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --upgrade pip && /opt/venv/bin/pip install .

FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    RESORT_API_HOST=0.0.0.0 RESORT_LOG_JSON=true RESORT_DATA_DIR=/var/lib/resort
RUN groupadd --system --gid 10001 resort && useradd --system --uid 10001 --gid resort --no-create-home resort \
 && mkdir -p /var/lib/resort/keys && chown -R 10001:10001 /var/lib/resort
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live', timeout=2).status == 200 else 1)"
ENTRYPOINT ["resort"]
CMD ["run", "api"]
