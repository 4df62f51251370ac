"""A server whose port is still held (a stopping process, a broker not yet gone) is started once the
port is free, instead of failing the whole start with "kafka exited with 0" (issue 15, item 11)."""

from __future__ import annotations

import shutil
import socket
import threading

from app.settings import Settings
from app.stack import LocalServer, LocalStack
from tests.support.servers import free_port


def test_start_waits_for_a_held_port_then_starts_the_server(settings: Settings) -> None:
    port = free_port()
    server = LocalServer(f"kafka-{port}", "127.0.0.1", port, settings.data_path / "private" / f"kafka-{port}", "kafka")
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))  # bound, not listening: refuses connections, and the broker's bind
    waiting = threading.Event()
    stack = LocalStack([server], on_progress=lambda message: "still taken" in message and waiting.set())
    ready: dict[str, float] = {}
    errors: list[BaseException] = []

    def start() -> None:
        try:
            ready.update(stack.start_servers(timeout=30))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    try:
        assert waiting.wait(30), errors
        assert not ready and stack.started == []  # nothing started while the port is taken
        holder.close()
        thread.join(30)
        assert errors == [] and server.name in ready
        assert server.answers()
    finally:
        holder.close()
        thread.join(30)
        stack.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)
