"""The sandbox provider's own durable ledger (SQLite under its data folder): payment intents, refunds,
every movement of money as a ledger line, and the idempotency keys' saved answers.

Like Stripe's accounts, each secret key has books of its own (:class:`Account`): a key sees, lists and
replays only its own intents, refunds and idempotency keys, so two deployments (or two test sessions) on
one sandbox never see each other's money.

Each change is one SQLite transaction with ``synchronous=FULL``: what the provider answered survives a
crash of the provider, and its ``retrieve`` and lists answer from here, never from the caller's records.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS intents (
    id TEXT PRIMARY KEY, created INTEGER NOT NULL, amount INTEGER NOT NULL, currency TEXT NOT NULL,
    payment_method TEXT NOT NULL, status TEXT NOT NULL, amount_capturable INTEGER NOT NULL DEFAULT 0,
    amount_received INTEGER NOT NULL DEFAULT 0, metadata TEXT NOT NULL DEFAULT '{}', last_error TEXT,
    canceled_at INTEGER, account TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS refunds (
    id TEXT PRIMARY KEY, created INTEGER NOT NULL, payment_intent TEXT NOT NULL, amount INTEGER NOT NULL,
    currency TEXT NOT NULL, status TEXT NOT NULL, failure_reason TEXT, metadata TEXT NOT NULL DEFAULT '{}',
    account TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS refunds_intent ON refunds (payment_intent, created);
CREATE TABLE IF NOT EXISTS lines (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, payment_intent TEXT NOT NULL,
    kind TEXT NOT NULL, amount INTEGER NOT NULL, reference TEXT);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status INTEGER NOT NULL, body TEXT NOT NULL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""
ACCOUNT_COLUMNS = ("intents", "refunds")  # a ledger written before accounts gets the column (as account '')


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


class Ledger:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        for table in ACCOUNT_COLUMNS:
            if "account" not in {r["name"] for r in self.db.execute(f"PRAGMA table_info({table})")}:
                self.db.execute(f"ALTER TABLE {table} ADD COLUMN account TEXT NOT NULL DEFAULT ''")

    def close(self) -> None:
        self.db.close()

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for sql, args in statements:
                self.db.execute(sql, args)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # -- intents ----------------------------------------------------------------------------------

    def create_intent(self, amount: int, currency: str, payment_method: str, metadata: dict[str, str],
                      account: str = "") -> dict[str, Any]:
        intent_id = new_id("pi")
        self._write([("INSERT INTO intents (id, created, amount, currency, payment_method, status, metadata, account)"
                      " VALUES (?, ?, ?, ?, ?, 'requires_confirmation', ?, ?)",
                      (intent_id, int(time.time()), amount, currency, payment_method, json.dumps(metadata), account))])
        return self.intent(intent_id)  # type: ignore[return-value]

    def intent(self, intent_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM intents WHERE id = ?", (intent_id,)).fetchone()
        return dict(row) if row else None

    def move(self, intent_id: str, line: tuple[str, int] | None = None, **fields: Any) -> dict[str, Any]:
        """Change an intent and, when money moves, write its ledger line, in one transaction."""
        sets = ", ".join(f"{name} = ?" for name in fields)
        statements = [(f"UPDATE intents SET {sets} WHERE id = ?", (*fields.values(), intent_id))]
        if line is not None:
            statements.append(("INSERT INTO lines (at, payment_intent, kind, amount) VALUES (?, ?, ?, ?)",
                               (time.time(), intent_id, line[0], line[1])))
        self._write(statements)
        return self.intent(intent_id)  # type: ignore[return-value]

    def intents(self, created_gte: int, starting_after: str | None, limit: int,
                account: str = "") -> list[dict[str, Any]]:
        after = self._cursor("intents", starting_after)
        rows = self.db.execute("SELECT * FROM intents WHERE account = ? AND created >= ? AND (created, id) > (?, ?)"
                               " ORDER BY created, id LIMIT ?", (account, created_gte, *after, limit)).fetchall()
        return [dict(r) for r in rows]

    def _cursor(self, table: str, object_id: str | None) -> tuple[int, str]:
        row = self.db.execute(f"SELECT created, id FROM {table} WHERE id = ?", (object_id,)).fetchone() \
            if object_id else None
        return (row["created"], row["id"]) if row else (-1, "")

    # -- refunds ----------------------------------------------------------------------------------

    def add_refund(self, intent: dict[str, Any], amount: int, status: str, failure_reason: str | None,
                   metadata: dict[str, str]) -> dict[str, Any]:
        refund_id = new_id("re")
        statements = [("INSERT INTO refunds (id, created, payment_intent, amount, currency, status, failure_reason,"
                       " metadata, account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (refund_id, int(time.time()), intent["id"], amount, intent["currency"], status,
                        failure_reason, json.dumps(metadata), intent["account"]))]
        if status == "succeeded":
            statements.append(("INSERT INTO lines (at, payment_intent, kind, amount, reference)"
                               " VALUES (?, ?, 'refund', ?, ?)", (time.time(), intent["id"], amount, refund_id)))
        self._write(statements)
        return self.refund(refund_id)  # type: ignore[return-value]

    def refund(self, refund_id: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM refunds WHERE id = ?", (refund_id,)).fetchone()
        return dict(row) if row else None

    def refunded(self, intent_id: str) -> int:
        return self.db.execute("SELECT coalesce(sum(amount), 0) FROM refunds WHERE payment_intent = ?"
                               " AND status = 'succeeded'", (intent_id,)).fetchone()[0]

    def refunds(self, payment_intent: str | None, created_gte: int, starting_after: str | None,
                limit: int, account: str = "") -> list[dict[str, Any]]:
        after = self._cursor("refunds", starting_after)
        rows = self.db.execute("SELECT * FROM refunds WHERE account = ? AND (? IS NULL OR payment_intent = ?)"
                               " AND created >= ? AND (created, id) > (?, ?) ORDER BY created, id LIMIT ?",
                               (account, payment_intent, payment_intent, created_gte, *after, limit)).fetchall()
        return [dict(r) for r in rows]

    def lines(self, intent_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM lines WHERE payment_intent = ? ORDER BY seq",
                                                 (intent_id,)).fetchall()]

    # -- idempotency and counters -----------------------------------------------------------------

    def saved(self, key: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM idempotency WHERE key = ?", (key,)).fetchone()
        return dict(row) if row else None

    def save(self, key: str, fingerprint: str, status: int, body: str) -> None:
        self._write([("INSERT OR IGNORE INTO idempotency (key, fingerprint, status, body, created)"
                      " VALUES (?, ?, ?, ?, ?)", (key, fingerprint, status, body, time.time()))])

    def bump(self, key: str) -> int:
        """How many times ``key`` was counted before this call (a flaky card's failures so far)."""
        self._write([("INSERT INTO counters (key, n) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1",
                      (key,))])
        return self.db.execute("SELECT n FROM counters WHERE key = ?", (key,)).fetchone()[0] - 1


def account_of(secret_key: str) -> str:
    """The account a secret key belongs to (a digest: the key itself is never stored)."""
    return "acct_" + hashlib.sha256(secret_key.encode()).hexdigest()[:16]


class Account:
    """One account's books in the ledger: the same operations as :class:`Ledger`, limited to its own objects
    (another account's intent or refund is "no such object"; idempotency keys and counters are its own)."""

    def __init__(self, ledger: Ledger, account: str) -> None:
        self.ledger, self.account = ledger, account
        self.move, self.refunded, self.lines, self.add_refund = ledger.move, ledger.refunded, ledger.lines, ledger.add_refund

    def create_intent(self, amount: int, currency: str, payment_method: str, metadata: dict[str, str]) -> dict[str, Any]:
        return self.ledger.create_intent(amount, currency, payment_method, metadata, self.account)

    def intent(self, intent_id: str) -> dict[str, Any] | None:
        return self._own(self.ledger.intent(intent_id))

    def refund(self, refund_id: str) -> dict[str, Any] | None:
        return self._own(self.ledger.refund(refund_id))

    def _own(self, row: dict[str, Any] | None) -> dict[str, Any] | None:
        return row if row is not None and row["account"] == self.account else None

    def intents(self, created_gte: int, starting_after: str | None, limit: int) -> list[dict[str, Any]]:
        return self.ledger.intents(created_gte, starting_after, limit, self.account)

    def refunds(self, payment_intent: str | None, created_gte: int, starting_after: str | None,
                limit: int) -> list[dict[str, Any]]:
        return self.ledger.refunds(payment_intent, created_gte, starting_after, limit, self.account)

    def saved(self, key: str) -> dict[str, Any] | None:
        return self.ledger.saved(f"{self.account}:{key}")

    def save(self, key: str, fingerprint: str, status: int, body: str) -> None:
        self.ledger.save(f"{self.account}:{key}", fingerprint, status, body)

    def bump(self, key: str) -> int:
        return self.ledger.bump(key)  # keys of intents, already the account's own
