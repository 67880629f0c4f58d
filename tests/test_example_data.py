"""Internal consistency of the bundled example study (examples/peer-support/).

The example reproduces the structure of Grim et al. 2022 (the seed paper in ../shared/seed/):
Table 1 (cases), Table 3 (codes) and the quotations of its Results section. Only the csv module
is used, so these checks do not depend on caseframe's own importer.
"""

import csv
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "peer-support"
SHARED = REPO.parent / "shared"
PAPER = SHARED / "seed" / "grim-2022-managing-peer-support-workers.txt"
FACTS = SHARED / "frameworks" / "FACTS.md"

RESPONDENTS = [f"A{i}" for i in range(1, 8)] + [f"B{i}" for i in range(8, 13)]
RESPONDENTS += [f"C{i}" for i in range(13, 19)]
REGIONAL, MUNICIPAL = "regional psychiatry", "municipal social psychiatry"
# Table 1 of the paper: region -> (managers, services, regional settings, municipal settings)
TABLE_1 = {"A": (7, 6, 0, 7), "B": (5, 4, 5, 0), "C": (6, 6, 3, 3)}
THEME = "Navigating liminal spaces when implementing peer support in mental health systems"
MAIN = [
    "Incentives and conditions",
    "Implementation and organization",
    "Experiences of peer support",
]
CATEGORIES = {
    "Previous experience and commitment": MAIN[0],
    "Opportunities for full-scale support": MAIN[0],
    "User movement collaboration": MAIN[0],
    "Preparation phase at the start": MAIN[1],
    "The working role of the PSW": MAIN[1],
    "Continuous support": MAIN[1],
    "The PSW in the client work": MAIN[2],
    "The PSW in the working team": MAIN[2],
    "Thoughts on the future": MAIN[2],
}
# attributions printed in the paper that are not ids in its own numbering (README resolves them)
IRREGULAR = {"C6", "B2", "12B"}
FIRST, SECOND = "2017-06-01", "2018-12-01"


def read(name: str, header: list[str]) -> list[dict[str, str]]:
    with open(EXAMPLE / name, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == header, f"{name}: header must be exactly {header}"
        return list(reader)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def paper() -> str:
    if not PAPER.is_file():
        pytest.fail(f"seed paper missing: expected {PAPER} (the shared folder beside the repo)")
    return squash(PAPER.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sis_ids() -> list[str]:
    if not FACTS.is_file():
        pytest.fail(f"framework facts missing: expected {FACTS}")
    ids = re.findall(r"^\| ([OTC]\d{1,2}) \|", FACTS.read_text(encoding="utf-8"), re.M)
    assert len(ids) == 24, "FACTS.md should list the 24 SIS components"
    return ids


@pytest.fixture(scope="module")
def cases() -> dict[str, dict[str, str]]:
    rows = read("cases.csv", ["id", "label", "kind", "parent", "setting", "level", "note"])
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    return {r["id"]: r for r in rows}


@pytest.fixture(scope="module")
def codes() -> dict[str, dict[str, str]]:
    rows = read("codes.csv", ["code", "parent", "kind", "description", "sis"])
    names = [r["code"] for r in rows]
    assert len(names) == len(set(names)), "code names must be unique"
    return {r["code"]: r for r in rows}


def region_of(case_id: str, cases: dict[str, dict[str, str]]) -> str:
    while cases[case_id]["kind"] != "region":
        case_id = cases[case_id]["parent"]
    return case_id


def test_case_tree(cases):
    kinds = Counter(r["kind"] for r in cases.values())
    assert kinds == {"region": 3, "site": 16, "respondent": 18}
    respondents = [cid for cid, r in cases.items() if r["kind"] == "respondent"]
    assert sorted(respondents) == sorted(RESPONDENTS)
    for cid, row in cases.items():
        assert row["label"], f"{cid}: label missing"
        if row["kind"] == "region":
            assert row["parent"] == "" and row["note"].startswith("Table 1")
        else:
            assert row["parent"] in cases, f"{cid}: unknown parent {row['parent']!r}"
        if row["kind"] == "site":
            assert cases[row["parent"]]["kind"] == "region"
            assert re.fullmatch(rf"{row['parent']}-S\d+", cid)
            assert row["setting"] in (REGIONAL, MUNICIPAL)
        if row["kind"] == "respondent":
            assert row["label"] == f"Manager {cid}"
            assert region_of(cid, cases) == cid[0]


def test_table_1_reproduced(cases):
    for region, (managers, services, regional, municipal) in TABLE_1.items():
        sites = [c for c, r in cases.items() if r["kind"] == "site" and r["parent"] == region]
        people = [
            c
            for c, r in cases.items()
            if r["kind"] == "respondent" and region_of(c, cases) == region
        ]
        settings = Counter(
            cases[c]["setting"] or cases[cases[c]["parent"]]["setting"] for c in people
        )
        assert (len(people), len(sites)) == (managers, services), region
        assert (settings[REGIONAL], settings[MUNICIPAL]) == (regional, municipal), region
    per_site = Counter(r["parent"] for r in cases.values() if r["kind"] == "respondent")
    shared_sites = [s for s, n in per_site.items() if n > 1 and cases[s]["kind"] == "site"]
    assert len(shared_sites) == 1 and shared_sites[0].startswith("A-"), "one shared A service"
    central = [c for c, r in cases.items() if r["level"] == "central"]
    assert len(central) == 1 and cases[central[0]]["parent"] == "B"
    assert cases[central[0]]["setting"] == REGIONAL


def test_code_tree(codes, sis_ids):
    kinds = Counter(r["kind"] for r in codes.values())
    assert kinds == {"theme": 1, "main_category": 3, "category": 9}
    assert codes[THEME]["kind"] == "theme" and codes[THEME]["parent"] == ""
    for name in MAIN:
        assert codes[name]["kind"] == "main_category" and codes[name]["parent"] == THEME
    for name, parent in CATEGORIES.items():
        assert codes[name]["kind"] == "category" and codes[name]["parent"] == parent
        assert codes[name]["sis"], f"{name}: no SIS mapping"
    for row in codes.values():
        assert row["description"].strip(), f"{row['code']}: description missing"
        for sis in filter(None, row["sis"].split(";")):
            assert sis in sis_ids, f"{row['code']}: unknown SIS component {sis!r}"
    # the one mapping the paper states for this category (organizational fit)
    assert "O4" in codes["The working role of the PSW"]["sis"].split(";")


def test_quotes_verbatim_and_categorised(paper, codes):
    rows = read("quotes.csv", ["quote", "attribution", "category", "valence", "note"])
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    assert f"{len(rows)} quotations" in readme, "README must state the quote count"
    seen_irregular = set()
    for n, row in enumerate(rows, start=2):
        quote = squash(row["quote"])
        assert quote and quote == row["quote"], f"quotes.csv:{n}: empty or untrimmed quote"
        assert quote[0] not in '"“‘', f"quotes.csv:{n}: enclosing quotation mark kept"
        assert quote in paper, f"quotes.csv:{n}: not verbatim in the paper: {quote[:60]!r}"
        assert codes.get(row["category"], {}).get("kind") == "category", f"quotes.csv:{n}"
        assert row["valence"] in ("facilitator", "barrier", "mixed", ""), f"quotes.csv:{n}"
        tokens = row["attribution"].split(", ")
        for token in tokens:
            assert token in RESPONDENTS or token in IRREGULAR, f"quotes.csv:{n}: {token!r}"
        seen_irregular |= IRREGULAR.intersection(tokens)
        # the parenthesised attribution follows the quote in the paper (some share one)
        starts = [m.start() for m in re.finditer(re.escape(quote), paper)]
        window = [paper[s + len(quote) : s + len(quote) + 120] for s in starts]
        assert any(f"({row['attribution']})" in w for w in window), f"quotes.csv:{n}"
    assert seen_irregular == IRREGULAR
    for odd in IRREGULAR:
        assert f"`{odd}`" in readme, f"README must explain how {odd} was resolved"
    used = {r["category"] for r in rows}
    assert used == set(CATEGORIES), "every category has at least one quote"


def test_ratings(cases, sis_ids):
    rows = read(
        "ratings.csv",
        ["site", "framework", "component", "rating", "rater", "assessed_on", "note"],
    )
    sites = {c for c, r in cases.items() if r["kind"] == "site"}
    by_point: dict[tuple[str, str], list[str]] = {}
    for n, row in enumerate(rows, start=2):
        assert row["site"] in sites, f"ratings.csv:{n}: not a site {row['site']!r}"
        assert row["framework"] == "sis" and row["rater"] == "illustrative", f"ratings.csv:{n}"
        assert row["rating"] in {"0", "1", "2", "3"}, f"ratings.csv:{n}: rating {row['rating']}"
        assert row["note"], f"ratings.csv:{n}: note missing"
        date.fromisoformat(row["assessed_on"])
        by_point.setdefault((row["site"], row["assessed_on"]), []).append(row["component"])
    for point, components in by_point.items():
        assert sorted(components) == sorted(sis_ids), f"{point}: needs each of 24 components once"
    assert {s for s, d in by_point if d == FIRST} == sites
    later = {s for s, d in by_point if d == SECOND}
    assert later and set(d for _, d in by_point) == {FIRST, SECOND}
    changed = [
        s
        for s in later
        if any(
            r["rating"] != f["rating"]
            for r in rows
            if r["site"] == s and r["assessed_on"] == SECOND
            for f in rows
            if f["site"] == s and f["assessed_on"] == FIRST and f["component"] == r["component"]
        )
    ]
    assert sorted(changed) == sorted(later), "each re-rated site shows some change"
    o10 = [r["rating"] for r in rows if r["component"] == "O10" and r["assessed_on"] == FIRST]
    assert sum(v == "0" for v in o10) >= len(o10) - 2, "project-limited funding: O10 low"
