"""detect_turns, segment, word_count and content_hash."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

import pytest

from caseframe.errors import InvalidInput
from caseframe.ingest import content_hash, detect_turns, read_document, segment, word_count
from caseframe.model import SpeakerTurn

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PDPILOT_TEXT = SHARED / "data" / "pdpilot-interviews" / "text"


def _turns(text: str) -> list[tuple[str, str]]:
    return [(t.speaker, text[t.start : t.end]) for t in detect_turns(text)]


# --- detect_turns -------------------------------------------------------------------------


def test_labels_open_turns_that_run_to_the_next_label():
    text = (
        "Interviewer: How did it start?\n"
        "Respondent: Slowly. We had\n"
        "   no money at first.\n"
        "\n"
        "Then it got better.   \n\n"
        "Interviewer: Why?\n"
    )
    assert _turns(text) == [
        ("Interviewer", "Interviewer: How did it start?"),
        ("Respondent", "Respondent: Slowly. We had\n   no money at first.\n\nThen it got better."),
        ("Interviewer", "Interviewer: Why?"),
    ]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("I", "R"),
        ("therapist", "client"),
        ("Dan", "Participant"),
        ("Anna-Lena", "Åsa Ek"),
        ("P1", "IP"),
    ],
)
def test_common_label_styles(a, b):
    text = f"{a}: first\n{b}: second\n{a}: third\n{b}: fourth"
    assert [s for s, _ in _turns(text)] == [a, b, a, b]


def test_pdftotext_layout_with_paragraph_numbers_and_page_breaks():
    text = (
        "1\n     Interview\n"
        "2    Dan: Okay. So now\n\n"
        "3    Participant: We typically use them to identify trends and\n"
        "     nonlinear interactions.\n\n"
        "                    \n24\n"
        "\f24   Dan: I see.\n\n"
        "25   Particpant: Right.\n"
    )
    turns = detect_turns(text)
    assert [(t.speaker, text[t.start : t.end]) for t in turns] == [
        ("Dan", "Dan: Okay. So now"),
        ("Participant", text[text.index("Participant:") : text.index("\n\n  ")]),
        ("Dan", "Dan: I see."),
        ("Particpant", "Particpant: Right."),  # one-off misspelling, numbered like the others
    ]
    assert turns[1].end == text.index("interactions.") + len("interactions.")


def test_timestamps_markdown_and_label_on_its_own_line():
    text = (
        "[00:00:05] Anna: Välkommen.\n"
        "[00:00:09] Bengt: Tack.\n"
        "**Anna:** Hur började det?\n"
        "BENGT:\n"
        "Med en ansökan.\n"
    )
    assert _turns(text) == [
        ("Anna", "Anna: Välkommen."),
        ("Bengt", "Bengt: Tack."),
        ("Anna", "**Anna:** Hur började det?"),
        ("BENGT", "BENGT:\nMed en ansökan."),
    ]


def test_short_exchange_with_single_use_names():
    assert [s for s, _ in _turns("Alice: hi\nBob: hello")] == ["Alice", "Bob"]


@pytest.mark.parametrize(
    "text",
    [
        "Note: this is prose.\nIt has no speakers.\n",
        "Summary: one heading only\nand prose after it.",
        "We met at\n10:30 and again at 14:00.\nThen home.",
        "See\nhttps://example.org/a: for details.\nmailto:someone@example.org",
        "A very long heading that is not a speaker name at all: and more\nSecond line: too",
        "Five words is too many: here\nAnother five word heading here: again",
        "The participant said, Dan: not at the start of a line.",
        "",
    ],
)
def test_no_false_turns_in_prose(text):
    assert detect_turns(text) == ()


def test_wrapped_line_looking_like_a_label_stays_inside_a_turn():
    text = (
        "Interviewer: What did you try?\n"
        "Respondent: Several things, for\n"
        "example: weekly meetings.\n"
        "Interviewer: And then?\n"
        "Respondent: Date: unknown.\n"
    )
    assert [s for s, _ in _turns(text)] == ["Interviewer", "Respondent"] * 2
    assert _turns(text)[1][1].endswith("example: weekly meetings.")


def test_label_limits_are_forty_characters_and_four_words():
    ok = "Senior Nurse Anna Karlsson"  # 4 words, 26 characters
    too_many_words = "The Senior Nurse Anna Karlsson"
    too_long = "Anna-Karin Wilhelmina Bergström-Lindqvist"  # 41 characters, 3 words
    assert len(too_long) == 41
    for name, expected in ((ok, [ok, "R"]), (too_many_words, ["R"]), (too_long, ["R"])):
        text = f"{name}: a\nR: b\n{name}: c\nR: d"
        assert sorted(set(s for s, _ in _turns(text))) == sorted(set(expected))


@pytest.mark.parametrize("name", [f"P{i}" for i in range(1, 8)])
def test_pdpilot_turns_count_equals_label_count(name):
    path = PDPILOT_TEXT / f"{name}.txt"
    if not path.exists():
        pytest.fail(f"shared test data missing: {path}")
    text = path.read_text(encoding="utf-8")
    labels = re.findall(r"(?:Dan|Participant|Particpant):", text)
    assert len(detect_turns(text)) == len(labels)


# --- segment ------------------------------------------------------------------------------

TRANSCRIPT = (
    "Intervju 3, Göteborg\n\n"
    "I: Hur började det? Berätta.\n"
    "R: Det var 2019. Vi fick pengar, t.ex. från regionen. Sen anställde vi två.\n"
    "\n"
    "Dr. Berg hjälpte oss! Det var bra.\n"
    "I: Tack.\n"
)


def _pieces(text, units):
    return [(text[s:e], speaker) for s, e, speaker in units]


def test_turn_units_with_text_before_the_first_turn():
    turns = detect_turns(TRANSCRIPT)
    assert _pieces(TRANSCRIPT, segment(TRANSCRIPT, turns)) == [
        ("Intervju 3, Göteborg", None),
        ("I: Hur började det? Berätta.", "I"),
        (
            "R: Det var 2019. Vi fick pengar, t.ex. från regionen. Sen anställde vi två.\n\n"
            "Dr. Berg hjälpte oss! Det var bra.",
            "R",
        ),
        ("I: Tack.", "I"),
    ]


def test_paragraph_units_split_at_blank_lines_and_turn_starts():
    text = TRANSCRIPT.replace("\n\nDr.", "\n \f\t\nDr.")  # whitespace-only line is blank
    turns = detect_turns(text)
    assert _pieces(text, segment(text, turns, "paragraph")) == [
        ("Intervju 3, Göteborg", None),
        ("I: Hur började det? Berätta.", "I"),
        ("R: Det var 2019. Vi fick pengar, t.ex. från regionen. Sen anställde vi två.", "R"),
        ("Dr. Berg hjälpte oss! Det var bra.", "R"),
        ("I: Tack.", "I"),
    ]


def test_sentence_windows_stay_inside_turns():
    turns = detect_turns(TRANSCRIPT)
    units = segment(TRANSCRIPT, turns, "sentences", window=2)
    assert _pieces(TRANSCRIPT, units) == [
        ("Intervju 3, Göteborg", None),
        ("I: Hur började det? Berätta.", "I"),
        ("R: Det var 2019. Vi fick pengar, t.ex. från regionen.", "R"),
        ("Sen anställde vi två.\n\nDr.", "R"),
        ("Berg hjälpte oss! Det var bra.", "R"),
        ("I: Tack.", "I"),
    ]
    singles = segment(TRANSCRIPT, turns, "sentences", window=1)
    assert len(singles) == 10  # title + 2 (I) + 6 (R: "t.ex. från" stays, "Dr." splits) + 1
    assert segment(TRANSCRIPT, turns, "sentences", window=100) == segment(TRANSCRIPT, turns)


def test_without_turns_every_scheme_works_on_paragraphs():
    text = "  First para. Two sentences.\n\n\nSecond para.  \n"
    para = [(2, 28, None), (31, 43, None)]
    assert segment(text, ()) == para
    assert segment(text, (), "paragraph") == para
    assert segment(text, (), "sentences", window=1) == [(2, 13, None), (14, 28, None), para[1]]
    assert segment("   \n\n ", ()) == []


def test_units_are_trimmed_disjoint_and_ordered_on_real_transcripts():
    for path in sorted(PDPILOT_TEXT.glob("P*.txt")):
        doc = read_document(path)
        for scheme in ("turn", "paragraph", "sentences"):
            units = segment(doc.text, doc.turns, scheme)
            previous = 0
            for start, end, speaker in units:
                piece = doc.text[start:end]
                assert previous <= start < end and piece == piece.strip()
                previous = end
                if speaker is not None:  # inside exactly the turn of that speaker
                    (turn,) = [t for t in doc.turns if t.start <= start < t.end]
                    assert end <= turn.end and turn.speaker == speaker
        turn_units = segment(doc.text, doc.turns, "turn")
        assert sum(1 for u in turn_units if u[2] is not None) == len(doc.turns)


def test_bad_arguments():
    with pytest.raises(InvalidInput, match="unknown unit scheme 'imported'.*turn, paragraph"):
        segment("x", (), "imported")
    for window in (0, -1, 1.5, True):
        with pytest.raises(InvalidInput, match="sentence window"):
            segment("x", (), "sentences", window=window)
    with pytest.raises(InvalidInput, match="speaker turn 0"):
        segment("short", (SpeakerTurn(0, "A", 0, 99),))
    with pytest.raises(InvalidInput, match="overlaps"):
        segment("A: one\nB: two", (SpeakerTurn(0, "A", 0, 8), SpeakerTurn(1, "B", 7, 13)))


# --- word_count and content_hash ----------------------------------------------------------


def test_word_count():
    assert word_count("") == 0
    assert word_count("Det går bra, tack!") == 4
    assert word_count("Don't stop: well-being is 2019's aim.") == 6
    assert word_count("  10:30 \n\n") == 2
    # Without apostrophes or hyphens it agrees with a plain \\w+ tokenizer (reference).
    text = (PDPILOT_TEXT / "P1.txt").read_text(encoding="utf-8")
    plain = re.sub(r"['’\-]", " ", text)
    assert word_count(plain) == len(re.findall(r"\w+", plain))


def test_content_hash_is_sha256_of_normalised_text():
    text = "I: Hur går det i Göteborg?\nR: Bra."
    reference = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert content_hash(text) == reference
    assert content_hash(unicodedata.normalize("NFD", text)) == reference
    assert content_hash(text.replace("\n", "\r\n")) == reference
    assert content_hash("\ufeff" + text) == reference
    assert content_hash(text + " ") != reference


def test_pseudonymised_speaker_labels_are_turns():
    from caseframe.ingest import detect_turns

    text = "[Manager A3]: We had no money.\n[Interviewer]: Why?\n[Manager A3]: The grant ended.\n"
    turns = detect_turns(text)
    assert [t.speaker for t in turns] == ["[Manager A3]", "[Interviewer]", "[Manager A3]"]
    assert text[turns[1].start : turns[1].end] == "[Interviewer]: Why?"
