"""What keeps the analysis pages fast on a large project without changing what they show:
quote pages and matrix cells read as a page of an exact total, one matrix cell read alone,
agreement point estimates first with intervals on demand, and results kept only while the
project's change stamp is the one they were computed for. Run on the example study."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from caseframe.analysis.agreement import per_code_agreement
from caseframe.analysis.agreement_matrix import CodingMatrix, UnitInfo
from caseframe.example_study import CODER as CONSENSUS
from caseframe.store.queries import codings as coding_queries
from caseframe.store.queries.changes import change_stamp
from caseframe.web import create_app
from test_web_http import add_team, login


@pytest.fixture
def client(example_copy):
    add_team(example_copy)
    client = TestClient(create_app(project=example_copy))
    login(client, "vera")
    return client


def test_quote_pages_add_up_to_every_quote(example_copy):
    code = int(example_copy.codes_frame().sort_values("codings").iloc[-1]["id"])
    every = example_copy.quotes(code)
    assert len(every) > 7
    pages, offset = [], 0
    while True:
        page = example_copy.quote_page(code, offset=offset, limit=7)
        assert page["total"] == len(every)
        if not page["quotes"]:
            break
        pages += page["quotes"]
        offset += 7
    assert pages == every
    by_valence = example_copy.quote_page(code, valence="barrier", limit=1000)
    assert by_valence["quotes"] == example_copy.quotes(code, valence="barrier")


def test_quotes_page_counts_all_and_links_the_next(client, example_copy, monkeypatch):
    from caseframe.web.routes import analysis

    monkeypatch.setattr(analysis, "QUOTES_PAGE", 3)
    code = int(example_copy.codes_frame().sort_values("codings").iloc[-1]["id"])
    total = len(example_copy.quotes(code))
    page = unescape(client.get(f"/quotes?code={code}").text)
    assert f"{total} quotes; showing 1–3." in page
    assert page.count("<blockquote>") == 3
    more = re.search(r'<a href="([^"]*)" id="quotes-more"', page)[1]
    second = unescape(client.get(more).text)
    assert "showing 4–6" in second and 'rel="prev"' in second


@pytest.mark.parametrize(
    ("rows", "cols", "framework"),
    [("region", "framework", "sis"), ("respondent", "categories", None), ("site", "codes", None)],
)
def test_a_cell_read_alone_is_the_cell_of_the_whole_matrix(example_copy, rows, cols, framework):
    whole = example_copy.matrix(rows, cols, "quotes", framework)
    for row in whole.index:
        for column in whole.columns:
            lines = [line for line in str(whole.at[row, column] or "").split("\n") if line]
            assert example_copy.matrix_cell(row, column, rows, cols, framework) == lines


def test_cell_page_shows_a_page_of_the_exact_total(client, example_copy, monkeypatch):
    from caseframe.web.routes import analysis

    monkeypatch.setattr(analysis, "CELL_PAGE", 2)
    whole = example_copy.matrix("region", "categories", "quotes")
    row, column = max(
        ((r, c) for r in whole.index for c in whole.columns),
        key=lambda rc: len(str(whole.at[rc[0], rc[1]]).split("\n")),
    )
    lines = str(whole.at[row, column]).split("\n")
    assert len(lines) > 2
    params = {"row": row, "column": column, "rows": "region", "offset": 2}
    page = unescape(client.get("/matrix/cell", params=params).text)
    assert f"{len(lines)} passage(s); showing 3–{min(4, len(lines))}" in page
    for line in lines[2:4]:
        assert f"<blockquote>{line}</blockquote>" in page


def test_kept_results_follow_every_change(example_copy):
    project = example_copy
    code = int(project.codes_frame().sort_values("codings").iloc[-1]["id"])
    before = project.matrix("region", "categories", "count")
    quotes = project.quote_page(code)["total"]
    with project.store.read() as conn:
        stamp = change_stamp(conn)
    # a change through the API is audited: the stamp moves and nothing old is used
    doc = project.documents_frame().iloc[0]
    row = project.codings_frame(documents=[int(doc["id"])]).iloc[0]
    made = project.add_coding(int(doc["id"]), 0, 40, code, "newcoder")
    with project.store.read() as conn:
        assert change_stamp(conn) != stamp
    assert project.quote_page(code)["total"] == quotes + 1
    # a write that bypasses the API (a bulk load) moves it too
    project.delete_coding(made.id)
    assert project.quote_page(code)["total"] == quotes
    with project.store.transaction() as conn:
        coding_queries.add(conn, int(doc["id"]), 0, 40, int(row["code_id"]), "bulk")
    after = project.matrix("region", "categories", "count")
    assert int(after.to_numpy().sum()) == int(before.to_numpy().sum()) + 1
    # what a caller gets is a copy: changing it does not change the kept result
    after.iloc[0, 0] = -1
    assert project.matrix("region", "categories", "count").iloc[0, 0] != -1


def test_agreement_page_gives_point_estimates_then_intervals(client, example_copy):
    pair = [CONSENSUS, "newcoder"]
    rows = example_copy.codings_frame().head(30).to_dict(orient="records")
    for r in rows[::2]:
        example_copy.add_coding(
            int(r["document_id"]), int(r["start"]), int(r["end"]), int(r["code_id"]), "newcoder"
        )
    first = client.get("/agreement", params={"coders": pair}).text
    assert 'id="agreement-ci"' in first and "(interval not computed)" in first
    point = example_copy.agreement_summary(bootstrap=0, coders=pair)
    assert point["text"] in unescape(first)
    asked = client.get("/agreement", params={"coders": pair, "ci": 1}).text
    full = example_copy.agreement_summary(bootstrap=200, coders=pair)
    assert full["krippendorff_alpha_ci"] is not None
    assert full["text"] in unescape(asked) and 'id="agreement-intervals"' in asked
    # kept: the plain page now shows the intervals too, until the project changes
    again = client.get("/agreement", params={"coders": pair}).text
    assert full["text"] in unescape(again)
    example_copy.add_coding(
        int(rows[1]["document_id"]), int(rows[1]["start"]), int(rows[1]["end"]),
        int(rows[1]["code_id"]), "newcoder",
    )  # fmt: skip
    assert 'id="agreement-ci"' in client.get("/agreement", params={"coders": pair}).text


def test_sparse_agreement_engine_matches_a_reference():
    """Per code, on a random matrix with missing units (two and three coders): the sparse
    engine's alpha against the krippendorff package, its percent agreement against a count
    over the dense units × coders × codes array, and the bootstrap interval around alpha."""
    import krippendorff
    import numpy as np

    rng = np.random.default_rng(7)
    for n_coders in (2, 3):
        units, codes = 400, 6
        seen = rng.random((units, n_coders)) < 0.8
        applied = (rng.random((units, n_coders, codes)) < 0.15) & seen[:, :, None]
        matrix = CodingMatrix(
            [UnitInfo(str(i)) for i in range(units)],
            [f"k{i}" for i in range(n_coders)],
            [f"c{j}" for j in range(codes)],
            applied,
            seen,
        )
        report = per_code_agreement(matrix, bootstrap=50)
        keep = seen.sum(axis=1) >= 2
        for j, row in enumerate(report.per_code):
            assert row.code == f"c{j}"
            m = seen[keep].sum(axis=1).astype(float)
            r = applied[keep][:, :, j].sum(axis=1).astype(float)
            agree = (r * (r - 1) + (m - r) * (m - r - 1)) / (m * (m - 1))
            assert row.values["percent_agreement"] == pytest.approx(agree.mean())
            data = np.where(seen, applied[:, :, j], np.nan).T.astype(float)  # coders × units
            alpha = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
            assert row.values["krippendorff_alpha"] == pytest.approx(alpha)
            lo, hi = row.ci["krippendorff_alpha"]
            assert lo <= alpha <= hi
