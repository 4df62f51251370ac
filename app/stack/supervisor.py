"""Start servers and roles as child processes, wait until they answer, stop them in reverse order."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import structlog

from app.stack.servers import LocalServer, port_free, tcp_open

log = structlog.get_logger("app.stack")


class StackError(RuntimeError):
    """A server did not come up; the message says which and where its log is."""


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_file: object | None = None

    def stop(self, grace: float = 10.0) -> None:
        if self.process.poll() is None:
            # SIGINT is PostgreSQL's fast shutdown and everyone else's graceful stop.
            _signal_group(self.process, signal.SIGINT)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait(5)
        # The leader is gone; whatever it left in its group (orphaned workers) goes too.
        _signal_group(self.process, signal.SIGKILL)
        if self.log_file is not None:
            self.log_file.close()  # type: ignore[attr-defined]


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM's Python handlers until the block ends, then run them (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for sig in received:
            handler = previous[sig]
            if callable(handler):
                handler(sig, None)
            elif handler == signal.SIG_DFL:
                signal.raise_signal(sig)


@dataclass
class LocalStack:
    """The servers of this machine: reuse the ones already answering, start the others."""

    servers: list[LocalServer]
    started: list[Child] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    on_progress: Callable[[str], None] = lambda message: None

    def start_servers(self, timeout: float = 60.0, attempts: int = 3) -> dict[str, float]:
        """Start every server not already answering; return each one's seconds to ready.

        A server that exits before it answers (e.g. its port not yet free again right after a stop) is
        started again, up to ``attempts`` times, once its port can be bound."""
        pending: dict[str, tuple[LocalServer, float, int]] = {}
        for server in self.servers:
            if tcp_open(server.host, server.port):
                # Something listens there already (perhaps busy and slow to answer): reuse it, never
                # start a second server on its port or its data folder.
                self._wait_until_answers(server, timeout)
                self.reused.append(server.name)
                self.on_progress(f"{server.name}: already running on {server.host}:{server.port}, reusing it")
                continue
            server.prepare()
            self.wait_for_port(server, timeout)
            self.spawn(server.name, server.argv(), server.environment(), server.log_path)
            pending[server.name] = (server, time.monotonic(), 1)
        ready: dict[str, float] = {}
        deadline = time.monotonic() + timeout
        while pending:
            for name, (server, began, attempt) in list(pending.items()):
                child = self.child(name)
                if child.process.poll() is not None:
                    if attempt >= attempts:
                        raise StackError(f"{name} exited with {child.process.returncode}; see {server.log_path}")
                    self.on_progress(f"{name}: exited with {child.process.returncode} before answering; "
                                     f"starting it again (attempt {attempt + 1} of {attempts})")
                    self.wait_for_port(server, timeout)
                    self.respawn(child, server.argv(), server.environment(), server.log_path)
                    pending[name] = (server, began, attempt + 1)
                elif server.answers():
                    ready[name] = time.monotonic() - began
                    self.on_progress(f"{name}: ready on {server.host}:{server.port} in {ready[name]:.1f}s")
                    del pending[name]
            if time.monotonic() > deadline:
                raise StackError(f"not ready after {timeout:.0f}s: {', '.join(pending)}")
            time.sleep(0.1)
        return ready

    def wait_for_port(self, server: LocalServer, timeout: float) -> None:
        """Wait until ``server``'s port can be bound (a process that just stopped may still hold it)."""
        deadline = time.monotonic() + timeout
        if not port_free(server.host, server.port):
            self.on_progress(f"{server.name}: port {server.host}:{server.port} is still taken; waiting for it")
        while not port_free(server.host, server.port):
            if time.monotonic() > deadline:
                raise StackError(f"{server.name}: port {server.host}:{server.port} stayed taken for "
                                 f"{timeout:.0f}s by something that does not answer as {server.kind}")
            time.sleep(0.1)

    def child(self, name: str) -> Child:
        return next(c for c in self.started if c.name == name)

    def _wait_until_answers(self, server: LocalServer, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not server.answers():
            if time.monotonic() > deadline:
                raise StackError(f"{server.name} listens on {server.port} but does not answer")
            time.sleep(0.2)

    def respawn(self, old: Child, argv: list[str], env: dict[str, str], log_path: os.PathLike[str]) -> Child:
        """Start ``old``'s replacement in its place (so ``stop`` keeps the start order), after killing
        whatever is left of ``old``'s process group (e.g. the api's workers, PostgreSQL's backends)."""
        old.stop(grace=1)
        child = self.spawn(old.name, argv, env, log_path)  # registered last, then moved to old's place
        self.started.remove(child)
        self.started[self.started.index(old)] = child
        return child

    def spawn(self, name: str, argv: list[str], env: dict[str, str], log_path: os.PathLike[str]) -> Child:
        """Start ``argv`` in a session of its own and register it, so that ``stop`` always finds it."""
        log_file = open(log_path, "ab")  # noqa: SIM115 - closed by Child.stop
        process: subprocess.Popen[bytes] | None = None
        try:
            with _signals_deferred():  # a Ctrl-C inside Popen (after its fork) would lose the child's pid
                process = subprocess.Popen(
                    argv, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=env, start_new_session=True,
                )
                child = Child(name, process, log_file)
                self.started.append(child)
        except BaseException:  # Ctrl-C between the fork and the registration: leave nothing behind
            if process is not None:
                Child(name, process, log_file).stop(grace=5)
            else:
                log_file.close()
            raise
        log.info("process_started", name=name, pid=process.pid)
        return child

    def server(self, name: str) -> LocalServer:
        return next(s for s in self.servers if s.name == name)

    def stop_server(self, name: str) -> None:
        """Stop one server this stack started (tests use it to take a dependency away)."""
        for child in [c for c in self.started if c.name == name]:
            child.stop()
            self.started.remove(child)

    def restart_server(self, name: str, timeout: float = 30.0) -> None:
        server = self.server(name)
        self.stop_server(name)
        self.spawn(name, server.argv(), server.environment(), server.log_path)
        self._wait_until_answers(server, timeout)

    def stop(self) -> None:
        """Stop everything this stack started, newest first; reused servers are left running."""
        while self.started:
            child = self.started.pop()
            self.on_progress(f"stopping {child.name}")
            child.stop()
