"""Transcription parts that need no model: transcript building, subtitles, WER, chunked decoding,
probing bad files, range headers."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

from caseframe.errors import InvalidInput, NotFound
from caseframe.transcribe import subtitles, transcript, wer
from caseframe.transcribe.engine import Segment, Word
from caseframe.web.routes.media import Unsatisfiable, parse_range


def needs_ffmpeg():
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        if os.environ.get("CI"):
            pytest.fail("ffmpeg is missing; run scripts/setup-transcribe.sh")
        pytest.skip("ffmpeg is not installed (apt-get install ffmpeg)")


def seg(start, end, text, words=()):
    return Segment(start, end, text, tuple(Word(*w) for w in words))


# -- transcript -----------------------------------------------------------------------------------


def test_turns_split_at_pauses_and_the_first_two_labels_alternate():
    segs = [
        seg(0.2, 2.0, " How did it start?"),
        seg(3.5, 6.0, " Slowly."),
        seg(6.3, 8.0, "  Then   faster. "),
        seg(9.5, 10.0, "Why?"),
    ]
    t = transcript.build(segs, pause=1.0, speakers=["Interviewer", "Manager", "Observer"])
    assert t.text == "How did it start?\nSlowly. Then faster.\nWhy?"
    assert [(tr.speaker, t.text[tr.start : tr.end]) for tr in t.turns] == [
        ("Interviewer", "How did it start?"),
        ("Manager", "Slowly. Then faster."),
        ("Interviewer", "Why?"),
    ]
    assert [t.text[s.start : s.end] for s in t.segments] == [
        "How did it start?",
        "Slowly.",
        "Then faster.",
        "Why?",
    ]
    assert [(s.start_ms, s.end_ms) for s in t.segments] == [
        (200, 2000),
        (3500, 6000),
        (6300, 8000),
        (9500, 10000),
    ]


def test_no_labels_gives_one_neutral_label_and_one_label_names_every_turn():
    segs = [seg(0, 1, "a"), seg(3, 4, "b")]
    assert {tr.speaker for tr in transcript.build(segs).turns} == {transcript.DEFAULT_SPEAKER}
    assert {tr.speaker for tr in transcript.build(segs, speakers=["Manager"]).turns} == {"Manager"}
    assert transcript.speaker_labels(" Interviewer , ,Manager ") == ["Interviewer", "Manager"]


def test_times_never_overlap_go_back_or_pass_the_end_and_empty_passages_are_dropped():
    segs = [
        seg(0, 5, "one"),
        seg(4, 6, "two"),
        seg(3, 3.5, "three"),
        seg(7, 12, " "),
        seg(9, 14, "four"),
    ]
    t = transcript.build(segs, duration=10.0)
    times = [(s.start_ms, s.end_ms) for s in t.segments]
    assert times == [(0, 5000), (5000, 6000), (6000, 6000), (9000, 10000)]
    assert all(a[1] <= b[0] for a, b in zip(times, times[1:], strict=False))


def test_word_times_map_text_spans_to_stretches_of_audio():
    segs = [
        seg(
            1.0,
            4.0,
            " I met Anna Berg today.",
            [
                (1.0, 1.2, " I"),
                (1.2, 1.5, " met"),
                (1.5, 2.0, " Anna"),
                (2.0, 2.6, " Berg"),
                (2.6, 3.0, " today."),
            ],
        )
    ]
    t = transcript.build(segs)
    start = t.text.index("Anna")
    assert transcript.spans_to_times(t.words, [(start, start + len("Anna Berg"))], pad_ms=100) == [
        (1400, 2700)
    ]


def test_remap_moves_every_span_after_a_replacement():
    t = transcript.build([seg(0, 1, "I met Anna."), seg(3, 4, "Anna left.")], speakers=["Anna"])
    new_text = t.text.replace("Anna", "[Person 1]")

    def map_span(s, e):
        def move(pos):
            before = t.text[:pos].count("Anna")
            return pos + before * (len("[Person 1]") - len("Anna"))

        return move(s), move(e)

    moved = transcript.remap(t, new_text, map_span, lambda s: "[Person 1]" if s == "Anna" else s)
    assert [new_text[s.start : s.end] for s in moved.segments] == [
        "I met [Person 1].",
        "[Person 1] left.",
    ]
    assert [tr.speaker for tr in moved.turns] == ["[Person 1]", "[Person 1]"]
    assert moved.words == ()


# -- subtitles ------------------------------------------------------------------------------------


def _timed_document(odd="<unsure> &"):
    t = transcript.build(
        [
            seg(0.5, 2.25, "How did the staff react?"),
            seg(4.0, 65.5, f"At first {odd} careful. " + "They came round in the end. " * 4),
        ],
        speakers=["Interviewer", "Manager"],
    )
    return t


def test_webvtt_has_times_voices_escapes_and_cues_of_at_most_two_lines():
    t = _timed_document()
    vtt = subtitles.to_vtt(subtitles.cues(t.text, t.segments, t.turns))
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.500 --> 00:00:02.250\n<v Interviewer>How did")
    assert "<v Manager>At first &lt;unsure&gt; &amp; careful." in vtt
    assert "00:00:04.000 --> " in vtt and vtt.rstrip().endswith("end.")
    blocks = vtt.strip().split("\n\n")[1:]
    assert len(blocks) > 2  # the long passage is split into several cues
    for block in blocks:
        lines = block.split("\n")
        assert len(lines[2:]) <= 2 and all(len(x) <= 60 for x in lines[2:])
    ends = [b.split("\n")[1].split(" --> ") for b in blocks]
    assert ends[-1][1] == "00:01:05.500"


def test_subtitles_read_back_by_caseframes_importer_with_the_same_words_and_speakers(tmp_path):
    from caseframe.ingest import read_document

    t = _timed_document(odd="& R&D")  # SubRip has no escapes: "<" would read as a tag
    items = subtitles.cues(t.text, t.segments, t.turns)
    for fmt in ("vtt", "srt"):
        path = tmp_path / f"out.{fmt}"
        path.write_text(subtitles.FORMATS[fmt](items), encoding="utf-8")
        back = read_document(path)
        assert [tr.speaker for tr in back.turns] == ["Interviewer", "Manager"]
        spoken = back.text.replace("Interviewer:", "").replace("Manager:", "")
        assert spoken.split() == t.text.split()


def test_srt_uses_commas_in_times_and_labels_each_cue():
    t = _timed_document()
    srt = subtitles.to_srt(subtitles.cues(t.text, t.segments, t.turns))
    assert srt.startswith("1\n00:00:00,500 --> 00:00:02,250\nInterviewer: How did the staff")
    assert "\n2\n00:00:04,000 --> " in srt


# -- WER ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference, hypothesis",
    [
        ("the cat sat on the mat", "the cat sat on the mat"),
        ("the cat sat on the mat", "the cat sit on mat"),
        ("peer support changes attitudes", "beer support change in attitudes"),
        ("a b c", "x y z w v"),
        ("vi tyckte att det var spännande", "vi tycker det var spännande ju"),
    ],
)
def test_wer_matches_jiwer(reference, hypothesis):
    try:
        import jiwer
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("jiwer is missing; run scripts/setup-transcribe.sh")
        pytest.skip("jiwer is not installed (the reference WER implementation)")
    assert wer.wer(reference, hypothesis) == pytest.approx(jiwer.wer(reference, hypothesis))


def test_wer_normalises_case_punctuation_and_apostrophes_and_sums_over_a_corpus():
    assert wer.wer("Aren’t we ready? Yes, we are.", "aren't we ready yes we are") == 0
    pairs = [("a b c d", "a b c d"), ("e f", "e g")]
    assert wer.corpus_wer(pairs) == pytest.approx(1 / 6)
    with pytest.raises(ValueError):
        wer.wer(" ... ", "x")


# -- decoding -------------------------------------------------------------------------------------


def _tone_with_gaps(path, seconds):
    """A tone that pauses for 0.3 s every 2 s (where a chunk can be cut), written as FLAC."""
    needs_ffmpeg()
    expr = r"0.3*sin(2*PI*440*t)*gt(mod(t\,2)\,0.3)"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"aevalsrc={expr}:s=16000:d={seconds}",
            str(path),
        ],
        check=True,
    )
    return path


def test_a_long_recording_is_decoded_in_bounded_chunks_cut_in_pauses(tmp_path):
    from caseframe.transcribe import audio

    path = _tone_with_gaps(tmp_path / "long.flac", 600)
    info = audio.probe(path)
    assert info.duration == pytest.approx(600, abs=0.1)
    assert info.mime_type == "audio/flac"
    sizes, starts, end = [], [], 0.0
    for chunk in audio.chunks(info, chunk_seconds=60):
        assert chunk.start == pytest.approx(end)  # contiguous, nothing lost or repeated
        sizes.append(len(chunk.samples))
        starts.append(chunk.start)
        end = chunk.end
        if chunk.start > 0:  # cut inside a pause, not through the tone
            assert audio.loudest_dbfs(chunk.samples[:480]) < -60
    assert end == pytest.approx(600, abs=0.01)
    assert max(sizes) <= 60 * audio.SAMPLE_RATE
    assert min(sizes[:-1]) >= 55 * audio.SAMPLE_RATE
    # decoding again from a chunk's start yields the same following chunk (how resuming works)
    again = next(audio.chunks(info, chunk_seconds=60, start=starts[3], first_index=3))
    assert again.index == 3 and len(again.samples) == sizes[3]


def test_probe_refuses_text_random_bytes_and_missing_files(tmp_path):
    from caseframe.transcribe import audio

    needs_ffmpeg()
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not an audio file"):
        audio.probe(text)
    with pytest.raises(NotFound):
        audio.probe(tmp_path / "missing.mp3")
    noise = tmp_path / "noise.mp3"
    noise.write_bytes(np.random.default_rng(1).bytes(50_000))
    with pytest.raises(InvalidInput, match="damaged|not an audio file|no audio"):
        info = audio.probe(noise)
        list(audio.chunks(info))


def test_a_cut_off_file_is_reported_as_damaged(tmp_path):
    from caseframe.transcribe import audio

    whole = _tone_with_gaps(tmp_path / "whole.flac", 30)
    cut = tmp_path / "cut.flac"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    info = audio.probe(cut)
    with pytest.raises(InvalidInput, match="ends early|damaged"):
        list(audio.chunks(info, chunk_seconds=10))


# -- range headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, expected",
    [
        (None, None),
        ("bytes=0-", (0, 1000)),
        ("bytes=0-0", (0, 1)),
        ("bytes=100-199", (100, 200)),
        ("bytes=900-5000", (900, 1000)),
        ("bytes=-100", (900, 1000)),
        ("bytes=-5000", (0, 1000)),
        ("bytes=5-1", None),  # invalid: ignored, the whole file is sent
        ("bytes=0-1,5-9", None),  # several ranges: the whole file
        ("items=0-5", None),
    ],
)
def test_range_headers(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=2000-3000", "bytes=-0"])
def test_unsatisfiable_ranges(header):
    with pytest.raises(Unsatisfiable):
        parse_range(header, 1000)


# -- resume state ---------------------------------------------------------------------------------


def test_resume_state_round_trips_privately_and_only_for_the_same_recording_and_settings(tmp_path):
    from caseframe.transcribe.resume import ResumeState

    settings = {"model": "/models/base", "language": "en", "chunk_seconds": 300.0}
    state = ResumeState.open(tmp_path / "state", "ab" * 32, settings)
    assert not state.resumed
    state.segments.append(
        seg(0.5, 2.0, " Hello there.", [(0.5, 1.0, " Hello"), (1.0, 2.0, " there.")])
    )
    state.next_index, state.next_start, state.language, state.loudest = 1, 300.0, "en", -12.5
    state.save()
    assert oct(state.path.stat().st_mode & 0o777) == "0o600"
    again = ResumeState.open(tmp_path / "state", "ab" * 32, settings)
    assert again.resumed and again.next_start == 300.0 and again.language == "en"
    assert again.segments == state.segments and again.loudest == -12.5
    other = ResumeState.open(tmp_path / "state", "ab" * 32, {**settings, "language": "sv"})
    assert not other.resumed and other.path != state.path
    assert not ResumeState.open(tmp_path / "state", "cd" * 32, settings).resumed
    state.path.write_text("{ damaged", encoding="utf-8")
    assert not ResumeState.open(tmp_path / "state", "ab" * 32, settings).resumed
