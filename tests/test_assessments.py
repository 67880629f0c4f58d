"""Assessments: recording, validation (one clear error, nothing stored), CSV import, evidence,
two raters with agreement and consensus, suggestions kept beside the rater's choice, anchors."""

from __future__ import annotations

from datetime import date

import pytest

from caseframe.errors import Conflict, InvalidInput, NotFound

TEXT = (
    "Interviewer: How is the work funded?\n"
    "M1: The money stops when the project ends, nobody has a plan for after.\n"
    "M1: We get supervision every month from the user organisation.\n"
)


@pytest.fixture
def study(project, tmp_path):
    project.add_case("R", "Region R", kind="region")
    project.add_case("S1", "Service 1", kind="site", parent="R", attributes={"setting": "x"})
    project.add_case("S2", "Service 2", kind="site", parent="R", attributes={"setting": "y"})
    project.add_case("M1", "Manager 1", kind="respondent", parent="S1")
    doc = tmp_path / "M1.txt"
    doc.write_text(TEXT, encoding="utf-8")
    project.import_documents([doc], case="M1")
    project.add_code("Funding", kind="category", maps_to=["sis:O10"])
    project.add_code("Support", kind="category", maps_to=["sis:C2"])
    project.add_code("Supervision talk", parent="Support", kind="code")
    money = TEXT.index("The money")
    sup = TEXT.index("We get")
    c1 = project.add_coding("M1.txt", money, money + 40, "Funding", "KG", valence="barrier")
    c2 = project.add_coding(
        "M1.txt", sup, sup + 30, "Supervision talk", "KG", valence="facilitator"
    )
    project.test_codings = (c1.id, c2.id)
    return project


def count(project) -> int:
    return len(project.assessments_frame(include_suggested=True))


def test_assess_records_ratings_with_note_and_evidence(study):
    c1, _ = study.test_codings
    saved = study.assess(
        "S1",
        {"O10": 0, "C2": "3"},
        rater="KG",
        at="2020-05-01",
        note="from the interview",
        evidence={"O10": [c1]},
    )
    assert [(a.component, a.rating, a.evidence) for a in saved] == [
        ("O10", 0, (c1,)),
        ("C2", 3, ()),
    ]
    assert saved[0].assessed_on == date(2020, 5, 1) and saved[0].note == "from the interview"
    frame = study.assessments_frame("S1")
    assert list(frame["rating"]) == [0, 3]  # framework order: O10 before C2
    profile = study.site_profile("S1")
    assert profile.total == 3 and profile.levels[0].score == 0 and profile.levels[2].score == 3


@pytest.mark.parametrize(
    ("ratings", "at", "error", "message"),
    [
        ({"O1": 4}, "2020-01-01", InvalidInput, "outside the scale 0–3"),
        ({"O1": -1}, "2020-01-01", InvalidInput, "outside the scale"),
        ({"O1": "2.5"}, "2020-01-01", InvalidInput, "not a whole number"),
        ({"O1": 1, "Z9": 1}, "2020-01-01", NotFound, "unknown component 'Z9'"),
        ({"O1": 1}, "01/06/2017", InvalidInput, "not a date in the format YYYY-MM-DD"),
        ({"O1": 1}, "2017-13-01", InvalidInput, "YYYY-MM-DD"),
    ],
)
def test_bad_ratings_are_refused_and_nothing_is_stored(study, ratings, at, error, message):
    with pytest.raises(error, match=message) as info:
        study.assess("S1", ratings, rater="KG", at=at)
    assert "\n" not in info.value.line()
    assert count(study) == 0


def test_unknown_site_and_foreign_evidence(study):
    with pytest.raises(NotFound, match="unknown case 'S9'"):
        study.assess("S9", {"O1": 1}, rater="KG", at="2020-01-01")
    c1, _ = study.test_codings
    with pytest.raises(InvalidInput, match=f"coding {c1} is not from a document of site 'S2'"):
        study.assess("S2", {"O10": 1}, rater="KG", at="2020-01-01", evidence=[c1])
    with pytest.raises(NotFound, match="unknown coding 999"):
        study.assess("S1", {"O10": 1}, rater="KG", at="2020-01-01", evidence=[999])
    assert count(study) == 0


def test_same_rating_twice_needs_replace(study):
    study.assess("S1", {"O1": 1}, rater="KG", at="2020-01-01")
    with pytest.raises(Conflict, match="already rated O1"):
        study.assess("S1", {"O1": 2}, rater="KG", at="2020-01-01")
    study.assess("S1", {"O1": 2}, rater="KG", at="2020-01-01", replace=True)
    assert list(study.assessments_frame()["rating"]) == [2]


def test_configured_anchors_and_scale(study):
    fw = study.set_scale_anchors("sis", {0: "missing", 1: "begun", 2: "mostly", 3: "complete"})
    assert fw.scale.anchors[1] == "begun"
    assert study.rating_framework("sis").scale.anchors[3] == "complete"
    with pytest.raises(InvalidInput, match="outside the scale") as info:
        study.assess("S1", {"O1": 7}, rater="KG", at="2020-01-01")
    assert "0 missing; 1 begun" in info.value.line()
    with pytest.raises(InvalidInput, match="anchor 5 is outside the scale"):
        study.set_scale_anchors("sis", {5: "too high"})
    assert study.set_scale_anchors("sis", {}).scale.anchors[0] == "absent"
    # another framework brings its own scale (CFIR: -2 to +2)
    study.assess("S1", {"IS-A": -2}, rater="KG", framework="cfir2", at="2020-01-01")
    with pytest.raises(InvalidInput, match="outside the scale -2–2"):
        study.assess("S1", {"IS-B": 3}, rater="KG", framework="cfir2", at="2020-01-01")


# --------------------------------------------------------------------------- CSV import


def write(tmp_path, text, name="r.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


HEADER = "site,framework,component,rating,rater,assessed_on,note\n"


def test_import_csv(study, tmp_path):
    path = write(
        tmp_path,
        HEADER + "S1,sis,O1,2,KG,2020-01-01,a\nS2,sis,O1,1,KG,2020-01-01,\n"
        "S1,,C2,3,KG,2020-01-01,b\n",
    )
    assert study.import_assessments(path) == 3
    totals = {p.site: p.total for p in study.site_profiles().profiles}
    assert totals == {"S1": 5.0, "S2": 1.0}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "site,component,rating,rater\nS1,O1,2,KG\n",
            "r.csv:1: missing required column(s): assessed_on",
        ),
        (
            "site,component,rating,assessed_on\nS1,O1,2,2020-01-01\n",
            "missing required column(s): rater",
        ),
        (
            HEADER + "S1,sis,O1,2,KG,2020-01-01,\nS1,sis,O2,4,KG,2020-01-01,\n",
            "r.csv:3: rating '4' for O2 is outside the scale 0–3; nothing was stored",
        ),
        (
            HEADER + "S1,sis,O1,2,KG,2020-01-01,\nS7,sis,O2,1,KG,2020-01-01,\n",
            "r.csv:3: unknown case 'S7'",
        ),
        (HEADER + "S1,sis,Q1,2,KG,2020-01-01,\n", "unknown component 'Q1' in framework 'sis'"),
        (HEADER + "S1,sis,O1,2,KG,1 June 2020,\n", "'1 June 2020' is not a date"),
        (
            HEADER + "S1,sis,O1,2,KG,2020-01-01,\nS1,sis,O1,3,KG,2020-01-01,\n",
            "r.csv:3: the same rating appears twice (first on line 2)",
        ),
    ],
)
def test_import_csv_errors_store_nothing(study, tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises((InvalidInput, NotFound, Conflict)) as info:
        study.import_assessments(path)
    assert message in info.value.line()
    assert count(study) == 0


# --------------------------------------------------------------------------- two raters


def test_two_raters_agreement_and_consensus(study):
    day = "2020-03-01"
    a = {"O1": 0, "O2": 1, "O3": 2, "O4": 3, "C2": 2}
    b = {"O1": 0, "O2": 2, "O3": 2, "O4": 3, "C2": 0}
    study.assess("S1", a, rater="Anna", at=day)
    study.assess("S1", b, rater="Ben", at=day)
    result = study.assessment_agreement()
    assert result.raters == ("Anna", "Ben") and result.units == 5
    assert result.exact.value == pytest.approx(3 / 5)
    assert result.within_one == pytest.approx(4 / 5)
    from sklearn.metrics import cohen_kappa_score

    ra, rb = list(a.values()), list(b.values())
    assert result.weighted_kappa.value == pytest.approx(
        cohen_kappa_score(ra, rb, labels=[0, 1, 2, 3], weights="quadratic")
    )
    assert set(result.disagreements["component"]) == {"O2", "C2"}

    # profile without consensus: the mean, flagged as disputed
    p = study.site_profile("S1")
    c2 = next(c for c in p.components if c.component == "C2")
    assert c2.rating == 1.0 and c2.disputed
    assert any("no consensus" in r for r in p.risks)

    with pytest.raises(InvalidInput, match=r"differ on O2 \(Anna 1; Ben 2\), C2"):
        study.assessment_consensus("S1", day)
    saved = study.assessment_consensus("S1", day, decisions={"O2": 2, "C2": 1})
    assert {s.component: s.rating for s in saved} == {"O1": 0, "O2": 2, "O3": 2, "O4": 3, "C2": 1}
    p = study.site_profile("S1")
    assert p.total == 8 and not any(c.disputed for c in p.components)
    assert p.raters == ["consensus"]


def test_agreement_needs_two_raters_on_the_same_date(study):
    study.assess("S1", {"O1": 1}, rater="Anna", at="2020-01-01")
    with pytest.raises(InvalidInput, match="needs two raters; there are 1"):
        study.assessment_agreement()
    study.assess("S1", {"O1": 1}, rater="Ben", at="2020-01-02")
    with pytest.raises(InvalidInput, match="same date"):
        study.assessment_agreement()


# --------------------------------------------------------------------------- suggestions


def test_suggestions_from_mapped_codes_and_accepting_them(study):
    c1, c2 = study.test_codings
    s = {x.component: x for x in study.suggest_ratings("S1")}
    assert s["O10"].rating == 0 and s["O10"].evidence_ids == [c1]
    # the coding is on a code *below* the mapped category
    assert s["C2"].rating == 2 and s["C2"].evidence_ids == [c2]  # one voice: capped at 2
    assert s["O1"].rating is None
    assert study.suggest_ratings("S2")[9].evidence == []  # S2 has no documents
    assert count(study) == 0  # suggesting stores nothing

    saved = study.assess(
        "S1",
        {"O10": 0, "C2": 3},
        rater="KG",
        at="2020-06-01",
        evidence={"O10": [c1], "C2": [c2]},
        suggested={"O10": 0, "C2": 2},
    )
    assert [a.rating for a in saved] == [0, 3]
    kept = study.assessments_frame(status="suggested")
    assert list(kept["rating"]) == [0, 2]
    assert "KG changed to 3" in kept["note"].iloc[1] and "accepted" in kept["note"].iloc[0]
    # suggestions never count in a profile
    assert study.site_profile("S1").total == 3


def test_every_write_is_audited_in_the_same_transaction(study, tmp_path):
    c1, _ = study.test_codings
    saved = study.assess("S1", {"O10": 1}, rater="KG", at="2019-01-01", evidence=[c1], actor="kim")
    study.assess("S1", {"O10": 2}, rater="KG", at="2019-01-01", replace=True)
    entries = study.audit_entries(entity_type="assessment")
    assert [(e.action, e.actor) for e in entries] == [("update", study.actor), ("add", "kim")]
    assert entries[0].entity_id == str(saved[0].id)
    assert entries[0].before["rating"] == 1 and entries[0].after["rating"] == 2
    assert entries[1].after["evidence"] == [c1] and entries[1].after["site"] == "S1"
    # one bad row: no rating and no audit entry is left behind
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "site,component,rating,assessed_on,rater\nS2,O10,1,2019-02-01,KG\nS2,O10,9,2019-02-01,AB\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput, match="outside the scale"):
        study.import_assessments(bad, actor="kim")
    assert len(study.audit_entries(entity_type="assessment")) == 2
    assert set(study.assessments_frame()["site"]) == {"S1"}
    study.set_scale_anchors("sis", {0: "none", 3: "all"}, actor="ann")
    study.assessment_consensus("S1", "2019-01-01", actor="ann")
    study.delete_assessments("S1", "2019-01-01", rater="consensus", actor="ann")
    last = study.audit_entries(actor="ann")
    assert [(e.action, e.entity_type) for e in last] == [
        ("delete", "assessment"),
        ("add", "assessment"),
        ("update", "setting"),
    ]
    assert last[0].before["ratings"] == 1 and last[2].after == {"0": "none", "3": "all"}
