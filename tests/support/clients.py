"""Generated clients of the OpenAPI document, as a partner developer makes them: ``openapi-python-client``
(pinned in pyproject.toml) and ``openapi-typescript`` (pinned by ``contract/clients/ts/package-lock.json``,
installed into its git-ignored ``node_modules`` by scripts/setup.sh), and what each generated."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TS_DIR = ROOT / "contract" / "clients" / "ts"
TS_BIN = TS_DIR / "node_modules" / ".bin"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_REQUEST = re.compile(r'"method": "(\w+)",\s*"url": "([^"]+)"')
_STATUS = re.compile(r"response\.status_code == (\d+):")


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method.upper(), path): operation for path, item in doc["paths"].items()
            for method, operation in item.items() if method in METHODS}


def json_statuses(operation: dict[str, Any]) -> set[int]:
    """The statuses whose answer has a JSON body (a client must parse each into its type)."""
    return {int(status) for status, answer in operation.get("responses", {}).items()
            if any(media.endswith("json") for media in (answer.get("content") or {}))}


@dataclass
class Generated:
    output: str  # what the generator printed
    root: Path


def _run(command: list[str], cwd: Path, timeout: float = 120) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "NO_COLOR": "1"}
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


def python_client(doc: dict[str, Any], where: Path) -> Generated:
    """``openapi-python-client generate`` on ``doc`` into ``where/gresort_client`` (its post-hook: ruff)."""
    source = where / "openapi.json"
    source.write_text(json.dumps(doc))
    output = _run([str(Path(sys.executable).with_name("openapi-python-client")), "generate", "--path",
                   str(source), "--meta", "none", "--output-path", str(where / "gresort_client")], where)
    return Generated(output, where / "gresort_client")


def python_requests(root: Path) -> dict[tuple[str, str], set[int]]:
    """``(METHOD, path template)`` of every generated operation module -> the statuses it parses."""
    found = {}
    for module in (root / "api").rglob("*.py"):
        text = module.read_text()
        if match := _REQUEST.search(text):
            found[(match[1].upper(), match[2])] = {int(s) for s in _STATUS.findall(text)}
    return found


def python_models(root: Path) -> set[str]:
    init = (root / "models" / "__init__.py").read_text()
    return set(re.findall(r'^\s+"(\w+)",$', init, re.M))


def import_package(root: Path, name: str) -> ModuleType:
    """The generated package under a name of the caller's choosing (its own imports are relative)."""
    spec = importlib.util.spec_from_file_location(name, root / "__init__.py", submodule_search_locations=[str(root)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def typescript_client(doc: dict[str, Any], where: Path) -> Generated:
    """``openapi-typescript`` on ``doc``, then ``tsc --strict`` on it and on a file naming every operation
    and schema of ``doc`` through the generated types (a missing one does not compile)."""
    source = where / "openapi.json"
    source.write_text(json.dumps(doc))
    output = _run([str(TS_BIN / "openapi-typescript"), str(source), "-o", str(where / "api.d.ts")], where)
    lines = ['import type { components, paths } from "./api";', "export type Everything = ["]
    lines += [f'  paths["{path}"]["{method.lower()}"],' for method, path in operations(doc)]
    lines += [f'  components["schemas"]["{name}"],' for name in doc["components"]["schemas"]]
    (where / "everything.ts").write_text("\n".join([*lines, "];", ""]))
    # --lib es2022: no DOM library to load (half the compile time); the generated file itself is checked too.
    output += _run([str(TS_BIN / "tsc"), "--strict", "--noEmit", "--lib", "es2022", "--target", "es2022",
                    "--moduleResolution", "bundler", "--module", "esnext", "api.d.ts", "everything.ts"], where)
    return Generated(output, where)
