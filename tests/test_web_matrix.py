"""The workspace's matrix over HTTP: unknown names are a 400 with the API's message (closest
matches), the CSV download cannot carry a live formula, and a cell lists its quotes."""

from __future__ import annotations

import csv
import io
from html import unescape

import pytest
from fastapi.testclient import TestClient

from caseframe.web import create_app
from test_report_hostile import FORMULA_CODE, SUMMARY, hostile  # noqa: F401 - fixture
from test_web_http import add_team, copy_example, login


@pytest.fixture(scope="module")
def viewer(example_build, tmp_path_factory):
    project = copy_example(example_build, tmp_path_factory.mktemp("matrix") / "project")
    add_team(project)
    client = TestClient(create_app(project=project))
    login(client, "vera")
    yield client, project
    project.close()


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/matrix?cols=framework&framework=sls", "unknown framework 'sls'; did you mean 'sis'"),
        ("/matrix?framework=nonsense", "unknown framework 'nonsense'"),
        ("/matrix?rows=regoin", "unknown case kind or attribute 'regoin'; did you mean 'region'"),
        ("/matrix?cols=sus", "unknown matrix columns 'sus'; did you mean 'sis'"),
        ("/matrix?cell=counts", "unknown matrix cell 'counts'; did you mean 'count'"),
        ("/api/matrix?cols=framework&framework=sls", "unknown framework 'sls'"),
        ("/download/matrix?fmt=csv&framework=sls", "unknown framework 'sls'"),
        ("/download/matrix?fmt=xlsx&framework=sls", "unknown framework 'sls'"),
    ],
)
def test_unknown_names_are_a_bad_request(viewer, path, message):
    client, _project = viewer
    r = client.get(path)
    assert r.status_code == 400, r.text
    assert message in unescape(r.text)


def test_matrix_page_headers_totals_and_cells(viewer):
    client, project = viewer
    page = client.get("/matrix?rows=region&cols=framework&framework=sis").text
    name = project.framework("sis").component("O4").name
    assert f'title="O4 {name}"' in unescape(page)
    assert '<select name="framework" id="matrix-framework">' in page  # not free text
    counts = project.matrix("region", "sis", "count")
    assert f'<td class="total">{int(counts.to_numpy().sum())}</td>' in page
    assert '<th scope="col">region</th>' in page  # the row header names the rows, not "index"
    old = client.get("/matrix?rows=region&cols=sis").text  # an old link still works
    assert '<option value="framework" selected>' in old


def test_a_cell_lists_its_quotes(viewer):
    client, project = viewer
    quotes = project.matrix("region", "categories", "quotes")
    column = quotes.columns[0]
    r = client.get("/matrix/cell", params={"row": "A", "column": column, "rows": "region"})
    assert r.status_code == 200
    for line in quotes.at["A", column].split("\n"):
        assert f"<blockquote>{line}</blockquote>" in unescape(r.text)
    r = client.get("/matrix/cell", params={"row": "Z", "column": column, "rows": "region"})
    assert r.status_code == 400 and "no cell 'Z'" in unescape(r.text)


def test_matrix_csv_download_has_no_live_formula(hostile):  # noqa: F811
    add_team(hostile)
    client = TestClient(create_app(project=hostile))
    login(client, "vera")
    r = client.get("/download/matrix?fmt=csv&rows=respondent&cols=categories&cell=summary")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][0] == "respondent" and "'" + FORMULA_CODE in rows[0]
    cells = [c for row in rows for c in row]
    assert "'" + SUMMARY in cells
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
