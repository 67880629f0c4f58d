"""The key file: real values and their pseudonyms, encrypted with a passphrase.

It is kept apart from the project store and needed only to re-identify or to pseudonymise
new documents consistently. Layout (JSON, so a person can see what it is):

    {"format": "caseframe-key", "version": 1,
     "kdf": {"name": "scrypt", "n": 131072, "r": 8, "p": 1, "salt": "<base64>"},
     "cipher": "AES-256-GCM", "nonce": "<base64>", "ciphertext": "<base64>"}

The header (everything but nonce and ciphertext) is authenticated as AES-GCM associated
data, so it cannot be altered unnoticed. The key is derived with scrypt at n=2**17, r=8, p=1:
the minimum OWASP's password-storage guidance gives for scrypt, 128 MiB of memory per guess,
about half a second on a laptop core -- cheap once per session, costly for a guesser.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
import tempfile
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from caseframe.errors import CaseframeError, Conflict, InvalidInput
from caseframe.privacy.pseudonyms import PseudonymBook
from caseframe.privacy.registry import Registry

FORMAT = "caseframe-key"
VERSION = 1
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
_MIN_N, _MAX_N = 2**14, 2**20  # refuse files that would make us spend too little or too much


class KeyFile:
    """An opened key file: `registry` and `book` are live; `save()` writes them back."""

    def __init__(self, path: Path, registry: Registry, book: PseudonymBook, key: bytes, kdf: dict):
        self.path = path
        self.registry = registry
        self.book = book
        self._key = key
        self._kdf = kdf

    @classmethod
    def create(
        cls,
        path: str | Path,
        passphrase: str,
        *,
        registry: Registry | None = None,
        book: PseudonymBook | None = None,
        scrypt_n: int = SCRYPT_N,
    ) -> KeyFile:
        """Write a new key file; an existing file is never overwritten."""
        path = Path(path)
        if path.exists():
            raise Conflict(
                f"key file {path} already exists",
                hint="open it with its passphrase, or choose another path",
            )
        if not path.parent.is_dir():
            raise InvalidInput(f"folder {path.parent} does not exist")
        _check_n(scrypt_n, path)
        kdf = {
            "name": "scrypt",
            "n": scrypt_n,
            "r": SCRYPT_R,
            "p": SCRYPT_P,
            "salt": _b64(secrets.token_bytes(16)),
        }
        keyfile = cls(
            path, registry or Registry(), book or PseudonymBook(), _derive(passphrase, kdf), kdf
        )
        keyfile.save()
        return keyfile

    @classmethod
    def open(cls, path: str | Path, passphrase: str) -> KeyFile:
        path = Path(path)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise InvalidInput(f"key file {path} does not exist") from None
        except OSError as exc:
            raise InvalidInput(f"cannot read key file {path}: {exc.strerror}") from None
        try:
            envelope = json.loads(raw.decode("utf-8"))
            if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
                raise ValueError("not a caseframe key file")
            version = envelope.get("version")
            if isinstance(version, int) and version > VERSION:
                raise InvalidInput(
                    f"key file {path} was written by a newer caseframe (format {version})",
                    hint="upgrade caseframe to open it",
                )
            if version != VERSION or envelope.get("cipher") != "AES-256-GCM":
                raise ValueError("unknown format version or cipher")
            kdf = envelope["kdf"]
            if kdf.get("name") != "scrypt":
                raise ValueError("unknown key derivation")
            n, r, p = (kdf[k] for k in ("n", "r", "p"))
            if not all(type(v) is int for v in (n, r, p)):
                raise ValueError("key derivation parameters are not numbers")
            if not (_MIN_N <= n <= _MAX_N and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
                raise ValueError("key derivation parameters out of range")
            nonce = _unb64(envelope["nonce"])
            ciphertext = _unb64(envelope["ciphertext"])
            _unb64(kdf["salt"])
            if len(nonce) != 12:
                raise ValueError("bad nonce")
        except CaseframeError:
            raise
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, binascii.Error):
            raise _corrupt(path) from None
        key = _derive(passphrase, kdf)
        try:
            plain = AESGCM(key).decrypt(nonce, ciphertext, _header_bytes(kdf))
        except InvalidTag:
            raise InvalidInput(
                f"wrong passphrase for key file {path} (nothing was changed)",
                hint="if the passphrase is right, the file is damaged: restore it from a backup",
            ) from None
        try:
            payload = json.loads(plain.decode("utf-8"))
            registry = Registry.from_records(payload["registry"])
            book = PseudonymBook.from_records(payload["book"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError, CaseframeError):
            raise _corrupt(path) from None
        return cls(path, registry, book, key, kdf)

    def save(self) -> None:
        """Encrypt and write the current contents atomically (temp file, then rename)."""
        payload = {
            "registry": self.registry.to_records(),
            "book": self.book.to_records(),
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        nonce = secrets.token_bytes(12)
        plain = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        ciphertext = AESGCM(self._key).encrypt(nonce, plain, _header_bytes(self._kdf))
        envelope = {**_header(self._kdf), "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}
        _write_private(self.path, (json.dumps(envelope, indent=1) + "\n").encode("ascii"))

    def add_names(self, staged: Registry) -> None:
        """Add registry entries and their fixed labels, then save; all or nothing.

        The labels are registered on a copy of the book first, so a clash (a label another
        value already has) raises before the key changes.
        """
        book = self.book.copy()
        book.register(staged)
        self.registry.extend(staged.entries)
        self.book = book
        self.save()

    def change_passphrase(self, new_passphrase: str) -> None:
        kdf = {**self._kdf, "salt": _b64(secrets.token_bytes(16))}
        key = _derive(new_passphrase, kdf)
        self._kdf, self._key = kdf, key
        self.save()


def _header(kdf: dict) -> dict:
    return {"format": FORMAT, "version": VERSION, "kdf": kdf, "cipher": "AES-256-GCM"}


def _header_bytes(kdf: dict) -> bytes:
    return json.dumps(_header(kdf), sort_keys=True, separators=(",", ":")).encode("ascii")


def _derive(passphrase: str, kdf: dict) -> bytes:
    if not passphrase:
        raise InvalidInput("the passphrase is empty", hint="give the key file's passphrase")
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    scrypt = Scrypt(salt=_unb64(kdf["salt"]), length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"])
    return scrypt.derive(secret)


def _check_n(n: int, path: Path) -> None:
    if not (_MIN_N <= n <= _MAX_N and n & (n - 1) == 0):
        raise InvalidInput(
            f"scrypt n must be a power of two from 2**14 to 2**20, not {n}", where=str(path)
        )


def _corrupt(path: Path) -> InvalidInput:
    return InvalidInput(
        f"key file {path} is damaged or not a caseframe key file (nothing was changed)",
        hint="restore it from a backup",
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    if not isinstance(text, str):
        raise TypeError("expected base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _write_private(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp creates the file with mode 0600
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
