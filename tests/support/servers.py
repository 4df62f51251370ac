"""Extra throwaway servers for tests that take a dependency away."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from app.stack import LocalServer, LocalStack


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def private_server(kind: str, data_root: Path) -> LocalStack:
    """A server of ``kind`` on a free port, owned by the returned stack (stop it with ``stack.stop()``)."""
    port = free_port()
    run_as = "postgres" if kind == "postgres" and os.geteuid() == 0 else None
    server = LocalServer(f"{kind}-{port}", "127.0.0.1", port, data_root / f"{kind}-{port}", kind, run_as)
    stack = LocalStack([server])
    stack.start_servers(timeout=30)
    return stack
