"""The units a method reads: speaker labels blanked, headings, interviewer turns and very short
units skipped (each with its reason); imported units kept; a Swedish "Chef:" label no longer
makes every manager turn a Leaders-engagement suggestion."""

from __future__ import annotations

from caseframe.api import Project
from caseframe.suggest.units import (
    UnitRules,
    blank_labels,
    describe_skipped,
    is_heading,
    is_interviewer,
    label_pattern,
    select_units,
    silent_speakers,
)


def test_labels_are_blanked_keeping_offsets():
    pattern = label_pattern(["Chef", "[Manager A3]", "Interviewer"])
    for text, said in [
        ("Chef: Vi saknar pengar.", "Vi saknar pengar."),
        ("[Manager A3]: We had no budget.", "We had no budget."),
        ("12 **Interviewer**: And then?", "And then?"),
        ("[00:01:02] Chef: Ja, precis så.", "Ja, precis så."),
    ]:
        blanked = blank_labels(text, pattern)
        assert len(blanked) == len(text) and blanked.strip() == said
    # a colon later in a line is not a label; a name not among the speakers is left alone
    assert blank_labels("We said: Chef: no", pattern) == "We said: Chef: no"
    assert blank_labels("Anna: hej", pattern) == "Anna: hej"


def test_headings_and_interviewers_are_recognised():
    assert is_heading("Published quotes of Manager B10 (Grim et al. 2022, CC BY 4.0)")
    assert is_heading("## Background")
    assert not is_heading("We had no money for the second year.")
    assert not is_heading("Did it help?")
    assert not is_heading("A first line\nand a second one")
    for name in ("Interviewer", "I", "Q", "intervjuare", "**Intervjuaren**", "Interviewer 2"):
        assert is_interviewer(name), name
    for name in ("Chef", "R", "Manager A3", "IP", "Respondent"):
        assert not is_interviewer(name), name


def test_select_units_says_why_each_unit_was_skipped():
    texts = [
        "Intervju med chef, region A",  # heading (no speaker, one line, no full stop)
        "Intervjuare: Hur finansieras tjänsten?",
        "Chef: Ja.",
        "Chef: Vi har ingen långsiktig finansiering, bara projektmedel till nästa år.",
        "",
        "nothing",  # an imported unit: a person cut it, so it is read
    ]
    speakers = [None, "Intervjuare", "Chef", "Chef", "Chef", None]
    schemes = ["turn"] * 5 + ["imported"]
    picked = select_units(texts, speakers, schemes)
    assert picked.keep == [3, 5]
    assert picked.reasons == {0: "heading", 1: "interviewer", 2: "short"}
    assert picked.skipped == {"heading": 1, "interviewer": 1, "short": 1}
    assert picked.texts[3].strip().startswith("Vi har ingen")
    assert describe_skipped(picked.skipped, UnitRules()) == (
        "1 heading, 1 interviewer turn, 1 unit under 3 words"
    )
    # every rule can be turned off
    loose = select_units(texts, speakers, schemes, UnitRules(False, False, 0))
    assert loose.keep == [0, 1, 2, 3, 5] and loose.skipped == {}


def test_speakers_nobody_codes_are_treated_as_asking():
    speakers = ["Moderatorn", "Anna"] * 12 + ["Bo"] * 3
    coded = [False, True] * 12 + [False] * 3
    assert silent_speakers(speakers, coded) == {"moderatorn"}  # Bo: too few turns to tell
    assert silent_speakers(speakers, [False] * len(speakers)) == set()  # nothing coded at all


SWEDISH = (
    "Intervjuare: Hur ser finansieringen ut?\n"
    "Chef: Vi har ingen långsiktig finansiering, bara projektmedel som tar slut nästa år.\n"
    "Intervjuare: Och utbildningen?\n"
    "Chef: Alla fick en grundutbildning och en kurs om återhämtning innan de började.\n"
    "Intervjuare: Hur går samarbetet med brukarorganisationen?\n"
    "Chef: Samarbetet fungerar, vi träffas varje månad och planerar tillsammans.\n"
)


def test_the_label_chef_is_not_read_as_leadership(tmp_path):
    """Every manager turn starts with "Chef:" (Swedish for manager, an SIS keyword of Leaders
    engagement); only what the manager said may count."""
    path = tmp_path / "intervju.txt"
    path.write_text(SWEDISH, encoding="utf-8")
    project = Project.init(tmp_path / "p")
    try:
        project.import_documents([path])
        project.add_framework_codes("sis")
        run = project.suggest(framework="sis")
        assert run.skipped == {"interviewer": 3} and run.units == 3
        got = project.suggestions_frame()
        assert "Leaders engagement" not in set(got["code"])
        by_start = got.groupby("start")["code"].apply(set)
        turns = [SWEDISH.index(line) for line in SWEDISH.splitlines() if line.startswith("Chef")]
        assert "Financial strategy" in by_start[turns[0]]
        assert "Training" in by_start[turns[1]]
        # asked to, the interviewer's turns are read too (their labels still blanked)
        old = project.suggest(
            framework="sis", skip_interviewer=False, min_words=0, documents=["intervju.txt"]
        )
        assert old.units == 6 and old.skipped == {}
        assert "Leaders engagement" not in set(project.suggestions_frame()["code"])
    finally:
        project.close()
