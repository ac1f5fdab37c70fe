"""Encrypted keystore for venue API keys: scrypt-derived key, AES-256-GCM per entry.

`hft keys add|list|remove` manage it; a live run reads keys from here or from the environment.
The passphrase comes from a prompt or `HFT_KEYSTORE_PASSPHRASE`. Each entry is sealed with
its own random nonce and its name as associated data, so an entry moved under another name
fails to open. A `check` entry (a known constant) tells a wrong passphrase apart from a
corrupted file. Values are returned as `SecretStr`, whose repr is masked.
"""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pydantic import SecretStr

VERSION = 1
_CHECK_NAME = "__check__"
_CHECK_VALUE = b"hft-keystore-v1"


class KeystoreError(Exception):
    """Wrong passphrase, corrupted or unreadable keystore (never includes secret material)."""


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _unb64(s: str) -> bytes:
    return base64.b64decode(s, validate=True)


class Keystore:
    def __init__(self, path: str | os.PathLike[str], passphrase: str, *, n: int = 2 ** 15) -> None:
        self.path = Path(path)
        if self.path.exists():
            try:
                doc = json.loads(self.path.read_text())
                if doc.get("version") != VERSION:
                    raise KeystoreError(f"{self.path}: unsupported keystore version")
                self._salt = _unb64(doc["kdf"]["salt"])
                self._n, self._r, self._p = (int(doc["kdf"][k]) for k in ("n", "r", "p"))
                self._entries: dict[str, dict[str, str]] = dict(doc["entries"])
            except (ValueError, KeyError, TypeError) as exc:
                raise KeystoreError(f"{self.path}: keystore is corrupted ({type(exc).__name__})") from None
        else:
            self._salt, self._n, self._r, self._p = os.urandom(16), n, 8, 1
            self._entries = {}
        self._aead = AESGCM(Scrypt(salt=self._salt, length=32, n=self._n, r=self._r,
                                   p=self._p).derive(passphrase.encode()))
        if _CHECK_NAME in self._entries:
            try:
                ok = self._open(_CHECK_NAME) == _CHECK_VALUE
            except InvalidTag:
                ok = False
            if not ok:
                raise KeystoreError(f"{self.path}: wrong passphrase")
        else:
            self._seal(_CHECK_NAME, _CHECK_VALUE)

    def __repr__(self) -> str:
        return f"Keystore({str(self.path)!r}, entries={len(self.names())})"

    def _seal(self, name: str, value: bytes) -> None:
        nonce = os.urandom(12)
        self._entries[name] = {"nonce": _b64(nonce),
                               "ct": _b64(self._aead.encrypt(nonce, value, name.encode()))}

    def _open(self, name: str) -> bytes:
        e = self._entries[name]
        try:
            return self._aead.decrypt(_unb64(e["nonce"]), _unb64(e["ct"]), name.encode())
        except (ValueError, KeyError, TypeError):
            raise KeystoreError(f"{self.path}: entry {name!r} is corrupted") from None

    def names(self) -> list[str]:
        return sorted(n for n in self._entries if n != _CHECK_NAME)

    def get(self, name: str) -> SecretStr:
        if name not in self._entries or name == _CHECK_NAME:
            raise KeystoreError(f"no key named {name!r} in {self.path}")
        try:
            return SecretStr(self._open(name).decode())
        except InvalidTag:
            raise KeystoreError(f"{self.path}: entry {name!r} is corrupted or was tampered with") from None

    def put(self, name: str, value: str) -> None:
        if not name or name == _CHECK_NAME:
            raise KeystoreError("invalid key name")
        self._seal(name, value.encode())
        self._save()

    def remove(self, name: str) -> bool:
        if self._entries.pop(name, None) is None:
            return False
        self._save()
        return True

    def _save(self) -> None:
        doc = {"version": VERSION,
               "kdf": {"name": "scrypt", "salt": _b64(self._salt), "n": self._n, "r": self._r,
                       "p": self._p},
               "cipher": "AES-256-GCM", "entries": self._entries}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
