"""Nothing leaks: after pseudonymising, no original value is in any export, page or store file.

The project is the reference study (example_copy) plus a respondent whose real name, service,
town, phone number, personnummer and e-mail appear in a transcript, memos, a coding memo, a
case label and description, a case attribute and the audit log, and one real AnnoMI transcript
whose client is named only by a greeting ("Hi, Emily."). Every export format that exists in
this tree is written and searched, as are the web pages and the raw SQLite files.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from caseframe.api import Project
from caseframe.privacy import KeyFile

PASS = "a long passphrase for tests"
TRANSCRIPT = (
    "Interviewer: Berätta om Solbacken.\n"
    "Greta: Jag heter Greta Ek och jobbar på Solbackens mottagning i Karlstad. "
    "Gretas chef Dr Lind ringer på 070-123 45 67 eller mejlar greta.ek@solbacken.se.\n"
    "Interviewer: Och ditt personnummer?\n"
    "Greta: 811218-9876. Lind säger att Solbacken behöver fler PSW i Karlstad.\n"
)
# Real values and the forms they may take; matched as whole words, ignoring case.
NAMES = ["Greta Ek", "Greta", "Solbacken", "Karlstad", "Lind", "Emily"]
IDENTIFIERS = ["070-123 45 67", "0701234567", "811218-9876", "greta.ek@solbacken.se"]
_ENDINGS = r"(?:s|'s|’s|:s|en|ens|et|ets|n|t)?"


def _leaks(text: str) -> list[str]:
    found = []
    for name in NAMES:
        words = r"\s+".join(re.escape(w) for w in name.split())
        if re.search(rf"(?<!\w){words}{_ENDINGS}(?!\w)", text, re.IGNORECASE):
            found.append(name)
    digits = re.sub(r"\D", "", text)
    for value in IDENTIFIERS:
        if value.casefold() in text.casefold():
            found.append(value)
    for number in ("0701234567", "8112189876"):
        if number in digits:
            found.append(number)
    return found


def _text_of(path: Path) -> str:
    """All text in a file: members of a zip (xlsx, docx, qdpx) or the bytes themselves."""
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    return data.decode("utf-8", "replace")


@pytest.fixture
def annomi_emily(shared) -> str:
    csv = shared / "data" / "annomi" / "AnnoMI-full.csv"
    if not csv.is_file():
        pytest.fail(f"missing {csv}: the shared data folder is needed for this test")
    rows = pd.read_csv(csv).drop_duplicates(["transcript_id", "utterance_id"])
    rows = rows[rows.transcript_id == 4].sort_values("utterance_id")
    text = "\n".join(f"{r.interlocutor}: {r.utterance_text}" for r in rows.itertuples())
    assert text.startswith("therapist: Hi, Emily.")
    return text


@pytest.fixture
def leaky(example_copy: Project, annomi_emily: str, tmp_path) -> tuple[Project, Path]:
    project = example_copy
    src = tmp_path / "src"
    src.mkdir()
    (src / "intervju_greta_ek.txt").write_text(TRANSCRIPT, encoding="utf-8")
    (src / "annomi-4.txt").write_text(annomi_emily, encoding="utf-8")
    site = next(c.key for c in project.cases() if c.kind == "site")
    project.add_case(
        "R9",
        label="Greta Ek",
        kind="respondent",
        parent=site,
        description="Nås på 070-123 45 67",
        attributes={"employer": "Solbacken i Karlstad"},
    )
    results = project.import_documents(list(src.iterdir()), case="R9")
    assert all(r.ok for r in results), results
    code = next(c for c in project.codes() if c.kind == "category")
    for name in ("intervju_greta_ek.txt", "annomi-4.txt"):
        doc = project.document(name)
        for tr in doc.turns[:12]:
            project.add_coding(
                name,
                tr.start,
                tr.end,
                code.id,
                "kim",
                valence="facilitator",
                memo="Greta och Lind" if "Greta" in doc.text[tr.start : tr.end] else None,
            )
    project.add_memo("case", "R9", "Greta Ek (Solbacken) var nervös; Emily likaså.", author="kim")
    project.add_memo("document", "annomi-4.txt", "Emily talks to her dentist.", title="Emily")
    project.audit("kim", "note", "case", "R9", None, {"label": "Greta Ek", "tel": "0701234567"})
    if hasattr(project, "summarise"):
        project.summarise("R9", code.id, "Greta på Solbacken beskriver stödet.", author="kim")

    key = KeyFile.create(tmp_path / "private.cfkey", PASS, scrypt_n=2**14)
    project.register_name(key, "Greta Ek", "respondent", "Respondent R9", ["Greta"])
    project.register_name(key, "Solbacken", "site")
    project.register_name(key, "Karlstad", "place")
    project.close()
    raw = _store_text(project.root)
    assert {"Greta Ek", "Solbacken", "Emily", "811218-9876"} <= set(_leaks(raw))  # the premise

    items = project.privacy_scan(key)
    project.apply_privacy_review(key, items)
    return project, tmp_path


def _store_text(root: Path) -> str:
    return "".join(
        p.read_bytes().decode("utf-8", "replace") for p in sorted(root.glob("project.sqlite*"))
    )


def test_no_export_contains_an_original_value(leaky):
    project, tmp_path = leaky
    out = tmp_path / "exports"
    out.mkdir()
    written: list[Path] = [
        project.export_codings("csv", out / "codings.csv"),
        project.export_codings("xlsx", out / "codings.xlsx"),
    ]
    if hasattr(project, "report"):
        for fmt in ("html", "docx", "md"):
            written.append(project.report(fmt, out / f"report.{fmt}"))
    if hasattr(project, "export_qdpx"):
        written.append(project.export_qdpx(out / "project.qdpx")[0])
        written.append(project.export_qdc(out / "codebook.qdc")[0])
    if hasattr(project, "export_matrix"):
        written.append(project.export_matrix(out / "matrix.xlsx"))
    frames = [project.codings_frame(include_machine=True), project.cases_frame()]
    frames += [project.memos_frame(), project.documents_frame(), project.audit_frame()]
    for frame in frames:
        assert _leaks(frame.to_csv()) == [], frame.head()
    for path in written:
        assert path.stat().st_size > 0
        assert _leaks(_text_of(path)) == [], path.name
    # the pseudonyms are there instead, and codings still cover their (new) text
    codings = project.codings_frame()
    mine = codings[codings.document.str.startswith("intervju_")]
    assert mine.text.str.contains(r"\[Respondent R9\]", regex=True).any()
    doc = project.document(mine.document.iloc[0])
    assert all(doc.text[r.start : r.end] == r.text for r in mine.itertuples())
    assert "[Service 1]s mottagning i [Town 1]" in doc.text and "[Personnummer]" in doc.text
    emily = project.document(next(d for d in codings.document if d.startswith("annomi")))
    assert emily.text.startswith("therapist: Hi, [Person ")


def test_no_store_file_or_project_file_contains_an_original_value(leaky):
    project, tmp_path = leaky
    project.close()
    assert _leaks(_store_text(project.root)) == []
    for path in project.root.rglob("*"):
        if path.is_file():
            assert _leaks(_text_of(path)) == [], path
    assert not list(project.root.rglob("*.cfkey"))
    # the key file is outside and encrypted: no original in its bytes either
    assert _leaks((tmp_path / "private.cfkey").read_text(encoding="utf-8")) == []
    key = KeyFile.open(tmp_path / "private.cfkey", PASS)
    assert {a.value for a in key.book.reidentify("Respondent R9")} == {"Greta Ek"}


def test_web_pages_show_no_original_value(leaky):
    pytest.importorskip("caseframe.web")
    from fastapi.testclient import TestClient

    from caseframe.web import create_app

    project, _tmp = leaky
    project.add_user("olga", "owner-pass-1", "owner")
    client = TestClient(create_app(project=project))
    page = client.get("/login").text
    token = re.search(r'name="csrf-token" content="([^"]*)"', page)[1]
    r = client.post(
        "/login",
        data={"name": "olga", "password": "owner-pass-1", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    urls = ["/", "/codes", "/quotes", "/matrix", "/coverage", "/audit", "/users"]
    urls += ["/api/audit", "/download/codings", "/download/report"]
    urls += [f"/documents/{d}" for d in project.documents_frame()["id"]]
    seen = 0
    for url in urls:
        r = client.get(url)
        if r.status_code == 404 and not url.startswith("/documents"):
            continue  # a page this tree does not have yet
        assert r.status_code == 200, (url, r.status_code)
        body = r.content
        text = (
            _text_of(_save(body, _tmp / "page.bin"))
            if body[:2] == b"PK"
            else body.decode("utf-8", "replace")
        )
        assert _leaks(text) == [], url
        seen += 1
    assert seen >= 3 + len(project.documents_frame())


def _save(data: bytes, path: Path) -> Path:
    path.write_bytes(data)
    return path
