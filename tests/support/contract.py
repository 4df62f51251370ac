"""Running schemathesis (every check, stateful phases) against a served api, as one role.

The schemathesis configuration comes from the app itself: an operation whose handler declares rules
the schema cannot express (``opt={"rules": ...}``, see app.problem_docs) may answer their statuses to
schema-valid requests; everything else is held to the document.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from app.contract_config import config_text  # noqa: F401 - the tests write it next to their runs

# Operations that end the caller's own session(s): they would sign the run out halfway.
SESSION_ENDING = ("/auth/logout", "/auth/sessions/{session_id}", "/admin/users/{subject}/sessions")


@dataclass
class Run:
    returncode: int
    output: str
    command: list[str]


def run_schemathesis(url: str, token: str | None, config: Path, *, seed: int, examples: int,
                     phases: str = "examples,coverage,fuzzing,stateful", max_steps: int | None = None,
                     extra: list[str] | None = None, timeout: float = 600, hooks: str = "") -> Run:
    """``schemathesis run`` with every check (the config enables them all) against ``url``, without the
    session-ending operations."""
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "run",
               f"{url}/docs/openapi.json", "--phases", phases, "--seed", str(seed),
               "--max-examples", str(examples), "--no-color", "--workers", "1",
               "--request-timeout", "60"]  # a busy shared machine; slowness is not what this looks for
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    for path in SESSION_ENDING:
        command += ["--exclude-path", path]
    command += extra or []
    env = {**os.environ, "SCHEMATHESIS_HOOKS": hooks, "NO_COLOR": "1"}  # hooks: a module, e.g. for fresh keys
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)
    return Run(done.returncode, done.stdout + done.stderr, command)
