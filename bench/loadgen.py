"""Load generators: ``wrk`` when installed (C, one thread, N connections), else an httpx async loop."""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


@dataclass(frozen=True)
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int  # answers that are not 2xx (wrk: not 2xx or 3xx), and timeouts
    requests: int = 0  # every answer, failures included

    @property
    def ok_rps(self) -> float:
        """Only the 2xx answers per second: a failure is not work done."""
        return self.rps * (self.requests - self.errors) / self.requests if self.requests else self.rps


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    return float(match[1]) * _UNITS[match[2]] if match else float("nan")


def parse_wrk(name: str, output: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output)[1])  # type: ignore[index]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    errors = int(bad[1]) if bad else 0
    errors += int(socket_errors[1]) if socket_errors else 0
    total = re.search(r"(\d+) requests in", output)
    return Result(name, rps, p50, p99, errors, int(total[1]) if total else 0)


_SCRIPT = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
local headers = {%(headers)s}
request = function() return wrk.format("GET", paths[math.random(#paths)], headers) end
"""


def run_wrk(
    name: str,
    base: str,
    paths: list[str],
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
) -> Result:
    """``wrk`` over ``paths`` (a random one per request) with ``headers``."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "paths.txt"
        listing.write_text("\n".join(paths) + "\n")
        script = Path(tmp) / "paths.lua"
        lua_headers = ", ".join(f'["{k}"] = "{v}"' for k, v in (headers or {}).items())
        script.write_text(_SCRIPT % {"paths": listing, "headers": lua_headers})
        argv = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            base,
        ]
        output = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
    return parse_wrk(name, output)


async def run_httpx(
    name: str,
    base: str,
    paths: list[str],
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
) -> Result:
    """Python fallback: ``connections`` concurrent loops for ``seconds`` (slower than wrk: shares the CPU)."""
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async def worker(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal errors
        n = offset
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            response = await client.get(paths[n % len(paths)], headers=headers)
            latencies.append((time.perf_counter() - began) * 1000)
            errors += not 200 <= response.status_code < 300
            n += connections

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client, i) for i in range(connections)))
        elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return Result(name, len(latencies) / elapsed, cuts[49], cuts[98], errors, len(latencies))


def load(
    name: str,
    base: str,
    paths: list[str],
    seconds: int,
    connections: int,
    headers: dict[str, str] | None = None,
) -> Result:
    """wrk when installed, else the httpx loop."""
    if wrk_available():
        return run_wrk(name, base, paths, seconds, connections, headers)
    return asyncio.run(run_httpx(name, base, paths, seconds, connections, headers))
