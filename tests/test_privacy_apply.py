"""Applying replacements and remapping the offsets of codings onto the new text."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from caseframe.errors import Conflict, InvalidInput
from caseframe.privacy.apply import apply_replacements, pseudonymise
from caseframe.privacy.detect import scan
from caseframe.privacy.pseudonyms import PseudonymBook
from caseframe.privacy.registry import Registry

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def expected_new_text(text: str, reps: list[tuple[int, int, str]], start: int, end: int) -> str:
    """What a coding over [start, end) must cover afterwards, computed without OffsetMap:
    widen the span to whole replaced values, then substitute every value inside it."""
    for s, e, _ in reps:
        if s < start < e:
            start = s
        if s < end < e:
            end = e
    out, pos = [], start
    for s, e, new in sorted(reps):
        if start <= s and e <= end:
            out += [text[pos:s], new]
            pos = e
    out.append(text[pos:end])
    return "".join(out)


def random_case(rng: random.Random) -> tuple[str, list[tuple[int, int, str]]]:
    text = "".join(rng.choice("ab \n") for _ in range(rng.randint(1, 60)))
    k = min(len(text) + 1, 2 * rng.randint(0, 5))
    cuts = sorted(rng.sample(range(len(text) + 1), k=k - k % 2))
    reps = []
    for s, e in zip(cuts[::2], cuts[1::2], strict=True):
        if s < e and rng.random() < 0.8:
            reps.append((s, e, "".join(rng.choice("XY") for _ in range(rng.randint(0, 8)))))
    rng.shuffle(reps)  # callers need not sort
    return text, reps


@pytest.mark.parametrize("seed", range(40))
def test_remapped_span_covers_the_substituted_text(seed):
    rng = random.Random(seed)
    for _ in range(25):
        text, reps = random_case(rng)
        new_text, offsets = apply_replacements(text, reps)
        assert new_text == expected_new_text(text, reps, 0, len(text))
        assert offsets.map_span(0, len(text)) == (0, len(new_text))
        for _ in range(20):
            start = rng.randint(0, len(text) - 1)
            end = rng.randint(start + 1, len(text))
            new_start, new_end = offsets.map_span(start, end)
            assert 0 <= new_start <= new_end <= len(new_text)
            assert new_text[new_start:new_end] == expected_new_text(text, reps, start, end)


def test_remapping_cases_by_hand():
    text = "Anna Berg bor i Karlstad sedan 2010."
    #       0    5    10   15   20   25   30
    new_text, m = apply_replacements(text, [(0, 9, "[Manager A3]"), (16, 24, "[Town 1]")])
    assert new_text == "[Manager A3] bor i [Town 1] sedan 2010."
    assert m.map_span(10, 15) == (13, 18)  # outside: shifted by +3
    assert new_text[slice(*m.map_span(31, 35))] == "2010"  # shifted by +3 and 0
    assert m.map_span(0, 24) == (0, 27)  # covers both: grows
    assert m.map_span(5, 9) == (0, 12)  # the surname only: snaps to the whole pseudonym
    assert m.map_span(2, 20) == (0, 27)  # both ends inside replaced values: snap outwards
    assert m.map_span(9, 16) == (12, 19)  # touching both edges, covering neither
    assert m.map_span(9, 9) == (12, 12)


def test_overlapping_replacements_are_refused():
    with pytest.raises(Conflict, match=r"\[0, 9\) 'Anna Berg' and \[5, 12\) 'Berg bo' overlap"):
        apply_replacements("Anna Berg bor här", [(0, 9, "[P]"), (5, 12, "[Q]")])


@pytest.mark.parametrize("bad", [(-1, 2, "x"), (3, 3, "x"), (4, 2, "x"), (0, 99, "x")])
def test_replacement_out_of_range(bad):
    with pytest.raises(InvalidInput, match="not a non-empty range"):
        apply_replacements("short text", [bad])


def test_map_span_rejects_bad_spans():
    _, m = apply_replacements("abcdef", [(1, 2, "XYZ")])
    with pytest.raises(InvalidInput):
        m.map_span(4, 2)
    with pytest.raises(InvalidInput, match="outside the text"):
        m.map_span(0, 7)


def test_stale_detection_changes_nothing():
    registry = Registry()
    registry.add("Karlstad", "place")
    book = PseudonymBook()
    detections = scan("Hon bor i Karlstad.", registry)
    with pytest.raises(Conflict, match="scan the document again"):
        pseudonymise("Han bor i Arvika nu.", detections, book)
    assert len(book) == 0


def test_coded_real_document_keeps_every_coding(seed_text):
    """Pseudonymise the reference study's text with codings on it; each coding's text, with
    the names substituted, is what it covers afterwards."""
    registry = Registry()
    for value, category in [
        ("NSPH", "organisation"),
        ("Sweden", "place"),
        ("Stockholm", "place"),
        ("Karolinska Institutet", "organisation"),
    ]:
        registry.add(value, category)
    detections = scan(seed_text, registry)
    assert {d.value for d in detections} >= {"NSPH", "Sweden"}
    new_text, offsets, replacements = pseudonymise(seed_text, detections, PseudonymBook())
    assert re.search(r"\bNSPH\b", seed_text) and not re.search(r"\bNSPH\b", new_text)
    assert "NSPHiG" in new_text  # a different word, left alone
    assert "[Organisation 1]" in new_text
    reps = [(r.start, r.end, r.pseudonym) for r in replacements]
    rng = random.Random(2022)
    for _ in range(300):  # codings of sentence-to-paragraph length, anywhere in the text
        start = rng.randrange(len(seed_text) - 1)
        end = min(len(seed_text), start + rng.randint(1, 1500))
        new_start, new_end = offsets.map_span(start, end)
        assert new_text[new_start:new_end] == expected_new_text(seed_text, reps, start, end)


@pytest.fixture(scope="module")
def seed_text() -> str:
    path = SHARED / "seed" / "grim-2022-managing-peer-support-workers.txt"
    if not path.exists():
        pytest.fail(f"reference study text missing: {path} (the shared/ folder beside the repo)")
    return path.read_text(encoding="utf-8")
