"""Transcribing recordings into documents that stay linked to their audio.

Each recording is recognised in full (resumably) before anything is written; with a key, names
are replaced in the text, the file name and the speaker labels, and muted in the audio, before
the store sees any of it. Then one transaction stores the document, its turns, meaning units,
timed passages and the audio (a file beside an SQLite project, blocks in a PostgreSQL store).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.api.base import ProjectBase
from caseframe.errors import CaseframeError, Conflict, InvalidInput, NotFound
from caseframe.model import SpeakerTurn
from caseframe.store.core import new_guid
from caseframe.store.lookup import case_row, document_row
from caseframe.store.queries import media as mq

if TYPE_CHECKING:
    from caseframe.privacy import KeyFile
    from caseframe.transcribe.engine import Settings
    from caseframe.transcribe.media import MediaInfo, Timeline
    from caseframe.transcribe.run import Progress
    from caseframe.transcribe.transcript import Transcript

MEDIA_DIR = "media"
MAX_LABEL = 200


@dataclass
class TranscribeResult:
    path: str
    document: str | None = None
    language: str = ""
    duration: float = 0.0
    segments: int = 0
    turns: int = 0
    words: int = 0
    resumed_from: float = 0.0
    real_time_factor: float | None = None
    muted: int = 0  # stretches of audio silenced because a replaced name was said there
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class _Job:
    """What every recording of one `transcribe` call shares."""

    model: Any
    language: str | None
    labels: list[str]
    case: str | None
    key: Any
    confirm: Any
    ner: Any
    pause: float
    chunk_seconds: float
    settings: Any
    state_dir: Path
    fingerprint: dict
    on_progress: Any
    actor: str | None


class TranscribeMixin(ProjectBase):
    # -- transcribing -------------------------------------------------------------------------

    def transcribe(
        self,
        paths: Sequence[str | Path],
        model_path: str | Path,
        *,
        language: str = "auto",
        case: str | None = None,
        speakers: str | Sequence[str] | None = None,
        key: KeyFile | None = None,
        confirm: Callable[[str, list], bool] | None = None,
        ner: Any = None,
        pause: float = 1.0,
        chunk_seconds: float = 300.0,
        settings: Settings | None = None,
        state_dir: str | Path | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_result: Callable[[TranscribeResult], None] | None = None,
        actor: str | None = None,
    ) -> list[TranscribeResult]:
        """Transcribe recordings, one document (and one transaction) each.

        Problems with the model, language, case or speaker labels stop everything before any
        work; a problem with one recording (not audio, damaged, silent) is that file's error.
        `key` pseudonymises on the way in (`confirm(file name, proposals)` may refuse a file).
        """
        from caseframe.transcribe import engine, transcript
        from caseframe.transcribe.resume import default_state_dir

        settings = settings or engine.Settings()
        engine.require_faster_whisper()
        lang = engine.check_language(language)
        engine.check_model_folder(model_path)
        labels = transcript.speaker_labels(speakers)
        if any(len(label) > MAX_LABEL for label in labels):
            raise InvalidInput(f"a speaker label is longer than {MAX_LABEL} characters")
        if pause <= 0:
            raise InvalidInput("the pause that splits turns must be more than 0 seconds")
        if case:
            with self.store.read() as conn:
                case_row(conn, case)
        model = engine.load_model(model_path, settings)
        engine.check_model_language(model, lang, str(model_path))
        state_dir = Path(state_dir) if state_dir else default_state_dir()
        if key is not None:
            self.check_private_path(state_dir, "resume-state folder")  # type: ignore[attr-defined]
        fingerprint = {
            "model": str(Path(model_path).resolve()),
            "language": lang,
            "chunk_seconds": chunk_seconds,
            "beam_size": settings.beam_size,
            "vad": settings.vad,
        }
        job = _Job(
            model,
            lang,
            labels,
            case,
            key,
            confirm,
            ner,
            pause,
            chunk_seconds,
            settings,
            state_dir,
            fingerprint,
            on_progress,
            actor,
        )
        results = []
        for raw in paths:
            result = TranscribeResult(str(raw))
            try:
                self._transcribe_one(Path(raw), result, job)
            except CaseframeError as exc:
                result.error = exc.line()
            results.append(result)
            if on_result:
                on_result(result)
        return results

    def _transcribe_one(self, path: Path, result: TranscribeResult, job: _Job) -> None:
        from caseframe.transcribe import audio, run, transcript
        from caseframe.transcribe.resume import ResumeState, file_sha256

        info = audio.probe(path)
        sha = file_sha256(path)
        state = ResumeState.open(job.state_dir, sha, job.fingerprint)
        try:
            heard = run.recognise(
                info,
                job.model,
                state,
                language=job.language,
                settings=job.settings,
                chunk_seconds=job.chunk_seconds,
                on_progress=job.on_progress,
            )
        except CaseframeError:
            state.discard()  # a damaged or silent recording: nothing worth resuming
            raise
        text = transcript.build(
            heard.segments, pause=job.pause, speakers=job.labels, duration=heard.duration
        )
        name, mute = path.name, []
        if job.key is not None:
            text, name, mute = self._pseudonymise_transcript(
                job.key, text, name, job.confirm, job.ner
            )
        with tempfile.TemporaryDirectory(prefix="caseframe-audio-") as tmp:
            if mute:
                muted = Path(tmp) / (Path(name).stem + ".ogg")
                audio.mute(info, mute, muted)
                stored_audio, mime, audio_sha = muted, "audio/ogg", file_sha256(muted)
            else:
                stored_audio, mime, audio_sha = path, info.mime_type, sha
            stored = (stored_audio, mime, audio_sha)
            self._store_transcript(result, job, path, name, text, heard, stored)
        state.discard()
        result.muted = len(mute)
        result.resumed_from = heard.resumed_from
        worked = heard.duration - heard.resumed_from
        result.real_time_factor = heard.elapsed / worked if worked > 0 else None

    def _pseudonymise_transcript(
        self, key: KeyFile, text: Transcript, name: str, confirm, ner
    ) -> tuple[Transcript, str, list[tuple[int, int]]]:
        """Names replaced in the text, file name and labels (the key saved first), and the
        stretches of audio where a replaced name was said."""
        from caseframe.privacy import accepted_by_document
        from caseframe.transcribe import private

        items = self.scan_texts(key, private.targets(text, name), ner=ner)  # type: ignore[attr-defined]
        if confirm is not None and items and not confirm(name, items):
            raise InvalidInput(
                f"{name}: not stored, the proposed replacements were refused",
                hint="add or correct names in the key's registry and transcribe it again",
            )
        book = key.book.copy()
        result = private.apply(text, name, accepted_by_document(items), book)
        key.book = book
        key.save()
        return result

    def _store_transcript(
        self,
        result: TranscribeResult,
        job: _Job,
        path: Path,
        name: str,
        text: Any,
        heard: Any,
        stored: tuple[Path, str, str],
    ) -> None:
        from caseframe.ingest import content_hash, segment, word_count
        from caseframe.transcribe import media as files

        audio_path, mime, audio_sha = stored
        pseudonymised = job.key is not None
        digest = content_hash(text.text)
        turns = [SpeakerTurn(i, tr.speaker, tr.start, tr.end) for i, tr in enumerate(text.turns)]
        units = segment(text.text, turns, "turn", 3)
        duration_ms = int(round(heard.duration * 1000))
        guid = new_guid()
        file_copy: Path | None = None
        try:
            with self.writing(job.actor) as w:
                same = mq.document_with_hash(w.conn, digest)
                if same is not None:
                    raise Conflict(
                        f"the transcript is the same as document '{same}'",
                        where=str(path),
                        hint="the recording was transcribed before; nothing was added",
                    )
                doc_name = mq.free_document_name(w.conn, name)
                about = {
                    "language": heard.language,
                    "duration_ms": duration_ms,
                    "pause": job.pause,
                    "speakers": list(job.labels),
                    "model": Path(job.fingerprint["model"]).name,
                }
                doc_id = mq.insert_document(
                    w.conn,
                    name=doc_name,
                    text=text.text,
                    content_hash=digest,
                    word_count=word_count(text.text),
                    source_path=None if pseudonymised else str(path),
                    pseudonymised=pseudonymised,
                    meta={"transcription": about},
                )
                mq.insert_turns(w.conn, doc_id, turns)
                mq.insert_units(w.conn, doc_id, "turn", units)
                mq.insert_timed_segments(w.conn, doc_id, text.segments)
                if job.case:
                    mq.link_case(w.conn, doc_id, case_row(w.conn, job.case).id)
                media_name = Path(name).stem + audio_path.suffix if pseudonymised else path.name
                location = "store" if self.store.dialect != "sqlite" else "file"
                relative = None
                if location == "file":
                    relative = f"{MEDIA_DIR}/{guid.lower()}{audio_path.suffix.lower()}"
                    file_copy = self.root / relative
                    files.copy_into(audio_path, file_copy)
                media_id = mq.insert_media(
                    w.conn,
                    document_id=doc_id,
                    name=media_name,
                    mime_type=mime,
                    size=audio_path.stat().st_size,
                    sha256=audio_sha,
                    duration_ms=duration_ms,
                    location=location,
                    path=relative,
                    guid=guid,
                )
                if location == "store":
                    mq.insert_blocks(w.conn, media_id, files.blocks(audio_path, mq.BLOCK_SIZE))
                counts = {"segments": len(text.segments), "turns": len(turns)}
                after = {"name": doc_name, **about, **counts, "pseudonymised": pseudonymised}
                w.audit("transcribe", "document", doc_id, None, after)
        except BaseException:
            if file_copy is not None:
                file_copy.unlink(missing_ok=True)
            raise
        result.document, result.language, result.duration = doc_name, heard.language, heard.duration
        result.segments, result.turns = len(text.segments), len(turns)
        result.words = word_count(text.text)

    # -- turns --------------------------------------------------------------------------------

    def relabel_turn(
        self, document: str | int, turn: int, speaker: str, *, actor: str | None = None
    ) -> SpeakerTurn:
        """Give one speaker turn another label (and the meaning units inside it); audited."""
        speaker = " ".join((speaker or "").split())
        if not speaker:
            raise InvalidInput("a speaker label cannot be empty")
        if len(speaker) > MAX_LABEL:
            raise InvalidInput(f"a speaker label is longer than {MAX_LABEL} characters")
        with self.writing(actor) as w:
            doc = document_row(w.conn, document)
            row = mq.turn(w.conn, doc.id, turn)
            if row is None:
                count = mq.turn_count(w.conn, doc.id)
                raise NotFound(
                    f"document '{doc.name}' has no turn {turn}",
                    hint=f"turns are numbered 0 to {count - 1}" if count else "it has no turns",
                )
            mq.set_turn_speaker(w.conn, doc.id, turn, speaker)
            w.audit(
                "relabel",
                "speaker_turn",
                f"{doc.id}:{turn}",
                {"document": doc.name, "turn": turn, "speaker": row.speaker},
                {"document": doc.name, "turn": turn, "speaker": speaker},
            )
        return SpeakerTurn(turn, speaker, row.start, row.end)

    # -- reading ------------------------------------------------------------------------------

    def timeline(self, document: str | int) -> Timeline:
        from caseframe.transcribe.media import Timeline, media_info

        """A document's timed passages, turns and recording (segments empty if untimed)."""
        with self.store.read() as conn:
            doc = document_row(conn, document)
            row = mq.media_for_document(conn, doc.id)
            turns = [SpeakerTurn(r.idx, r.speaker, r.start, r.end) for r in mq.turns(conn, doc.id)]
            return Timeline(doc.id, media_info(row), mq.timed_segments(conn, doc.id), turns)

    def _media_row(self, document: str | int) -> Any:
        with self.store.read() as conn:
            doc = document_row(conn, document)
            row = mq.media_for_document(conn, doc.id)
        if row is None:
            raise NotFound(f"document '{doc.name}' has no recording")
        return row

    def media(self, document: str | int) -> MediaInfo:
        from caseframe.transcribe.media import media_info

        return media_info(self._media_row(document))

    def media_bytes(
        self, document: str | int, start: int = 0, end: int | None = None
    ) -> Iterator[bytes]:
        """Bytes [start, end) of a document's recording, in blocks (for range requests)."""
        row = self._media_row(document)
        end = row.size if end is None else min(end, row.size)
        if start >= end:
            return iter(())
        if row.location == "file":
            path = self.root / row.path
            if not path.is_file():
                raise NotFound("the recording's file is missing", where=str(path))
            from caseframe.transcribe import media as files

            return files.byte_range(path, start, end)
        return self._store_range(row.id, start, end)

    def _store_range(self, media_id: int, start: int, end: int) -> Iterator[bytes]:
        with self.store.read() as conn:
            yield from mq.read_blocks(conn, media_id, start, end)

    def subtitles(self, document: str | int, fmt: str = "vtt") -> str:
        from caseframe.transcribe import subtitles
        from caseframe.util.names import check_choice

        check_choice("subtitle format", fmt, list(subtitles.FORMATS))
        with self.store.read() as conn:
            doc = document_row(conn, document)
            segments = mq.timed_segments(conn, doc.id)
            turns = mq.turns(conn, doc.id)
        if not segments:
            raise InvalidInput(
                f"document '{doc.name}' has no timings",
                hint="subtitles need a document made by 'caseframe transcribe'",
            )
        return subtitles.FORMATS[fmt](subtitles.cues(doc.text, segments, turns))

    def export_subtitles(self, document: str | int, fmt: str, out: str | Path) -> Path:
        from caseframe.util.atomic import atomic_write

        return atomic_write(out, self.subtitles(document, fmt))
