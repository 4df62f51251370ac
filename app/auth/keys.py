"""The backend's own signing keys: one current key signs, every listed key verifies (rollover).

The key ring lives in a JSON file (``RESORT_JWT_KEYS_FILE``, default ``<data_dir>/auth/jwt-keys.json``)
shared by every api instance: ``{"current": kid, "keys": [private JWK, ...]}``. Rotation writes a new
current key and keeps the previous one for verification until tokens signed with it have expired.
Instances notice a rotation by the file's mtime (checked at most every few seconds) or on an unknown kid.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

from joserfc import jwk

from app.settings import Settings

ALGORITHM = "ES256"
_RELOAD_EVERY_S = 5.0


def keys_path(settings: Settings) -> Path:
    return Path(settings.jwt_keys_file) if settings.jwt_keys_file else settings.data_path / "auth" / "jwt-keys.json"


def new_key() -> jwk.ECKey:
    kid = f"{time.strftime('%Y%m%d')}-{uuid.uuid4().hex[:8]}"
    return jwk.ECKey.generate_key("P-256", parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"}, private=True)


def _write_private_beside(path: Path, document: dict[str, Any]) -> Path:
    """``document`` in a new file next to ``path``, created owner-only (private keys are never readable
    by others, not even for an instant); returns the new file's path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(document, fh)
    return tmp


def _write_atomic(path: Path, document: dict[str, Any]) -> None:
    os.replace(_write_private_beside(path, document), path)


def ensure_keys_file(path: Path) -> None:
    """Create a key ring with one key when the file does not exist (first start)."""
    if path.exists():
        return
    key = new_key()
    tmp = _write_private_beside(path, {"current": key.kid, "keys": [key.as_dict(private=True)]})
    try:
        os.link(tmp, path)  # atomic "create if absent": two instances starting together agree on one key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)


def rotate_keys_file(path: Path, keep: int = 2) -> str:
    """Make a new current key; keep the newest ``keep`` keys verifiable. Returns the new kid."""
    ensure_keys_file(path)
    document = json.loads(path.read_text())
    key = new_key()
    keys = [key.as_dict(private=True), *document["keys"]][:keep]
    _write_atomic(path, {"current": key.kid, "keys": keys})
    return str(key.kid)


class KeyRing:
    """The signing key and the verification keys, reloaded from the shared file when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        ensure_keys_file(path)
        self._mtime = 0.0
        self._checked = 0.0
        self.current: jwk.ECKey
        self.by_kid: dict[str, jwk.ECKey] = {}
        self._load()

    def _load(self) -> None:
        document = json.loads(self.path.read_text())
        keys = {k["kid"]: jwk.ECKey.import_key(k) for k in document["keys"]}
        self.by_kid = keys
        self.current = keys[document["current"]]
        self._mtime = self.path.stat().st_mtime

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < _RELOAD_EVERY_S:
            return
        self._checked = now
        try:
            if self.path.stat().st_mtime != self._mtime:
                self._load()
        except (OSError, ValueError, KeyError):
            pass  # keep the keys we have; a half-written file is never read thanks to os.replace

    def verification_key(self, kid: str) -> jwk.ECKey | None:
        key = self.by_kid.get(kid)
        if key is None:
            self.refresh(force=True)
            key = self.by_kid.get(kid)
        return key

    def jwks(self) -> dict[str, Any]:
        """The public half of every valid key, for ``/.well-known/jwks.json``."""
        return {"keys": [k.as_dict(private=False) | {"alg": ALGORITHM, "use": "sig"} for k in self.by_kid.values()]}
