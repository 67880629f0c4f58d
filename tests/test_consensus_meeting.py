"""The consensus meeting through the API and over HTTP: items, resolutions, the decisions
table and its trace from codings, audit in the same transaction, roles, exports."""

from __future__ import annotations

import io

import docx
import openpyxl
import pytest
from fastapi.testclient import TestClient

from caseframe.errors import Conflict, InvalidInput
from caseframe.store.queries.audit import entries
from consensus_support import CODES, DISPUTED, answers, make_project, planned_spans


@pytest.fixture
def meeting(tmp_path):
    project, doc = make_project(tmp_path)
    for coder in ("carl", "dora"):
        for start, end, code in planned_spans(project, doc, coder):
            project.add_coding(doc, start, end, code, coder)
    yield project, doc
    project.close()


def consensus_codes(project, doc) -> dict[int, set[str]]:
    """answer number -> the consensus coder's codes there."""
    starts = {u.start: i for i, u in enumerate(answers(project, doc))}
    out: dict[int, set[str]] = {}
    for r in project.codings_frame(coders=["consensus"]).itertuples():
        out.setdefault(starts[r.start], set()).add(r.code)
    return out


def test_items_walk_the_disputed_units_with_context_and_definitions(meeting):
    project, doc = meeting
    view = project.consensus_meeting()
    assert view["coders"] == ["carl", "dora"]
    assert (view["total"], view["settled"]) == (DISPUTED, 0)
    units = answers(project, doc)
    assert [r["start"] for r in view["items"]] == [units[i].start for i in (0, 1, 2, 4)]
    assert [r["disputed"] for r in view["items"]] == [
        ["Peer support"],
        ["Funding"],
        ["Funding", "Peer support"],
        ["Staff attitudes"],
    ]
    item = view["item"]
    text = project.document(doc).text
    assert item["text"] == text[units[0].start : units[0].end]
    assert text[: units[0].start].endswith(item["before"]) and item["before"]
    assert item["disputed"][0] == {
        "code": "Peer support",
        "definition": CODES["Peer support"],
        "applied_by": ["dora"],
        "not_applied_by": ["carl"],
    }
    assert [c["code"] for c in item["agreed"]] == ["Staff attitudes"]
    # filters: by code and by document
    assert project.consensus_meeting(codes=["Funding"])["total"] == 2
    assert project.consensus_meeting(documents=["interview.txt"])["total"] == DISPUTED


def test_resolutions_write_exactly_the_decisions_and_trace_back(meeting):
    project, doc = meeting
    before = project.agreement(bootstrap=0).to_json()
    units = answers(project, doc)
    project.decide_consensus(units[0].id, "accept", coder="dora", note="peer role explicit",
                             actor="olga")  # fmt: skip
    project.decide_consensus(units[1].id, "neither", note="not about money", actor="olga")
    result = project.decide_consensus(
        units[2].id, "other", other="Staff attitudes", note="about attitudes", actor="olga"
    )
    assert result["codes"] == {"Funding": False, "Peer support": False, "Staff attitudes": True}
    assert consensus_codes(project, doc) == {
        0: {"Staff attitudes", "Peer support"},
        2: {"Staff attitudes"},
    }
    view = project.consensus_meeting()
    assert (view["total"], view["settled"]) == (DISPUTED, 3)
    assert [r["settled"] for r in view["items"]] == [True, True, True, False]
    # every consensus coding traces back to its decision and note
    for r in project.codings_frame(coders=["consensus"]).itertuples():
        trace = project.consensus_trace(r.id)
        assert trace["decided_by"] == "olga" and trace["applied"]
        assert trace["note"] in ("peer role explicit", "about attitudes")
    frame = project.consensus_decisions()
    assert len(frame) == 6  # U0: 2 codes, U1: 1, U2: 3
    assert set(frame.loc[frame["applied"] == "no", "code"]) == {"Funding", "Peer support"}
    assert "accept dora" in set(frame["decision"])
    # each decision was audited with its actor, in the transaction that made it
    with project.store.read() as conn:
        audit = [e for e in entries(conn) if e.entity_type.startswith("consensus")]
    assert len(audit) == 6 and {e.actor for e in audit} == {"olga"}
    # agreement before consensus stays what it was; the consensus coder is not counted
    after = project.agreement(bootstrap=0).to_json()
    assert after["per_code"] == before["per_code"]
    assert after["overall"]["statistics"] == before["overall"]["statistics"]
    assert after["overall"]["not_counted"] == {"consensus": "consensus"}
    assert "consensus" not in project.agreement_matrix().coders
    assert project.agreement_coders()[0]["name"] == "carl"
    roles = {c["name"]: c["role"] for c in project.agreement_coders()}
    assert roles["consensus"] == "consensus"
    # deciding a unit again replaces its decision
    project.decide_consensus(units[1].id, "accept", coder="carl", actor="olga")
    assert consensus_codes(project, doc)[1] == {"Funding"}
    assert len(project.consensus_decisions()) == 6


def test_bad_resolutions_store_nothing(meeting):
    project, doc = meeting
    units = answers(project, doc)
    with pytest.raises(InvalidInput, match="'eve' did not code unit"):
        project.decide_consensus(units[0].id, "accept", coder="eve")
    with pytest.raises(InvalidInput, match="name the other code"):
        project.decide_consensus(units[0].id, "other")
    with pytest.raises(InvalidInput, match="unknown resolution"):
        project.decide_consensus(units[0].id, "maybe")
    with pytest.raises(InvalidInput, match="'carl' is one of the coders compared"):
        project.decide_consensus(units[0].id, "both", as_coder="carl")
    project.add_coding(doc, 0, 10, "Funding", "gil")
    with pytest.raises(Conflict, match="coder of their own"):
        project.decide_consensus(units[0].id, "both", as_coder="gil", coders=["carl", "dora"])
    assert project.consensus_coders() == {}
    assert project.codings_frame(coders=["carl", "dora"]).shape[0] == 9


def test_decisions_export_xlsx_and_docx(meeting, tmp_path):
    project, doc = meeting
    units = answers(project, doc)
    project.decide_consensus(units[0].id, "both", note="=HYPERLINK(1)", actor="olga")
    xlsx = project.export_consensus_decisions(tmp_path / "d.xlsx")
    sheet = openpyxl.load_workbook(xlsx)["decisions"]
    rows = list(sheet.values)
    assert rows[0][:6] == ("document", "start", "end", "text", "code", "applied")
    assert {r[4] for r in rows[1:]} == {"Staff attitudes", "Peer support"}
    assert all(r[7] == "'=HYPERLINK(1)" for r in rows[1:])  # a note cannot run as a formula
    about = dict(openpyxl.load_workbook(xlsx)["about"].values)
    assert about["coders compared"] == "carl, dora"
    assert "Krippendorff's alpha" in about["agreement before consensus"]
    word = docx.Document(str(project.export_consensus_decisions(tmp_path / "d.docx")))
    text = "\n".join(p.text for p in word.paragraphs)
    assert "Agreement before consensus" in text and "Note: =HYPERLINK(1)" in text
    assert text.count("Peer support: applied (both)") == 1


def test_roles_choose_who_counts(meeting):
    project, doc = meeting
    project.add_coding(doc, 0, 40, "Funding", "gold")
    assert project.agreement_matrix().coders == ["carl", "dora", "gold"]
    assert project.set_coder_role("gold", "reference", actor="olga") == "independent"
    assert project.agreement_matrix().coders == ["carl", "dora"]
    report = project.agreement(bootstrap=0)
    assert report.overall["not_counted"] == {"gold": "reference"}
    assert project.agreement_matrix(coders=["gold", "carl"]).coders == ["gold", "carl"]
    summary = project.agreement_summary(bootstrap=0)
    assert "Not counted as independent coders: gold (reference)" in summary["text"]
    assert "carl and dora" in project.agreement_methods_sentence()
    with pytest.raises(Exception, match="unknown coder role 'judge'"):
        project.set_coder_role("gold", "judge")


def test_meeting_over_http_owner_only(meeting):
    from caseframe.web import create_app
    from test_web_http import login

    project, doc = meeting
    for name, role in (("olga", "owner"), ("carl", "coder")):
        project.add_user(name, f"{name}-pass-123", role)
    app = create_app(project=project)
    olga, carl = TestClient(app), TestClient(app)
    olga.headers["X-CSRF-Token"] = login(olga, "olga", "olga-pass-123")
    carl.headers["X-CSRF-Token"] = login(carl, "carl", "carl-pass-123")
    bare = TestClient(app)
    login(bare, "olga", "olga-pass-123")  # signed in, but sends no CSRF token
    for path in ("/api/consensus/decide", "/disagreements/decide"):
        r = bare.post(path, json={"unit": "1", "action": "both"})
        assert r.status_code == 403 and "CSRF" in r.json()["error"], path
    page = olga.get("/disagreements").text
    assert 'id="decide"' in page and '<span id="total">4</span>' in page
    assert CODES["Peer support"] in page
    assert 'id="decide"' not in carl.get("/disagreements").text
    unit = str(answers(project, doc)[0].id)
    body = {"unit": unit, "action": "accept", "coder": "dora", "note": "ok"}
    assert carl.post("/api/consensus/decide", json=body).status_code == 403
    r = olga.post("/api/consensus/decide", json=body)
    assert r.status_code == 200 and r.json()["codes"]["Peer support"] is True
    assert (
        project.consensus_trace(int(project.codings_frame(coders=["consensus"])["id"].iloc[0]))[
            "decided_by"
        ]
        == "olga"
    )
    data = olga.get("/api/consensus/meeting").json()
    assert (data["settled"], data["total"]) == (1, 4)
    got = olga.get("/download/consensus-decisions?fmt=xlsx")
    assert got.status_code == 200
    assert openpyxl.load_workbook(io.BytesIO(got.content))["decisions"].max_row == 3
    # the agreement page has the chooser and the units the figures cover
    page = carl.get("/agreement?coders=carl&coders=dora").text
    assert 'id="choose-coders"' in page and 'id="agreement-units"' in page


@pytest.mark.postgres
def test_meeting_and_rule_on_postgresql(pg_database, tmp_path):
    project, doc = make_project(tmp_path, db=pg_database)
    try:
        for coder in ("carl", "dora"):
            for start, end, code in planned_spans(project, doc, coder):
                project.add_coding(doc, start, end, code, coder)
        units = answers(project, doc)
        project.decide_consensus(units[0].id, "accept", coder="dora", note="n", actor="olga")
        assert consensus_codes(project, doc) == {0: {"Staff attitudes", "Peer support"}}
        assert project.consensus_meeting()["settled"] == 1
        built = project.consensus(["carl", "dora"], as_coder="agreed", rule="unanimous")
        assert built.codings == len(project.codings_frame(coders=["agreed"])) > 0
        rules = project.consensus_decisions("agreed")
        assert set(rules["decision"]) == {"rule: unanimous"}
        assert project.resolve_consensus(
            built.unresolved["unit"].iloc[0], built.unresolved["code"].iloc[0], "apply",
            "agreed", note="settled", actor="olga",
        ) == "applied"  # fmt: skip
        assert project.export_consensus_decisions(tmp_path / "d.xlsx", "agreed").is_file()
    finally:
        project.close()


def test_meeting_page_with_one_coder_explains_itself(tmp_path):
    """One independent coder: the page (with its menu and coder chooser) says why there is
    nothing to walk, instead of an error page; ticking a second coder is the way on."""
    from caseframe.web import create_app
    from test_web_http import login

    project, doc = make_project(tmp_path)
    for start, end, code in planned_spans(project, doc, "carl"):
        project.add_coding(doc, start, end, code, "carl")
    project.add_user("olga", "olga-pass-123", "owner")
    olga = TestClient(create_app(project=project))
    login(olga, "olga", "olga-pass-123")
    r = olga.get("/disagreements")
    assert r.status_code == 200
    assert 'id="meeting-none"' in r.text and "agreement needs at least two coders" in r.text
    assert 'id="meeting-coders"' in r.text and 'value="carl"' in r.text
    assert 'id="decide"' not in r.text
    project.close()
