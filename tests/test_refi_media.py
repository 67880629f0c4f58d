"""REFI-QDA exchange of transcribed documents: the recording travels as an <AudioSource> with a
<Transcript> of sync points beside the coded <TextSource>, and comes back into the project's media
storage (a file beside an SQLite project, blocks in PostgreSQL) with its timings and codings.

The transcribed document is stored through the same queries `caseframe transcribe` uses, with a
WAV made here by the wave module and made-up timings: no Whisper model is needed.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import uuid
import wave
import zipfile
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree as ET

import numpy as np
import pytest
import xmlschema
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from caseframe.api import Project
from caseframe.errors import InvalidInput
from caseframe.ingest import content_hash, word_count
from caseframe.interop.refi import Limits, read_qdpx
from caseframe.store.engine import normalise_url
from caseframe.store.queries import media as mq

NS = "{urn:QDA-XML:project:1.0}"
TEXT = "How did the team receive her?\nSlowly at first. Then they asked for more.\nWhy?"
PASSAGES = [
    "How did the team receive her?",
    "Slowly at first.",
    "Then they asked for more.",
    "Why?",
]
TIMES = [(200, 2100), (3500, 4600), (4700, 6900), (8200, 8900)]
TURNS = [("Interviewer", 0, 1), ("Manager", 1, 3), ("Interviewer", 3, 4)]  # passages per turn
RATE = 44_100
SECONDS = 14  # 1.2 MB of 16-bit mono: more than one 1 MiB block in PostgreSQL


def make_wav(path: Path) -> bytes:
    """Mostly silence with a 441 Hz tone (100 samples a period) at each passage: deflated, it
    shrinks more than 200:1, like a quiet recording."""
    samples = np.zeros(RATE * SECONDS, dtype=np.int16)
    t = np.arange(RATE // 4) / RATE
    for start_ms, _ in TIMES:
        at = start_ms * RATE // 1000
        samples[at : at + len(t)] = (8000 * np.sin(2 * np.pi * 441 * t)).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def spans() -> list[tuple[int, int]]:
    found, at = [], 0
    for passage in PASSAGES:
        start = TEXT.index(passage, at)
        found.append((start, start + len(passage)))
        at = start + len(passage)
    return found


def add_transcribed(
    project: Project, wav: Path, name: str = "interview.wav", pseudonymised: bool = False
) -> str:
    """Store a transcribed document as `transcribe` does: text, turns, units, timed passages,
    the recording (copied into media/ for SQLite, 1 MiB blocks for PostgreSQL)."""
    from caseframe.ingest import segment
    from caseframe.model import SpeakerTurn

    places = spans()
    turns = [
        SpeakerTurn(i, who, places[a][0], places[b - 1][1]) for i, (who, a, b) in enumerate(TURNS)
    ]
    segments = [
        SimpleNamespace(start=s, end=e, start_ms=a, end_ms=b)
        for (s, e), (a, b) in zip(places, TIMES, strict=True)
    ]
    data = wav.read_bytes()
    guid = str(uuid.uuid4()).upper()
    with project.writing("tester") as w:
        doc_id = mq.insert_document(
            w.conn,
            name=name,
            text=TEXT,
            content_hash=content_hash(TEXT),
            word_count=word_count(TEXT),
            source_path=str(wav),
            pseudonymised=pseudonymised,
            meta={"transcription": {"language": "en", "duration_ms": SECONDS * 1000}},
        )
        mq.insert_turns(w.conn, doc_id, turns)
        mq.insert_units(w.conn, doc_id, "turn", segment(TEXT, turns, "turn", 3))
        mq.insert_timed_segments(w.conn, doc_id, segments)
        location = "file" if project.store.dialect == "sqlite" else "store"
        path = None
        if location == "file":
            path = f"media/{guid.lower()}.wav"
            (project.root / "media").mkdir(exist_ok=True)
            shutil.copyfile(wav, project.root / path)
        media_id = mq.insert_media(
            w.conn,
            document_id=doc_id,
            name=name,
            mime_type="audio/wav",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            duration_ms=SECONDS * 1000,
            location=location,
            path=path,
            guid=guid,
        )
        if location == "store":
            blocks = (data[i : i + mq.BLOCK_SIZE] for i in range(0, len(data), mq.BLOCK_SIZE))
            mq.insert_blocks(w.conn, media_id, blocks)
    return name


def build(project: Project, folder: Path) -> tuple[str, bytes]:
    """A transcribed document with codings by two coders and a case, and a plain text document."""
    wav = folder / "interview.wav"
    audio = make_wav(wav)
    doc = add_transcribed(project, wav)
    project.add_code("Reception")
    project.add_code("Time")
    project.add_case("A5")
    project.link_document(doc, "A5")
    (s, _), (s2, e2) = spans()[1], spans()[2]
    project.add_coding(doc, s, e2, "Reception", "anna", memo="turns around")
    project.add_coding(doc, s2 + 5, e2, "Time", "bo")
    project.add_coding(doc, 3, 12, "Reception", "bo")  # inside a passage: no sync point there
    notes = folder / "notes.txt"
    notes.write_text("Interviewer: no recording here.\n", encoding="utf-8")
    project.import_documents([notes])
    return doc, audio


def second_pg_database(pg_url: str):
    """A fresh PostgreSQL database besides the `pg_database` fixture's (dropped by the caller)."""
    name = "cf_test_" + uuid.uuid4().hex[:10]
    admin = create_engine(normalise_url(pg_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(pg_url)).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def state(project: Project, doc: str) -> dict:
    timeline = project.timeline(doc)
    frame = project.codings_frame().sort_values(["start", "end", "code", "coder"])
    return {
        "info": {
            k: getattr(project.media(doc), k)
            for k in ("name", "mime_type", "size", "duration_ms", "sha256")
        },
        "bytes": b"".join(project.media_bytes(doc)),
        "segments": [(r.start, r.end, r.start_ms, r.end_ms) for r in timeline.segments],
        "turns": [(tr.speaker, tr.start, tr.end) for tr in timeline.turns],
        "codings": list(
            frame[["document", "start", "end", "code", "coder", "memo", "guid"]].itertuples(
                index=False, name=None
            )
        ),
    }


def qde(path: Path) -> ET.Element:
    with zipfile.ZipFile(path) as archive:
        return ET.fromstring(archive.read("project.qde"))


# -- export -----------------------------------------------------------------------------------


def test_export_carries_the_recording_and_a_transcript_of_sync_points(project, tmp_path, shared):
    doc, audio = build(project, tmp_path)
    out, report = project.export_qdpx(tmp_path / "out.qdpx")
    assert report.is_empty, report.lines()

    # valid against the bundled schema (libxml2 inside the writer; xmlschema here as well)
    schema = xmlschema.XMLSchema(str(shared / "refi" / "Project.xsd"))
    with zipfile.ZipFile(out) as archive:
        schema.validate(io.BytesIO(archive.read("project.qde")))
    root = qde(out)
    sources = root.find(NS + "Sources")
    text_source = next(s for s in sources.findall(NS + "TextSource") if s.get("name") == doc)
    (audio_source,) = sources.findall(NS + "AudioSource")
    media_guid = audio_source.get("guid")
    assert audio_source.get("path") == f"internal://{media_guid}.wav"
    assert audio_source.get("name") == doc
    with zipfile.ZipFile(out) as archive:
        info = archive.getinfo(f"sources/{media_guid}.wav")
        assert info.compress_type == zipfile.ZIP_STORED  # never a zip-bomb ratio
        assert archive.read(info) == audio

    # one transcript: the coded text source's own file, a creation time and a name (QualCoder
    # needs both), and a sync point at each end of every timed passage
    (transcript,) = audio_source.findall(NS + "Transcript")
    assert transcript.get("plainTextPath") == text_source.get("plainTextPath")
    assert transcript.get("creationDateTime") and transcript.get("name") == f"{doc}.txt"
    points = [
        (int(p.get("position")), int(p.get("timeStamp")))
        for p in transcript.findall(NS + "SyncPoint")
    ]
    expected = []
    for (s, e), (a, b) in zip(spans(), TIMES, strict=True):
        expected += [(s, a), (e, b)]
    assert points == expected
    # the codings stay on the text source, where every peer reads them
    assert transcript.findall(NS + "TranscriptSelection") == []
    assert len(text_source.findall(f"{NS}PlainTextSelection/{NS}Coding")) == 3
    assert audio_source.findall(NS + "AudioSelection") == []


def test_export_without_media_is_text_only(tmp_path, capsys):
    from caseframe.cli.main import run

    project = Project.init(tmp_path / "p")
    build(project, tmp_path)
    project.close()
    out = tmp_path / "text.qdpx"
    assert run(["-p", str(tmp_path / "p"), "export", "qdpx", str(out), "--no-media"]) == 0
    assert "nothing lost" in capsys.readouterr().out
    assert qde(out).find(f"{NS}Sources/{NS}AudioSource") is None
    with zipfile.ZipFile(out) as archive:
        assert all(n.endswith((".txt", ".qde", ".json")) for n in archive.namelist())
    copy, result = Project.from_qdpx(out, tmp_path / "copy")
    assert "recordings" not in result.added and copy.timeline("interview.wav").segments == []
    copy.close()


# -- import -----------------------------------------------------------------------------------


def test_import_restores_recording_timings_and_codings_in_both_stores(
    project, tmp_path, pg_url, store_url
):
    """SQLite -> PostgreSQL and PostgreSQL -> SQLite, then export again: the same bytes."""
    doc, audio = build(project, tmp_path)
    first, _ = project.export_qdpx(tmp_path / "first.qdpx")
    before = state(project, doc)
    drop = None
    if store_url is None:  # from SQLite into PostgreSQL
        url, drop = second_pg_database(pg_url)
        copy = Project.init(tmp_path / "copy", db=url)
        result = copy.import_qdpx(first)
    else:  # from PostgreSQL into SQLite
        copy, result = Project.from_qdpx(first, tmp_path / "copy")
    try:
        assert result.added["recordings"] == 1
        after = state(copy, doc)
        assert after["bytes"] == audio
        assert after == before
        if copy.store.dialect == "sqlite":
            stored = list((tmp_path / "copy" / "media").iterdir())
            assert [p.read_bytes() for p in stored] == [audio]
        second, _ = copy.export_qdpx(tmp_path / "second.qdpx")
        assert second.read_bytes() == first.read_bytes()
    finally:
        copy.close()
        if drop:
            drop()


def test_dry_run_and_refused_import_leave_no_recording_behind(tmp_path):
    source = Project.init(tmp_path / "src")
    build(source, tmp_path)
    out, _ = source.export_qdpx(tmp_path / "out.qdpx")
    target = Project.init(tmp_path / "target")
    target.import_qdpx(out, dry_run=True)
    assert target.documents_frame().empty
    assert not list((tmp_path / "target").glob("media/*"))

    # damage the stored audio: the CRC check fails while it is streamed into the project
    data = bytearray(out.read_bytes())
    with zipfile.ZipFile(out) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith(".wav"))
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 5000
    data[at : at + 4] = b"\x55\xaa\x55\xaa"
    damaged = tmp_path / "damaged.qdpx"
    damaged.write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match="truncated or damaged"):
        target.import_qdpx(damaged)
    assert target.documents_frame().empty
    assert not list((tmp_path / "target").glob("media/*"))
    target.close()
    source.close()


# -- hostile and foreign archives -------------------------------------------------------------


def rewrite(src: Path, dst: Path, change) -> None:
    """Copy an archive entry by entry; change(name, data) -> (name, data, compress_type)."""
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:
        for info in a.infolist():
            name, data, kind = change(info.filename, a.read(info), info.compress_type)
            b.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data, kind)


def test_the_zip_guard_applies_to_recordings(tmp_path):
    source = Project.init(tmp_path / "src")
    build(source, tmp_path)
    out, _ = source.export_qdpx(tmp_path / "out.qdpx")
    source.close()
    # a recording over the entry limit is refused before anything is read
    with pytest.raises(InvalidInput, match=r"\.wav' would unpack to"):
        read_qdpx(out, limits=Limits(max_entry_bytes=1_000_000))
    # mostly silent audio deflated past 200:1 looks like a zip bomb, and is refused as one
    bomb = tmp_path / "bomb.qdpx"
    rewrite(out, bomb, lambda n, d, k: (n, d, zipfile.ZIP_DEFLATED if n.endswith(".wav") else k))
    with pytest.raises(InvalidInput, match="zip bomb"):
        read_qdpx(bomb)


def test_paths_outside_the_archive_are_never_opened(tmp_path):
    source = Project.init(tmp_path / "src")
    doc, _ = build(source, tmp_path)
    out, _ = source.export_qdpx(tmp_path / "out.qdpx")
    source.close()
    root = qde(out)
    audio = root.find(f"{NS}Sources/{NS}AudioSource")

    def with_path(value: str) -> Path:
        audio.set("path", value)
        xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        dst = tmp_path / f"p{abs(hash(value))}.qdpx"
        rewrite(out, dst, lambda n, d, k: (n, xml if n == "project.qde" else d, k))
        return dst

    # an absolute path is reported and not read; the transcript and its timings stay
    refi, report = read_qdpx(with_path("absolute:///etc/passwd"))
    media = next(s for s in refi.sources if s.media).media
    assert media.blocks is None and len(media.sync_points) == 2 * len(PASSAGES)
    assert any("outside the archive" in line for line in report.lines())
    target, result = Project.from_qdpx(with_path("absolute:///etc/passwd"), tmp_path / "t")
    assert "recordings" not in result.added
    assert [(r.start_ms, r.end_ms) for r in target.timeline(doc).segments] == TIMES
    target.close()
    # climbing out of the archive finds nothing in it: refused
    with pytest.raises(InvalidInput, match="missing from the archive"):
        read_qdpx(with_path("internal://../../etc/passwd"))


FOREIGN = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="from another tool" origin="QualCoder 3.6">
 <Users><User guid="{u}" name="Kim"/></Users>
 <CodeBook><Codes><Code guid="{c}" name="Support" isCodable="true"/></Codes></CodeBook>
 <Sources>
  <AudioSource guid="{a}" name="talk.wav" path="internal://{f}.wav" creatingUser="{u}"
      creationDateTime="2024-05-01T10:00:00Z">
   <Transcript guid="{t}" name="talk.wav.txt" plainTextPath="internal://{t}.txt"
       creationDateTime="2024-05-01T10:00:00Z">
    <SyncPoint guid="{p0}" position="0" timeStamp="0"/>
    <SyncPoint guid="{p1}" position="14" timeStamp="1500"/>
    <SyncPoint guid="{p2}" position="28" timeStamp="4000"/>
    <TranscriptSelection guid="{s}" fromSyncPoint="{p1}" toSyncPoint="{p2}" creatingUser="{u}">
     <Coding guid="{k}" creatingUser="{u}"><CodeRef targetGUID="{c}"/></Coding>
    </TranscriptSelection>
   </Transcript>
   <AudioSelection guid="{v}" begin="100" end="900">
    <Coding guid="{w}"><CodeRef targetGUID="{c}"/></Coding>
   </AudioSelection>
  </AudioSource>
 </Sources>
 <Sets><Set guid="{x}" name="Recorded"><MemberSource targetGUID="{a}"/></Set></Sets>
</Project>
"""


def test_another_tools_transcript_selections_and_sync_points_come_in(tmp_path):
    """QualCoder's layout: the transcript only inside the AudioSource, coded between sync
    points; a time-range selection cannot be placed on the text and is reported."""
    keys = ["u", "c", "a", "f", "t", "s", "k", "v", "w", "x", "p0", "p1", "p2"]
    ids = {k: str(uuid.uuid4()) for k in keys}
    transcript = "Good morning. We met weekly."
    wav = tmp_path / "talk.wav"
    audio = make_wav(wav)
    path = tmp_path / "foreign.qdpx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("project.qde", FOREIGN.format(**ids))
        archive.writestr(f"sources/{ids['t']}.txt", transcript)
        archive.writestr(f"sources/{ids['f']}.wav", audio)
    refi, report = read_qdpx(path, strict=True)
    assert any("AudioSelection" in line for line in report.lines())
    project, result = Project.from_qdpx(path, tmp_path / "p")
    (doc,) = project.documents_frame()["name"]
    assert doc == "talk.wav"
    codings = project.codings_frame()
    assert [(r.start, r.end, r.code, r.coder) for r in codings.itertuples()] == [
        (14, 28, "Support", "Kim")
    ]
    timeline = project.timeline(doc)
    assert [(r.start, r.end, r.start_ms, r.end_ms) for r in timeline.segments] == [
        (0, 14, 0, 1500),
        (14, 28, 1500, 4000),
    ]
    assert b"".join(project.media_bytes(doc)) == audio
    assert project.media(doc).mime_type == "audio/wav"
    assert result.added["recordings"] == 1
    project.close()


def test_qc_refuses_any_audio_source_so_text_only_export_is_offered(tmp_path):
    """qc 1.7.8 stops at the first source without a plainTextPath (it formats an Element as a
    dict); export with media=False gives it every document and coding."""
    from refi_peers import qc_available, qc_import

    if not qc_available():
        pytest.skip("qc (qualitative-coding 1.7.8) is not installed; see scripts/test")
    project = Project.init(tmp_path / "p")
    build(project, tmp_path)
    with_audio, _ = project.export_qdpx(tmp_path / "audio.qdpx")
    text_only, _ = project.export_qdpx(tmp_path / "text.qdpx", media=False)
    project.close()
    with pytest.raises(RuntimeError, match="element indices must be integers"):
        qc_import(with_audio, tmp_path / "qc-audio")
    kept = qc_import(text_only, tmp_path / "qc-text")
    assert len(kept["documents"]) == 2 and len(kept["coded"]) == 3


def test_recordings_of_pseudonymised_documents_are_flagged(tmp_path):
    """Names replaced after transcription are still spoken in the audio: the report says so."""
    project = Project.init(tmp_path / "p")
    wav = tmp_path / "a.wav"
    make_wav(wav)
    add_transcribed(project, wav, "Person 1.wav", pseudonymised=True)
    _, report = project.export_qdpx(tmp_path / "a.qdpx")
    assert [e.what for e in report.of_kind("warning")] == ["recordings of pseudonymised documents"]
    _, report = project.export_qdpx(tmp_path / "b.qdpx", media=False)
    assert report.is_empty
    project.close()


def test_a_recording_too_large_for_refi_keeps_its_timings(tmp_path, monkeypatch):
    from caseframe.interop.refi import write_media

    project = Project.init(tmp_path / "p")
    doc, _ = build(project, tmp_path)
    monkeypatch.setattr(write_media, "MAX_INTERNAL_FILE", 1000)
    out, report = project.export_qdpx(tmp_path / "big.qdpx")
    assert any("larger than 2 GiB" in line for line in report.lines())
    audio = qde(out).find(f"{NS}Sources/{NS}AudioSource")
    assert audio.get("path") is None and len(audio.findall(f"{NS}Transcript/{NS}SyncPoint")) == 8
    with zipfile.ZipFile(out) as archive:
        assert not [n for n in archive.namelist() if n.endswith(".wav")]
    project.close()
