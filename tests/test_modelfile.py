"""The trained-model file: round trip, versions, signatures, the key, `suggest train`."""

from __future__ import annotations

import json
import os
import stat
import struct
from collections import Counter

import numpy as np
import pytest
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold

from batch_support import CODES, KEY_HEX, nhs_comments, train_model, write_dataset
from caseframe.cli.main import run
from caseframe.errors import InvalidInput, NotFound
from caseframe.suggest.modelfile import MAGIC, load_model, read_header, signing_key

KEY = bytes.fromhex(KEY_HEX)


@pytest.fixture(scope="module")
def model_path(shared, tmp_path_factory):
    return train_model(shared, tmp_path_factory.mktemp("model"))


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("CASEFRAME_MODEL_KEY", KEY_HEX)


def _rewrite_header(src, dst, change):
    raw = src.read_bytes()
    (size,) = struct.unpack(">I", raw[8:12])
    header = json.loads(raw[12 : 12 + size])
    change(header)
    head = json.dumps(header).encode()
    dst.write_bytes(MAGIC + struct.pack(">I", len(head)) + head + raw[12 + size :])


def test_model_file_round_trip_predicts_like_the_fitted_method(model_path, shared):
    loaded = load_model(model_path, KEY)
    texts = nhs_comments(shared)["text"].iloc[900:1100].tolist()
    assert loaded.codes == CODES
    assert loaded.model_id.startswith("supervised-")
    assert loaded.header["training"]["units"] == 900
    P = loaded.method.predict_proba(texts)
    assert P.shape == (200, len(CODES))
    np.testing.assert_array_equal(loaded.method.decide(P), loaded.method.predict(texts))


def test_cross_validated_figures_match_sklearn_on_out_of_fold_decisions(model_path, shared):
    """The stored per-code F1 is the F1 of out-of-fold decisions (reference: sklearn)."""
    from caseframe.suggest import get_method

    header = read_header(model_path)
    comments = nhs_comments(shared).iloc[:900]
    texts = comments["text"].tolist()
    Y = comments[CODES].to_numpy()
    oof = np.zeros_like(Y)
    for train, held in KFold(3, shuffle=True, random_state=0).split(texts):
        m = get_method("supervised").fit([texts[i] for i in train], Y[train], CODES)
        oof[held] = m.predict([texts[i] for i in held])
    for j, code in enumerate(CODES):
        expected = f1_score(Y[:, j], oof[:, j], zero_division=0)
        assert header["cv"]["per_code"][code]["f1"] == pytest.approx(expected)
        assert header["cv"]["per_code"][code]["support"] == int(Y[:, j].sum())
    assert header["cv"]["folds"] == 3


def test_a_model_file_of_another_format_version_is_refused(model_path, tmp_path):
    other = tmp_path / "v2.cfm"
    _rewrite_header(model_path, other, lambda h: h.update(version=2, caseframe="9.0"))
    with pytest.raises(InvalidInput, match="format version 2 .*caseframe 9.0.*reads version 1"):
        load_model(other, KEY)
    with pytest.raises(InvalidInput, match="format version 2"):
        read_header(other)


def test_a_changed_payload_is_refused_before_unpickling(model_path, tmp_path):
    tampered = tmp_path / "tampered.cfm"
    raw = bytearray(model_path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    tampered.write_bytes(bytes(raw))
    with pytest.raises(InvalidInput, match="changed after it was written"):
        load_model(tampered, KEY)


def test_a_changed_header_is_refused(model_path, tmp_path):
    tampered = tmp_path / "codes.cfm"
    _rewrite_header(model_path, tampered, lambda h: h["codes"].reverse())
    with pytest.raises(InvalidInput, match="changed after it was written"):
        load_model(tampered, KEY)


def test_a_file_signed_with_another_key_is_refused(model_path):
    with pytest.raises(InvalidInput, match="signed with another key"):
        load_model(model_path, b"\x01" * 32)


def test_not_a_model_file_and_a_truncated_one_are_refused(model_path, tmp_path):
    junk = tmp_path / "junk.cfm"
    junk.write_bytes(b"PK\x03\x04" + b"\0" * 100)
    with pytest.raises(InvalidInput, match="not a caseframe model file"):
        load_model(junk, KEY)
    cut = tmp_path / "cut.cfm"
    cut.write_bytes(model_path.read_bytes()[:-100])
    with pytest.raises(InvalidInput, match="truncated or changed"):
        load_model(cut, KEY)
    with pytest.raises(NotFound):
        load_model(tmp_path / "missing.cfm", KEY)


def test_signing_key_file_is_created_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("CASEFRAME_MODEL_KEY")
    monkeypatch.setenv("CASEFRAME_MODEL_KEY_FILE", str(tmp_path / "k" / "model.key"))
    with pytest.raises(NotFound, match="no model-signing key"):
        signing_key()
    key = signing_key(create=True)
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(tmp_path / "k" / "model.key").st_mode) == 0o600
    assert signing_key() == key
    monkeypatch.setenv("CASEFRAME_MODEL_KEY", "not hex")
    with pytest.raises(InvalidInput, match="CASEFRAME_MODEL_KEY"):
        signing_key()


def test_cli_suggest_train_on_a_dataset_then_a_tampered_model_is_refused_in_one_line(
    shared, tmp_path, capsys
):
    data = write_dataset(nhs_comments(shared).iloc[:400], tmp_path / "data")
    out = tmp_path / "m.cfm"
    code = run(["suggest", "train", str(data), "--out", str(out), "--folds", "2", "--json"])
    assert code == 0
    header = json.loads(capsys.readouterr().out)
    assert header["codes"] == CODES and header["cv"]["folds"] == 2
    assert load_model(out, KEY).model_id == header["model_id"]

    raw = bytearray(out.read_bytes())
    raw[-40] ^= 1
    out.write_bytes(bytes(raw))
    csv_in = tmp_path / "in.csv"
    csv_in.write_text("id,text\n1,hello\n", encoding="utf-8")
    code = run(
        ["batch", "suggest", str(csv_in), "--text-column", "text", "--model", str(out)]
        + ["--out", str(tmp_path / "o")]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "changed after it was written" in err
    assert not (tmp_path / "o").exists()


def test_cli_suggest_train_from_a_project_learns_its_human_codings(shared, tmp_path, capsys):
    from caseframe.api import Project

    data = write_dataset(nhs_comments(shared).iloc[:300], tmp_path / "data")
    project = Project.init(tmp_path / "proj")
    project.import_coded(data)
    training = project.batch_training_set()
    project.close()
    comments = nhs_comments(shared).iloc[:300]
    order = [s.code for s in training.specs]
    assert sorted(order) == sorted(CODES)
    expected = Counter(
        (r["text"], tuple(int(r[c]) for c in order)) for r in comments.to_dict("records")
    )
    got = Counter(
        (t, tuple(int(v) for v in y)) for t, y in zip(training.texts, training.Y, strict=True)
    )
    assert got == expected
    out = tmp_path / "p.cfm"
    assert run(["suggest", "train", str(tmp_path / "proj"), "--out", str(out), "--folds", "0"]) == 0
    assert read_header(out)["training"]["source"].startswith("project ")
