"""The trained-model file (`.cfm`): one versioned, signed file holding a fitted suggestion method.

Layout (all integers big-endian):

    b"CFMODEL\\0"                         8 bytes, the magic
    header length                         4 bytes
    header                                UTF-8 JSON: format, version, method, codes, settings,
                                          training summary, cross-validated figures, model id,
                                          payload length, key id
    payload                               the fitted method, pickled, zlib-compressed
    tag                                   32 bytes: HMAC-SHA256 over everything before it

Why a signed pickle and not arrays + JSON: a fitted method is a tree of scikit-learn objects
(vectorizers with vocabularies, per-code classifiers, calibration, thresholds) whose shape
belongs to each method and changes with it; pickling keeps the file in step with any method
behind the `SuggestionMethod` interface. Unpickling runs code, so nothing is unpickled until
the tag checks out against the user's signing key: a file from anyone without the key, or one
changed after it was written, is refused before a byte of the payload is interpreted.

The signing key is 32 random bytes. It comes from `$CASEFRAME_MODEL_KEY` (hex), else from the
file named by `$CASEFRAME_MODEL_KEY_FILE`, else from `~/.config/caseframe/model.key`
(`$XDG_CONFIG_HOME` respected), created with mode 0600 on the first `suggest train`. Only the
process that opens the file needs it: on a Dask cluster that is the client; the workers get
the already-verified model from the client through Dask.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pickle
import secrets
import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.errors import InvalidInput, NotFound
from caseframe.util.atomic import atomic_write

if TYPE_CHECKING:
    from caseframe.suggest.base import SuggestionMethod

FORMAT = "caseframe-model"
VERSION = 1
MAGIC = b"CFMODEL\0"
TAG_BYTES = 32
KEY_ENV = "CASEFRAME_MODEL_KEY"
KEY_FILE_ENV = "CASEFRAME_MODEL_KEY_FILE"
_MAX_HEADER = 64 * 1024 * 1024


@dataclass
class ModelFile:
    """An opened model file: the fitted method and what the header says about it."""

    method: SuggestionMethod
    header: dict[str, Any]

    @property
    def codes(self) -> list[str]:
        return list(self.header["codes"])

    @property
    def model_id(self) -> str:
        return str(self.header["model_id"])

    @property
    def per_code(self) -> dict[str, dict[str, Any]]:
        """Cross-validated figures per code (precision, recall, f1, kappa, support)."""
        return dict(self.header.get("cv", {}).get("per_code", {}))


# -- the signing key -------------------------------------------------------------------------


def default_key_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "caseframe" / "model.key"


def signing_key(*, create: bool = False) -> bytes:
    """The model-signing key (see the module docstring for where it comes from)."""
    raw = os.environ.get(KEY_ENV)
    if raw:
        try:
            key = bytes.fromhex(raw.strip())
        except ValueError:
            key = b""
        if len(key) < 16:
            raise InvalidInput(
                f"${KEY_ENV} is not a key of at least 16 bytes in hex",
                hint="set it to the hex text of the key file (64 hex digits)",
            )
        return key
    path = Path(os.environ.get(KEY_FILE_ENV) or default_key_path())
    if not path.is_file():
        if not create:
            raise NotFound(
                "no model-signing key",
                where=str(path),
                hint=f"copy the key of the machine that trained the model there, or set ${KEY_ENV}",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, secrets.token_hex(32) + "\n", private=True)
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError, UnicodeDecodeError):
        key = b""
    if len(key) < 16:
        raise InvalidInput(
            "the model-signing key file is damaged", where=str(path), hint="restore it"
        )
    return key


def key_id(key: bytes) -> str:
    """A public fingerprint of the key, so that 'signed with another key' can be told apart."""
    return hashlib.sha256(b"caseframe model key id\0" + key).hexdigest()[:16]


# -- writing and reading ---------------------------------------------------------------------


def save_model(
    path: str | Path,
    method: SuggestionMethod,
    *,
    settings: dict[str, Any],
    training: dict[str, Any],
    cv: dict[str, Any],
    key: bytes,
) -> dict[str, Any]:
    """Write `method` (fitted) and its description to `path` atomically; returns the header."""
    from caseframe import __version__

    payload = zlib.compress(pickle.dumps(method, protocol=5), 6)
    digest = hashlib.sha256(payload).hexdigest()
    header = {
        "format": FORMAT,
        "version": VERSION,
        "caseframe": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "method": method.name,
        "model_id": f"{method.name}-{digest[:12]}",
        "codes": list(method.codes_),
        "settings": settings,
        "training": training,
        "cv": cv,
        "payload_bytes": len(payload),
        "payload_sha256": digest,
        "key_id": key_id(key),
    }
    head = json.dumps(header, ensure_ascii=False, default=_json_default).encode("utf-8")
    body = MAGIC + struct.pack(">I", len(head)) + head + payload
    tag = hmac.new(key, body, hashlib.sha256).digest()
    atomic_write(path, body + tag)
    return header


def read_header(path: str | Path) -> dict[str, Any]:
    """The header of a model file, checked for format and version; nothing is unpickled."""
    header, _, _ = _split(Path(path))
    return header


def load_model(path: str | Path, key: bytes) -> ModelFile:
    """Open a model file: check format and version, verify the signature, then unpickle."""
    path = Path(path)
    header, body, tag = _split(path)
    expected = hmac.new(key, body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, tag):
        if header.get("key_id") != key_id(key):
            raise InvalidInput(
                "the model file was signed with another key (or changed); it was not loaded",
                where=str(path),
                hint=f"use the signing key of the machine that trained it (${KEY_ENV}) or retrain",
            )
        raise InvalidInput(
            "the model file was changed after it was written (signature mismatch); "
            "it was not loaded",
            where=str(path),
            hint="retrain it with `caseframe suggest train`",
        )
    payload = body[len(body) - int(header["payload_bytes"]) :]
    from caseframe.suggest.base import SuggestionMethod

    method = pickle.loads(zlib.decompress(payload))  # signed by our key: see module docstring
    if not isinstance(method, SuggestionMethod):
        raise InvalidInput("the model file holds no suggestion method", where=str(path))
    return ModelFile(method, header)


def _split(path: Path) -> tuple[dict[str, Any], bytes, bytes]:
    """(header, signed bytes, tag), refusing what is not a model file of this version."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise NotFound("no such model file", where=str(path), hint="check the path") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read the model file: {exc.strerror}", where=str(path)) from None
    not_ours = InvalidInput(
        "not a caseframe model file",
        where=str(path),
        hint="give a file written by `caseframe suggest train`",
    )
    if len(raw) < len(MAGIC) + 4 + TAG_BYTES or not raw.startswith(MAGIC):
        raise not_ours
    (size,) = struct.unpack(">I", raw[len(MAGIC) : len(MAGIC) + 4])
    start = len(MAGIC) + 4
    if size > min(_MAX_HEADER, len(raw) - start - TAG_BYTES):
        raise not_ours
    try:
        header = json.loads(raw[start : start + size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise not_ours from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise not_ours
    version = header.get("version")
    if version != VERSION:
        wrote = header.get("caseframe", "another version")
        raise InvalidInput(
            f"the model file has format version {version} (written by caseframe {wrote}); "
            f"this caseframe reads version {VERSION}",
            where=str(path),
            hint="retrain the model with this caseframe, or use the caseframe that wrote it",
        )
    body, tag = raw[:-TAG_BYTES], raw[-TAG_BYTES:]
    payload_bytes = header.get("payload_bytes")
    if not isinstance(payload_bytes, int) or payload_bytes != len(body) - start - size:
        raise InvalidInput(
            "the model file is truncated or changed; it was not loaded",
            where=str(path),
            hint="copy it again or retrain it",
        )
    return header, body, tag


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays in the figures become plain JSON numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} in a model header")
