"""The container's HEALTHCHECK (``python -m app.probe``): exit 0 when this container's process answers.

The one image runs any role, so the probe asks the api's ``/health/live`` when the api's port listens, else
the worker role's own HTTP server (``RESORT_WORKER_METRICS_PORT``). Standard library only: it starts fast.
"""

from __future__ import annotations

import os
import sys
import urllib.request

TIMEOUT_S = 2.0


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except OSError:
        return False


def main() -> int:
    api = f"http://127.0.0.1:{os.environ.get('RESORT_API_PORT', '8000')}/health/live"
    metrics_port = os.environ.get("RESORT_WORKER_METRICS_PORT", "0")
    worker = f"http://127.0.0.1:{metrics_port}/metrics" if metrics_port not in ("", "0") else None
    return 0 if _answers(api) or (worker is not None and _answers(worker)) else 1


if __name__ == "__main__":
    sys.exit(main())
