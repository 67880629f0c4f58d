"""scan(): detectors combined, overlaps resolved, names propagated, optional NER, real data."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from caseframe.errors import InvalidInput
from caseframe.privacy.detect import scan
from caseframe.privacy.hit import Hit
from caseframe.privacy.ner import load_ner, ner_from_pipeline
from caseframe.privacy.registry import Registry

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_file(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.fail(f"real data missing: {path} (the shared/ folder beside the repo)")
    return path


def test_all_detectors_combined_in_text_order():
    registry = Registry()
    registry.add("Karlstad", "place")
    text = "Hi, Maria. Ring 070-123 45 67 eller se www.karlstad.se; kontoret i Karlstad."
    found = [(d.text, d.category, d.source) for d in scan(text, registry)]
    assert found == [
        ("Maria", "person", "pattern:introduced_name"),
        ("070-123 45 67", "phone", "pattern:phone"),
        ("www.karlstad.se", "url", "pattern:url"),  # longer than the registry's "karlstad"
        ("Karlstad", "place", "registry"),
    ]
    assert scan(text, registry, patterns=False)[0].source == "registry"
    assert [d.category for d in scan(text, None, patterns=["phone"])] == ["phone"]


def test_context_marks_the_detection():
    text = "x" * 100 + " ring 070-123 45 67 nu\nsen " + "y" * 100
    (d,) = scan(text)
    assert d.context == "…" + "x" * 34 + " ring <<070-123 45 67>> nu sen " + "y" * 32 + "…"


def test_names_found_once_are_found_again_capitalised_only():
    text = "Hi, Mark. Later Mark's brother came. Please mark the form. MARK?"
    found = [(d.text, d.source) for d in scan(text)]
    assert found == [
        ("Mark", "pattern:introduced_name"),
        ("Mark", "propagated:pattern:introduced_name"),
        ("MARK", "propagated:pattern:introduced_name"),
    ]
    assert len(scan(text, propagate=False)) == 1


def test_equal_length_overlap_prefers_registry_then_patterns_then_ner():
    registry = Registry()
    registry.add("Maria", "respondent", "Manager A1")

    def fake_ner(text: str) -> list[Hit]:
        i = text.index("Maria")
        return [Hit(i, i + 5, "person", "ner:PER", None, "Maria")]

    (d,) = scan("Hi, Maria.", registry, ner=fake_ner)
    assert (d.source, d.pseudonym_hint) == ("registry", "Manager A1")
    (d,) = scan("Hi, Maria.", None, ner=fake_ner, propagate=False)
    assert d.source == "pattern:introduced_name"


def test_ner_without_spacy_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "spacy", None)  # as if spaCy were not installed
    with pytest.raises(InvalidInput, match="needs spaCy, which is not installed"):
        load_ner("sv_core_news_sm")


def test_ner_with_a_saved_spacy_pipeline(tmp_path):
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("sv")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "PER", "pattern": "Maria Svensson"},
            {"label": "LOC", "pattern": "Arvika"},
            {"label": "ORG", "pattern": "Region Värmland"},
            {"label": "MISC", "pattern": "Covid"},
        ]
    )
    nlp.to_disk(tmp_path / "pipeline")
    ner = load_ner(tmp_path / "pipeline")
    text = "Maria Svensson på Region Värmland flyttade till Arvika under Covid."
    assert [(d.text, d.category, d.source) for d in scan(text, ner=ner)] == [
        ("Maria Svensson", "person", "ner:PER"),
        ("Region Värmland", "organisation", "ner:ORG"),
        ("Arvika", "place", "ner:LOC"),
    ]
    with pytest.raises(InvalidInput, match="does not download"):
        load_ner("xx_no_such_pipeline_installed")
    with pytest.raises(InvalidInput, match="folder .* does not exist"):
        load_ner(tmp_path / "missing")
    with pytest.raises(InvalidInput, match="no entity recogniser"):
        ner_from_pipeline(spacy.blank("en"))


def test_nhs_comments_patterns_find_exactly_the_read_identifiers():
    """Every pattern detection in the 5,096 NHS comments, checked by reading: the only
    identifiers with a shape are a crew and an incident number in one comment."""
    df = pd.read_csv(
        shared_file("data", "nhs-patient-experience", "neas_comments.csv"),
        dtype=str,
        keep_default_na=False,
    )
    found = [
        (cid, d.category, d.text)
        for cid, text in zip(df["Comment ID"], df["FFT answer"], strict=True)
        for d in scan(text)
    ]
    assert found == [
        ("NEAS S&C 3618 - Q2", "reference_number", "2570"),
        ("NEAS S&C 3618 - Q2", "reference_number", "25153582"),
    ]


def test_annomi_transcript_names():
    """One AnnoMI transcript (pharmacist and client): the names in it, found by reading, are
    Kaylie (client), Lori (pharmacist) and Dr. Ferris; each mention is detected."""
    df = pd.read_csv(
        shared_file("data", "annomi", "AnnoMI-full.csv"), dtype=str, keep_default_na=False
    )
    rows = df[df["transcript_id"] == "126"].drop_duplicates("utterance_id")
    text = "\n".join(
        rows.sort_values("utterance_id", key=lambda s: s.astype(int))["utterance_text"]
    )
    detections = scan(text)
    assert {d.text for d in detections} == {"Kaylie", "Lori", "Ferris"}
    for name in ("Kaylie", "Lori", "Ferris"):
        assert text.count(name) == sum(d.text == name for d in detections)
