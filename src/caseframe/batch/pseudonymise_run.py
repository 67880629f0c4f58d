"""`batch pseudonymise`: consistent pseudonyms on every worker without coordination.

The project's own pseudonymisation numbers names in order of appearance ("[Person 4]"), which
needs one book that every document passes through. Spread over workers, that would need a
lock; instead a name the project's key file does not know yet gets a label computed from the
name alone with a keyed hash:

    "[" + prefix of the category + " " + 10 base32 characters of
          HMAC-SHA256(secret, category + NUL + the name's comparison key) + "]"

so the same name gets the same label on every worker and in every run with the same key, and
nobody without the key can test a guessed name against it. Names the key file already holds
(its registry and the pseudonyms given so far) keep their project label, so batch output and
the project's documents agree. Identifiers with a shape (phone, email, ...) get their fixed
labels ("[Phone]"). With 50 bits per label, two different names share one with probability
about n²/2⁵¹: 0.04 % for a million distinct names.

The secret is derived from the key file: scrypt of its passphrase with the file's own salt and
cost (as the file is opened), then HKDF-SHA256 with a purpose label, so it is not the key that
encrypts the file. It travels to the workers in memory through Dask and is never written to
the output folder. Changing the key file's passphrase changes the salt and so the labels.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.batch.inputs import Partition, read_partition
from caseframe.batch.runner import write_partition
from caseframe.errors import InvalidInput

if TYPE_CHECKING:
    from caseframe.privacy import PseudonymBook, Registry

PURPOSE = b"caseframe batch pseudonyms v1"
LABEL_CHARS = 10


@dataclass
class PseudonymSetup:
    """What every worker needs; `token` names its cached detectors there."""

    secret: bytes = field(repr=False)
    registry: list[dict]
    book: list[dict] = field(repr=False)
    patterns: bool | list[str] = True
    ner: str | None = None
    token: str = field(default_factory=lambda: secrets.token_hex(8))


def derive_secret(key_path: str | Path, passphrase: str) -> bytes:
    """The keyed-hash secret of a key file (the passphrase is checked by opening it first)."""
    import unicodedata

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    envelope = json.loads(Path(key_path).read_text(encoding="utf-8"))
    kdf = envelope["kdf"]
    master = Scrypt(
        salt=base64.b64decode(kdf["salt"]), length=32, n=kdf["n"], r=kdf["r"], p=kdf["p"]
    ).derive(unicodedata.normalize("NFC", passphrase).encode("utf-8"))
    return HKDF(hashes.SHA256(), 32, salt=None, info=PURPOSE).derive(master)


def setup_from_key(
    key_path: str | Path, passphrase: str, patterns: bool | list[str] = True, ner: str | None = None
) -> PseudonymSetup:
    from caseframe.privacy import KeyFile

    key = KeyFile.open(key_path, passphrase)  # refuses a wrong passphrase in one line
    return PseudonymSetup(
        derive_secret(key_path, passphrase),
        known_names(key.registry, key.book).to_records(),
        key.book.to_records(),
        patterns,
        ner,
    )


def known_names(registry: Registry, book: PseudonymBook) -> Registry:
    """The registry plus every name the book already holds (found earlier in the project by a
    pattern or NER), with its pseudonym: they are looked for as the project does."""
    from caseframe.privacy import NAME_CATEGORIES, Registry
    from caseframe.privacy.registry import normalise_value

    out = Registry(entries=list(registry.entries))
    listed = {(normalise_value(e.value), e.category) for e in registry}
    for a in book.assignments():
        if a.category in NAME_CATEGORIES and (normalise_value(a.value), a.category) not in listed:
            out.add(a.value, a.category, a.pseudonym)
    return out


def keyed_label(secret: bytes, value: str, category: str) -> str:
    from caseframe.privacy.pseudonyms import NUMBERED_PREFIX, value_key

    digest = hmac.new(secret, f"{category}\0{value_key(value, category)}".encode(), "sha256")
    code = base64.b32encode(digest.digest()).decode("ascii")[:LABEL_CHARS]
    return f"[{NUMBERED_PREFIX[category]} {code}]"


class Pseudonymiser:
    """Detect and replace in one text; built once per worker from a `PseudonymSetup`."""

    def __init__(self, setup: PseudonymSetup):
        from caseframe.privacy import PseudonymBook, Registry, load_ner

        self.setup = setup
        self.registry = Registry.from_records(setup.registry)
        self.book = PseudonymBook.from_records(setup.book)
        self.ner = load_ner(setup.ner) if setup.ner else None
        self._labels: dict[tuple[str, str], str] = {}

    def label(self, value: str, category: str, hint: str | None) -> str:
        from caseframe.privacy.hit import PATTERN_CATEGORIES
        from caseframe.privacy.pseudonyms import FIXED_LABEL, bracket

        if hint:
            return bracket(hint)
        known = self.book.lookup(value, category)
        if known:
            return known
        if category in PATTERN_CATEGORIES:
            return bracket(FIXED_LABEL[category])
        key = (value, category)
        if key not in self._labels:
            self._labels[key] = keyed_label(self.setup.secret, value, category)
        return self._labels[key]

    def __call__(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """(new text, [(category, source)] of each replacement)."""
        from caseframe.privacy import apply_replacements, scan

        found = scan(text, self.registry, self.setup.patterns, self.ner, context_chars=0)
        if not found:
            return text, []
        plan = [
            (d.start, d.end, self.label(d.value or d.text, d.category, d.pseudonym_hint))
            for d in found
        ]
        new_text, _ = apply_replacements(text, plan)
        return new_text, [(d.category, d.source.split(":", 1)[0]) for d in found]


_WORKER_CACHE: dict[str, Pseudonymiser] = {}


def _pseudonymiser(setup: PseudonymSetup) -> Pseudonymiser:
    """One per worker process and run: the registry's patterns and NER load once."""
    if setup.token not in _WORKER_CACHE:
        _WORKER_CACHE.clear()
        _WORKER_CACHE[setup.token] = Pseudonymiser(setup)
    return _WORKER_CACHE[setup.token]


def pseudonymise_partition(
    part: Partition, setup: PseudonymSetup, out: str, settings: dict[str, Any]
) -> dict[str, Any]:
    import pyarrow as pa

    start = time.perf_counter()
    work = _pseudonymiser(setup)
    keep = list(settings["keep"])
    ids: list[str] = []
    texts: list[str] = []
    extra: dict[str, list[Any]] = {c: [] for c in keep}
    categories: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    changed = bad = 0
    errors: list[dict[str, Any]] = []
    for chunk in read_partition(part, settings["text_column"], settings["id_column"], keep):
        errors += chunk.errors
        bad += chunk.bad_rows
        for text in chunk.texts:
            new_text, hits = work(text)
            texts.append(new_text)
            changed += bool(hits)
            categories.update(c for c, _ in hits)
            sources.update(s for _, s in hits)
        ids += chunk.ids
        for c in keep:
            extra[c] += chunk.extra[c]
    columns: dict[str, Any] = {"id": pa.array(ids, pa.string()), **extra}
    columns["text"] = pa.array(texts, pa.string())
    marker = {
        "rows": len(ids),
        "bad_rows": bad,
        "errors": errors,
        "seconds": round(time.perf_counter() - start, 3),
        "rows_changed": changed,
        "categories": dict(categories),
        "sources": dict(sources),
    }
    return write_partition(out, part, pa.table(columns), marker)


def totals(markers: list[dict]) -> dict[str, Any]:
    """Per-category and per-detector counts over the finished partitions."""
    categories: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for m in markers:
        categories.update(m.get("categories", {}))
        sources.update(m.get("sources", {}))
    return {
        "rows_changed": sum(m.get("rows_changed", 0) for m in markers),
        "categories": dict(sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))),
        "sources": dict(sorted(sources.items())),
    }


def check_patterns(names: list[str] | None) -> bool | list[str]:
    from caseframe.privacy import PATTERN_NAMES

    if not names:
        return True
    unknown = [n for n in names if n not in PATTERN_NAMES]
    if unknown:
        raise InvalidInput(
            f"unknown pattern {', '.join(unknown)}", hint=f"use {', '.join(PATTERN_NAMES)}"
        )
    return names


def secret_id(secret: bytes) -> str:
    """A public fingerprint of the secret, so a resumed run can check it has the same key."""
    return hashlib.sha256(b"caseframe pseudonym key id\0" + secret).hexdigest()[:16]


def write_report(out: Path, result: dict[str, Any]) -> Path:
    """report.csv: replacements per category (counts only, never a value)."""
    import pandas as pd

    from caseframe.interop.tables import write_csv

    frame = pd.DataFrame(list(result["categories"].items()), columns=["category", "replaced"])
    return write_csv(frame, Path(out) / "report.csv")
