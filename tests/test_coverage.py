"""Framework coverage of the example study, against counts made from its CSV files."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from caseframe.errors import NotFound
from caseframe.example_study import example_data_dir
from test_quotes import paper_quotes


def _csv(name: str) -> list[dict]:
    with (Path(example_data_dir()) / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_coverage_matches_the_example_data(example):
    sis = {r["code"]: [s for s in r["sis"].split(";") if s] for r in _csv("codes.csv")}
    parent = {r["id"]: r["parent"] for r in _csv("cases.csv")}
    kind = {r["id"]: r["kind"] for r in _csv("cases.csv")}
    people, sites = defaultdict(set), defaultdict(set)
    valence, codings = defaultdict(lambda: defaultdict(int)), defaultdict(int)
    heat = defaultdict(int)
    for row in paper_quotes():
        for comp in sis[row["category"]]:
            for key in row["keys"]:
                people[comp].add(key)
                codings[comp] += 1
                valence[comp][row["valence"]] += 1
                if kind[parent[key]] == "site":
                    sites[comp].add(parent[key])
                    heat[(parent[key], comp)] += 1
    cov = example.coverage()
    table = cov.components.set_index("component")
    assert len(table) == 24
    assert list(table.index[:3]) == ["O1", "O2", "O3"]
    assert table.loc["O1", "level"] == "Organisational level"
    for comp in table.index:
        assert table.loc[comp, "respondents"] == len(people[comp])
        assert table.loc[comp, "sites"] == len(sites[comp])
        assert table.loc[comp, "codings"] == codings[comp]
        for v in ("facilitator", "barrier", "mixed"):
            assert table.loc[comp, v] == valence[comp][v]
    mapped = {c for comps in sis.values() for c in comps}
    assert cov.never_evidenced == [c for c in table.index if c not in mapped]
    assert "O11" in cov.never_evidenced and "O1" not in cov.never_evidenced
    assert cov.heatmap.shape == (16, 24)
    assert list(cov.heatmap.index[:2]) == ["A-S1", "A-S2"]
    for (site, comp), n in heat.items():
        assert cov.heatmap.loc[site, comp] == n
    assert int(cov.heatmap.to_numpy().sum()) == sum(heat.values())
    assert cov.to_dict()["never_evidenced"] == cov.never_evidenced


def test_deductive_codes_count_for_their_component(project):
    project.add_framework_codes("sis")
    project.add_case("S1", kind="site")
    project.add_case("R1", kind="respondent", parent="S1")
    doc = project.import_documents([_write(project.root / "r1.txt")], case="R1")[0]
    project.add_coding("r1.txt", 0, 5, "Supervision", "me", valence="barrier")
    project.add_coding("r1.txt", 6, 11, "Supervision", "me", valence="facilitator")
    cov = project.coverage("sis")
    row = cov.components.set_index("component").loc["C2"]
    assert (row["codings"], row["respondents"], row["sites"]) == (2, 1, 1)
    assert (row["barrier"], row["facilitator"], row["mixed"]) == (1, 1, 0)
    assert cov.heatmap.loc["S1", "C2"] == 2
    assert len(cov.never_evidenced) == 23
    assert doc.ok


def _write(path: Path) -> Path:
    path.write_text("Hello there, nobody supervises us.\n", encoding="utf-8")
    return path


def test_empty_and_unknown(project):
    cov = project.coverage()
    assert len(cov.never_evidenced) == 24 and cov.notes
    assert cov.heatmap.empty
    with pytest.raises(NotFound, match="unknown framework"):
        project.coverage("nosuch")
