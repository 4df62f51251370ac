"""The sandbox provider's HTTP side: a plain ASGI app (form-encoded requests as the ``stripe`` SDK sends
them, JSON answers), idempotency keys, and the hang and late answers of its test cards.

Run it with ``python -m app.payments.sandbox --port P --data-dir D`` (``resort up`` and the tests do).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from app.payments.sandbox.api import Answer, Sandbox, error
from app.payments.sandbox.ledger import Account, Ledger, account_of

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ID = r"(?P<id>[A-Za-z0-9_]+)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/v1/payment_intents$"), "create"),
    ("GET", re.compile(r"^/v1/payment_intents$"), "list_intents"),
    ("GET", re.compile(rf"^/v1/payment_intents/{ID}$"), "retrieve"),
    ("POST", re.compile(rf"^/v1/payment_intents/{ID}/confirm$"), "confirm"),
    ("POST", re.compile(rf"^/v1/payment_intents/{ID}/capture$"), "capture"),
    ("POST", re.compile(rf"^/v1/payment_intents/{ID}/cancel$"), "cancel"),
    ("POST", re.compile(r"^/v1/refunds$"), "refund"),
    ("GET", re.compile(r"^/v1/refunds$"), "list_refunds"),
    ("GET", re.compile(rf"^/v1/refunds/{ID}$"), "refund_of"),
]


def parse_form(raw: str) -> dict[str, Any]:
    """``a=1&metadata[k]=v&created[gte]=5`` -> ``{"a": "1", "metadata": {"k": "v"}, "created": {"gte": "5"}}``."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        match = re.fullmatch(r"([^\[\]]+)\[([^\[\]]*)\]", key)
        if match:
            out.setdefault(match.group(1), {})[match.group(2)] = value
        else:
            out[key] = value
    return out


class SandboxApp:
    def __init__(self, ledger: Ledger, late_s: float) -> None:
        self.ledger, self.late_s = ledger, late_s
        self.running: set[str] = set()  # idempotency keys whose first request is still being answered

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return await _lifespan(receive, send)
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        answer, replayed = await self._answer(scope, body, receive)
        if answer.hang:
            return
        if answer.late:
            await asyncio.sleep(self.late_s)
        with contextlib.suppress(Exception):  # the caller may have given up long ago
            await _send(send, answer, replayed)

    async def _answer(self, scope: dict[str, Any], body: bytes, receive: Receive) -> tuple[Answer, bool]:
        method, path = scope["method"], scope["path"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        if path == "/health":
            return Answer(200, {"ok": True}), False
        secret = headers.get("authorization", "").removeprefix("Bearer ")
        if not secret.startswith("sk_test_"):
            return error(401, "invalid_request_error", "api_key_invalid", "Invalid API Key provided"), False
        books = Account(self.ledger, account_of(secret))  # the key's own account
        sandbox = Sandbox(books)
        params = parse_form(body.decode() if method == "POST" else scope["query_string"].decode())
        key = headers.get("idempotency-key") if method == "POST" else None
        if key is None:
            return await self._run(sandbox, method, path, params, receive), False
        fingerprint = hashlib.sha256(f"{method} {path} {sorted(params.items(), key=str)}".encode()).hexdigest()
        saved = books.saved(key)
        if saved is not None:
            if saved["fingerprint"] != fingerprint:
                return error(400, "idempotency_error", "idempotency_key_in_use",
                             "Keys for idempotent requests can only be used with the same parameters"), False
            return Answer(saved["status"], json.loads(saved["body"])), True
        running = f"{books.account}:{key}"
        if running in self.running:
            return error(409, "idempotency_error", "idempotency_key_in_use",
                         "There is currently another in-progress request using this Idempotent Key", ), False
        self.running.add(running)
        try:
            answer = await self._run(sandbox, method, path, params, receive)
            if answer.save and not answer.hang:
                books.save(key, fingerprint, answer.status, json.dumps(answer.body))
            return answer, False
        finally:
            self.running.discard(running)

    @staticmethod
    async def _run(sandbox: Sandbox, method: str, path: str, params: dict[str, Any], receive: Receive) -> Answer:
        for verb, pattern, name in ROUTES:
            match = pattern.match(path)
            if match and verb == method:
                args = [match.group("id")] if "id" in pattern.groupindex else []
                if name in ("create", "capture", "refund", "list_intents", "list_refunds"):
                    args.append(params)
                answer: Answer = getattr(sandbox, name)(*args)
                if answer.hang:  # never answer: wait until the caller hangs up
                    while (await receive())["type"] != "http.disconnect":
                        pass
                return answer
        return error(404, "invalid_request_error", "resource_missing", f"Unrecognized request URL ({method}: {path})")


async def _send(send: Send, answer: Answer, replayed: bool) -> None:
    payload = json.dumps(answer.body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m app.payments.sandbox")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--late-s", type=float, default=float(os.environ.get("RESORT_PAYMENT_SANDBOX_LATE_S", "3")),
                        help="how late tok_late's authorization answers")
    args = parser.parse_args(argv)
    ledger = Ledger(args.data_dir / "ledger.sqlite3")
    app = SandboxApp(ledger, args.late_s)
    uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning", lifespan="on",
                timeout_graceful_shutdown=1)
