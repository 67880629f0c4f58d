"""The encrypted key file: round trip, wrong passphrase, damage, atomic private writes.

Key derivation runs at the real strength (scrypt n=2**17); each open costs a fraction of a
second, so the tests share one created file where they can.
"""

from __future__ import annotations

import base64
import json
import shutil
import stat

import pytest

from caseframe.errors import Conflict, InvalidInput
from caseframe.privacy.keyfile import SCRYPT_N, KeyFile
from caseframe.privacy.pseudonyms import PseudonymBook
from caseframe.privacy.registry import Registry

PASSPHRASE = "korrekt häst batteri häftklammer"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("key") / "study.cfkey"
    registry = Registry()
    registry.add("Anna Berg", "respondent", "Manager A3", ["Anna"])
    registry.add("Solgården", "site")
    book = PseudonymBook()
    book.register(registry)
    book.assign("070-123 45 67", "phone")
    KeyFile.create(path, PASSPHRASE, registry=registry, book=book)
    return path


def test_round_trip(saved):
    key = KeyFile.open(saved, PASSPHRASE)
    assert [(e.value, e.pseudonym, e.variants) for e in key.registry] == [
        ("Anna Berg", "Manager A3", ("Anna",)),
        ("Solgården", None, ()),
    ]
    assert key.book.lookup("anna berg", "respondent") == "[Manager A3]"
    assert key.book.lookup("Solgården", "site") == "[Service 1]"
    assert [a.value for a in key.book.reidentify("[Phone]")] == ["070-123 45 67"]


# Every real value and label the key holds, as it would appear in plain text.
SECRETS = (
    "Anna Berg",
    "Anna",
    "Solgården",
    "Solg",
    "070-123 45 67",
    "070",
    "Manager A3",
    "Manager",
)
_BINARY_FIELDS = {("kdf", "salt"), ("nonce",), ("ciphertext",)}


def _readable_and_binary(envelope: dict, path: tuple = ()) -> tuple[list[str], list[bytes]]:
    """The envelope's readable strings (keys and plain values) and its decoded binary fields."""
    readable: list[str] = []
    binary: list[bytes] = []
    for name, value in envelope.items():
        readable.append(name)
        where = (*path, name)
        if isinstance(value, dict):
            more_readable, more_binary = _readable_and_binary(value, where)
            readable += more_readable
            binary += more_binary
        elif where in _BINARY_FIELDS:
            binary.append(base64.b64decode(value, validate=True))
        else:
            readable.append(str(value))
    return readable, binary


def test_file_is_private_and_reveals_nothing(saved):
    """No secret in the readable parts, none in the decoded salt, nonce and ciphertext.

    The base64 text itself is random, so any short string ("070") turns up in it by chance;
    what matters is that the readable header holds no secret and the binary fields do not hold
    the plaintext. Whole values of 9+ bytes appear in random bytes with odds below 2**-60.
    """
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    raw = saved.read_bytes()
    envelope = json.loads(raw)
    assert set(envelope) == {"format", "version", "kdf", "cipher", "nonce", "ciphertext"}
    readable, binary = _readable_and_binary(envelope)
    for secret in SECRETS:
        assert not any(secret.casefold() in text.casefold() for text in readable), secret
        if len(secret.encode()) >= 9:
            assert not any(secret.encode() in data for data in binary), secret
    plaintext = KeyFile.open(saved, PASSPHRASE)  # the secrets are in there, encrypted
    assert plaintext.book.lookup("Anna Berg", "respondent") == "[Manager A3]"
    assert envelope["format"] == "caseframe-key" and envelope["version"] == 1
    assert envelope["kdf"]["name"] == "scrypt" and envelope["kdf"]["n"] == SCRYPT_N == 2**17
    assert len(base64.b64decode(envelope["kdf"]["salt"])) == 16


def test_save_and_change_passphrase(saved, tmp_path):
    path = tmp_path / "copy.cfkey"
    shutil.copy2(saved, path)
    key = KeyFile.open(path, PASSPHRASE)
    key.book.assign("Arvika", "place")
    key.change_passphrase("new passphrase")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["copy.cfkey"]  # no temp files left
    with pytest.raises(InvalidInput, match="wrong passphrase"):
        KeyFile.open(path, PASSPHRASE)
    again = KeyFile.open(path, "new passphrase")
    assert again.book.lookup("arvika", "place") == "[Town 1]"


def test_wrong_passphrase_changes_nothing(saved):
    before = saved.read_bytes()
    with pytest.raises(InvalidInput) as err:
        KeyFile.open(saved, "not the passphrase")
    assert err.value.message == f"wrong passphrase for key file {saved} (nothing was changed)"
    assert saved.read_bytes() == before


def _damaged(saved, tmp_path, mutate):
    path = tmp_path / "damaged.cfkey"
    path.write_bytes(mutate(saved.read_bytes()))
    return path


def _edit_json(field, value):
    def mutate(raw: bytes) -> bytes:
        envelope = json.loads(raw)
        envelope[field] = value
        return json.dumps(envelope).encode()

    return mutate


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: raw[: len(raw) // 2],  # truncated
        lambda raw: b"",
        lambda raw: b"\x00\xff" * 40,
        lambda raw: b'{"format": "something else"}',
        _edit_json("nonce", "not base64!"),
        _edit_json("kdf", {"name": "scrypt", "n": 3, "r": 8, "p": 1, "salt": "AAAA"}),
        _edit_json("kdf", {"name": "pbkdf2"}),
        _edit_json("version", "1"),
    ],
    ids=[
        "truncated",
        "empty",
        "binary",
        "other-json",
        "bad-base64",
        "bad-n",
        "bad-kdf",
        "bad-version",
    ],
)
def test_corrupt_file_is_one_clear_error(saved, tmp_path, mutate):
    path = _damaged(saved, tmp_path, mutate)
    with pytest.raises(InvalidInput, match="damaged or not a caseframe key file"):
        KeyFile.open(path, PASSPHRASE)


def test_flipped_ciphertext_byte_is_caught_by_authentication(saved, tmp_path):
    def flip(raw: bytes) -> bytes:
        envelope = json.loads(raw)
        data = bytearray(base64.b64decode(envelope["ciphertext"]))
        data[5] ^= 1
        envelope["ciphertext"] = base64.b64encode(bytes(data)).decode()
        return json.dumps(envelope).encode()

    path = _damaged(saved, tmp_path, flip)
    with pytest.raises(InvalidInput, match="wrong passphrase .*the file is damaged"):
        KeyFile.open(path, PASSPHRASE)


def test_newer_version_is_named(saved, tmp_path):
    path = _damaged(saved, tmp_path, _edit_json("version", 2))
    with pytest.raises(InvalidInput, match="newer caseframe"):
        KeyFile.open(path, PASSPHRASE)


def test_create_refuses_to_overwrite_and_bad_arguments(saved, tmp_path):
    before = saved.read_bytes()
    with pytest.raises(Conflict, match="already exists"):
        KeyFile.create(saved, PASSPHRASE)
    assert saved.read_bytes() == before
    with pytest.raises(InvalidInput, match="passphrase is empty"):
        KeyFile.create(tmp_path / "k.cfkey", "")
    with pytest.raises(InvalidInput, match="does not exist"):
        KeyFile.create(tmp_path / "no" / "k.cfkey", PASSPHRASE)
    with pytest.raises(InvalidInput, match="does not exist"):
        KeyFile.open(tmp_path / "missing.cfkey", PASSPHRASE)
    assert not (tmp_path / "k.cfkey").exists()
