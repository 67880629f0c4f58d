"""Zero-shot suggestions from definitions, examples and keywords (real SIS framework file)."""

import numpy as np
import pytest

from caseframe.errors import InvalidInput, NotFound
from caseframe.frameworks.loader import builtin_framework
from caseframe.suggest import get_method
from caseframe.suggest.base import CodeSpec, available_methods

CODEBOOK = [
    CodeSpec("waiting", "Comments about waiting times, delays and how long things took."),
    CodeSpec("parking", "Comments about car parking: spaces, cost of parking, the car park."),
    CodeSpec("food", "Comments about meals, food and drink served on the ward."),
]


def test_matching_definition_ranks_first():
    method = get_method("definitions").fit([], None, CODEBOOK)
    P = method.predict_proba(
        [
            "The car park had no spaces and parking cost too much",
            "We waited four hours, long delays",
        ]
    )
    assert P[0].argmax() == 1
    assert P[1].argmax() == 0
    assert method.predict(["The meals and drink were cold"]).tolist() == [[0, 0, 1]]


def test_sis_framework_components_work_as_codebook():
    components = builtin_framework("sis").components
    method = get_method("definitions").fit([], None, components)
    keys = [c.key for c in components]
    P = method.predict_proba(
        [
            "We had no long-term funding; the budget ran out when the grant ended.",
            "Handledning varannan vecka av en erfaren handledare har varit avgörande.",
        ]
    )
    assert keys[P[0].argmax()] == "O10"  # Financial strategy
    assert keys[P[1].argmax()] == "C2"  # Supervision (Swedish keyword "handledning")


def test_keywords_give_a_fixed_score():
    book = [CodeSpec("a", "something", keywords=("peer supervision",)), CodeSpec("b", "other")]
    method = get_method("definitions", keyword_score=0.7).fit([], None, book)
    assert method.predict_proba(["Peer supervision, monthly."])[0, 0] >= 0.7


def test_no_definitions_is_a_clear_error_naming_the_codes():
    with pytest.raises(InvalidInput) as err:
        get_method("definitions").fit([], None, [CodeSpec("alpha"), CodeSpec("beta")])
    assert "alpha, beta" in err.value.line()
    assert "add definitions" in err.value.line()


def test_registry():
    assert {"definitions", "supervised", "embeddings", "llm", "baseline"} <= set(
        available_methods()
    )
    with pytest.raises(NotFound, match="choose one of"):
        get_method("magic")
    with pytest.raises(InvalidInput, match="bad option"):
        get_method("definitions", nonsense=1)


def test_shapes_and_range():
    method = get_method("definitions").fit([], None, CODEBOOK)
    P = method.predict_proba(["x", "parking"])
    assert P.shape == (2, 3)
    assert np.all((P >= 0) & (P <= 1))
    assert method.thresholds_.shape == (3,)


def test_keywords_are_graded_evidence_and_acronyms_match_in_capitals():
    from caseframe.suggest import get_method
    from caseframe.suggest.base import CodeSpec

    book = [
        CodeSpec("admin", "Practical back-up.", keywords=("IT", "office")),
        CodeSpec("money", "Paying for the model.", keywords=("budget", "funding")),
    ]
    m = get_method("definitions").fit([], None, book)
    P = m.predict_proba(
        [
            "It feels like a reinforcement.",  # the pronoun, not the IT department
            "Our IT support sorted the laptops.",
            "The budget is tight.",
            "The budget and the funding both ended.",
        ]
    )
    assert P[0, 0] < 0.3 and P[1, 0] >= 0.6
    # one keyword: 1 - (1 - similarity) × 0.4; a second one adds more evidence
    assert 0.6 <= P[2, 1] < P[3, 1] < 1
    assert len({round(p, 4) for p in P[:, 1]}) > 1  # scores differ by unit
    spans = m.explain(["Our IT support sorted the laptops."], [(0, 0)])[0]
    assert spans[0][2] == "IT"
