"""Running schemathesis (every check, stateful phases) against a served api, as one role.

The schemathesis configuration comes from the app itself: an operation whose handler declares rules
the schema cannot express (``opt={"rules": ...}``, see app.problem_docs) may answer their statuses to
schema-valid requests; everything else is held to the document.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from app.problem_docs import refusals_of_valid_requests
from app.settings import Settings

POSITIVE_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# RFC 6585: 428 is the answer to a missing precondition header (If-Match), which the document marks required.
MISSING_HEADER = ["400", "401", "403", "406", "415", "422", "428"]
# Operations that end the caller's own session(s): they would sign the run out halfway.
SESSION_ENDING = ("/auth/logout", "/auth/sessions/{session_id}", "/admin/users/{subject}/sessions")


def _toml(value: object) -> str:
    return json.dumps(value)


def config_text(settings: Settings) -> str:
    """A schemathesis.toml: every check; per operation, the statuses its rules allow."""
    from app.main import create_app

    app = create_app(settings)
    lines = ['[checks.missing_required_header]', f"expected-statuses = {_toml(MISSING_HEADER)}", ""]
    for (method, path), statuses in sorted(refusals_of_valid_requests(app).items()):
        allowed = POSITIVE_DEFAULT + sorted(str(s) for s in statuses)
        # One include filter (several are OR-ed): the operation's label.
        lines += ["[[operations]]", f"include-name = {_toml(f'{method} {path}')}",
                  "[operations.checks.positive_data_acceptance]", f"expected-statuses = {_toml(allowed)}", ""]
    return "\n".join(lines)


@dataclass
class Run:
    returncode: int
    output: str
    command: list[str]


def run_schemathesis(url: str, token: str | None, config: Path, *, seed: int, examples: int,
                     phases: str = "examples,coverage,fuzzing,stateful", max_steps: int | None = None,
                     extra: list[str] | None = None, timeout: float = 600) -> Run:
    """``schemathesis run`` with every check against ``url``, without the session-ending operations."""
    command = [str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(config), "run",
               f"{url}/docs/openapi.json", "--checks", "all", "--phases", phases, "--seed", str(seed),
               "--max-examples", str(examples), "--no-color", "--workers", "1"]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    for path in SESSION_ENDING:
        command += ["--exclude-path", path]
    command += extra or []
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)
    return Run(done.returncode, done.stdout + done.stderr, command)
