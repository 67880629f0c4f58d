"""`caseframe privacy ...` and `caseframe import --pseudonymise` end to end (cli.main.run)."""

from __future__ import annotations

import csv
import json

import pytest

from caseframe.api import Project
from caseframe.cli.main import run
from caseframe.privacy import KeyFile

PASS = "cli passphrase for tests"
TEXT = (
    "Interviewer: Hur är det på Solbacken?\n"
    "Greta: Bra. Ring 070-123 45 67. Dr Lind och jag trivs i Karlstad.\n"
    "Interviewer: Tack Greta.\n"
    "Greta: Tack själv.\n"
)


@pytest.fixture
def env(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    assert run(["init", str(root)]) == 0
    private = tmp_path / "private"
    private.mkdir()
    key = private / "study.cfkey"
    KeyFile.create(key, PASS, scrypt_n=2**14)  # small n keeps the tests fast
    monkeypatch.setenv("CASEFRAME_PROJECT", str(root))
    monkeypatch.setenv("CASEFRAME_KEY", str(key))
    monkeypatch.setenv("CASEFRAME_KEY_PASSPHRASE", PASS)
    src = tmp_path / "src"
    src.mkdir()
    (src / "intervju1.txt").write_text(TEXT, encoding="utf-8")
    names = tmp_path / "names.csv"
    names.write_text(
        "value,category,pseudonym,variants\n"
        "Greta Ek,respondent,Manager A3,Greta\n"
        "Solbacken,site,,\n"
        "Karlstad,place,,\n",
        encoding="utf-8",
    )
    return {"root": root, "key": key, "src": src, "names": names, "private": private}


def test_registry_scan_apply(env, capsys):
    assert run(["privacy", "registry", "import", str(env["names"])]) == 0
    assert run(["privacy", "registry", "add", "NSPH", "-c", "organisation"]) == 0
    assert run(["import", str(env["src"] / "intervju1.txt")]) == 0
    capsys.readouterr()
    assert run(["privacy", "registry", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["value"]: r["pseudonym"] for r in listed}["Greta Ek"] == "[Manager A3]"

    review = env["private"] / "study-review.csv"
    assert run(["privacy", "scan"]) == 0
    out, err = capsys.readouterr()
    assert "[Manager A3]" in out and "pattern:phone" in out and "registry" in out
    assert "holds real names" in err and review.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(review.open(encoding="utf-8")))
    assert {r["text"] for r in rows} >= {"Greta", "Solbacken", "070-123 45 67", "Lind", "Karlstad"}

    assert run(["privacy", "apply", str(review), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["documents"] == 1 and summary["replacements"] == len(rows)
    project = Project.open(env["root"])
    text = project.document("intervju1.txt").text
    project.close()
    assert "Greta" not in text and "[Manager A3]: Bra. Ring [Phone]." in text

    assert run(["privacy", "reidentify", "Manager A3"]) == 0
    assert "Greta Ek" in capsys.readouterr().out


def test_import_pseudonymise_yes_and_confirm(env, capsys, monkeypatch):
    assert run(["privacy", "registry", "import", str(env["names"])]) == 0
    answers = iter([False])
    monkeypatch.setattr("typer.confirm", lambda *_a, **_k: next(answers))
    assert run(["import", str(env["src"] / "intervju1.txt"), "--pseudonymise"]) == 1
    out, err = capsys.readouterr()
    assert "Proposed replacements" in out and "refused" in err and "0 imported" in out
    assert run(["import", str(env["src"] / "intervju1.txt"), "--pseudonymise", "--yes"]) == 0
    out = capsys.readouterr().out
    assert "imported intervju1.txt" in out
    project = Project.open(env["root"])
    doc = project.document("intervju1.txt")
    project.close()
    assert "Greta" not in doc.text and "Solbacken" not in doc.text and doc.pseudonymised
    assert [t.speaker for t in doc.turns] == ["Interviewer", "[Manager A3]"] * 2
    raw = b"".join(p.read_bytes() for p in env["root"].glob("project.sqlite*"))
    assert b"Greta" not in raw and b"Solbacken" not in raw and b"123 45 67" not in raw


def test_bad_input_one_line_and_nothing_changed(env, capsys, monkeypatch, tmp_path):
    # the key inside the project is refused
    assert run(["privacy", "key", "create", "--key", str(env["root"] / "k.cfkey")]) == 1
    assert "inside the project folder" in capsys.readouterr().err
    assert not (env["root"] / "k.cfkey").exists()
    # a wrong passphrase: clear message, key unchanged
    before = env["key"].read_bytes()
    monkeypatch.setenv("CASEFRAME_KEY_PASSPHRASE", "not it")
    assert run(["privacy", "registry", "add", "Greta", "-c", "person"]) == 1
    err = capsys.readouterr().err
    assert "wrong passphrase" in err and "Traceback" not in err
    assert env["key"].read_bytes() == before
    monkeypatch.setenv("CASEFRAME_KEY_PASSPHRASE", PASS)
    # a corrupt key file
    broken = env["private"] / "broken.cfkey"
    broken.write_text('{"format": "caseframe-key", "version": 1, "kdf": 3}', encoding="utf-8")
    assert run(["privacy", "registry", "list", "--key", str(broken)]) == 1
    assert "damaged or not a caseframe key file" in capsys.readouterr().err
    # a malformed name list: file:line, nothing added
    bad = tmp_path / "bad.csv"
    bad.write_text("value,category\nGreta,person\nOops\n", encoding="utf-8")
    assert run(["privacy", "registry", "import", str(bad)]) == 1
    assert f"{bad}:3" in capsys.readouterr().err
    assert len(KeyFile.open(env["key"], PASS).registry) == 0
    # no key at all
    monkeypatch.delenv("CASEFRAME_KEY")
    assert run(["privacy", "scan"]) == 1
    assert "no key file given" in capsys.readouterr().err
    # a review list with a malformed line changes nothing
    monkeypatch.setenv("CASEFRAME_KEY", str(env["key"]))
    assert run(["privacy", "registry", "import", str(env["names"])]) == 0
    assert run(["import", str(env["src"] / "intervju1.txt")]) == 0
    review = env["private"] / "r.csv"
    assert run(["privacy", "scan", "--out", str(review)]) == 0
    lines = review.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("yes,intervju1.txt,", "yes,intervju1.txt,x", 1)
    review.write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert run(["privacy", "apply", str(review)]) == 1
    assert f"{review}:2" in capsys.readouterr().err
    project = Project.open(env["root"])
    assert project.document("intervju1.txt").text == TEXT
    project.close()
