"""The running ``resort up``'s state file (``<data dir>/stack.json``) and its lock (``stack.lock``).

``resort up`` holds the lock for its whole life (a second one on the same data folder refuses to start)
and rewrites the state file atomically whenever a process starts, exits or restarts; ``resort status``
reads it and probes what it lists.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any


class StackBusy(RuntimeError):
    """Another ``resort up`` runs on this data folder; the message says which."""


class StackState:
    def __init__(self, data_path: Path, api_url: str) -> None:
        self.path = data_path / "stack.json"
        self.lock_path = data_path / "stack.lock"
        self.api_url = api_url
        self.started_at = time.time()
        self._lock: Any = None

    def acquire(self) -> None:
        """Take the data folder's lock, or raise :class:`StackBusy` naming the ``resort up`` holding it."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.lock_path, "a+")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            other = read_state(self.path) or {}
            raise StackBusy(
                f"another `resort up` is already running (pid {other.get('pid', '?')}, api on "
                f"{other.get('api_url', '?')}, data in {self.lock_path.parent}); stop it with Ctrl-C first, "
                "or give this one other ports and another RESORT_DATA_DIR"
            ) from None
        self._lock = handle

    def write(self, units: list[dict[str, object]]) -> None:
        document = {"pid": os.getpid(), "started_at": self.started_at, "api_url": self.api_url,
                    "written_at": time.time(), "units": units}
        temporary = self.path.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(document, indent=1))
        os.replace(temporary, self.path)

    def release(self) -> None:
        if self._lock is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._lock.close()
        self._lock = None


def read_state(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
