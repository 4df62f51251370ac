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

from app.problem_docs import readable_after_delete, refusals_of_valid_requests
from app.settings import Settings

POSITIVE_DEFAULT = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# RFC 6585: 428 is the answer to a missing precondition header (If-Match), which the document marks required.
MISSING_HEADER = ["400", "401", "403", "406", "415", "422", "428"]
# Operations that end the caller's own session(s): they would sign the run out halfway.
SESSION_ENDING = ("/auth/logout", "/auth/sessions/{session_id}", "/admin/users/{subject}/sessions")


def _toml(value: object) -> str:
    return json.dumps(value)


def config_text(settings: Settings) -> str:
    """A schemathesis.toml: every check; per operation, the statuses its rules allow, and no 404 expected
    from reading what a ``DELETE`` keeps readable (see app.problem_docs, ``stays_readable``)."""
    from app.main import create_app

    app = create_app(settings)
    checks: dict[tuple[str, str], list[str]] = {}
    for (method, path), statuses in sorted(refusals_of_valid_requests(app).items()):
        allowed = POSITIVE_DEFAULT + sorted(str(s) for s in statuses)
        checks.setdefault((method, path), []).append(
            f"[operations.checks.positive_data_acceptance]\nexpected-statuses = {_toml(allowed)}")
    for method, path in sorted(readable_after_delete(app)):
        checks.setdefault((method, path), []).append("[operations.checks.use_after_free]\nenabled = false")
    # Every check (what ``--checks all`` says, which would also override the per-operation lines below).
    lines = ["[checks]", "enabled = true", "", '[checks.missing_required_header]',
             f"expected-statuses = {_toml(MISSING_HEADER)}", ""]
    for (method, path), tables in sorted(checks.items()):
        # One include filter (several are OR-ed): the operation's label.
        lines += ["[[operations]]", f"include-name = {_toml(f'{method} {path}')}", *tables, ""]
    return "\n".join(lines)


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
