"""`caseframe assess ...` and `caseframe profile`: end to end, bad input gives one line."""

from __future__ import annotations

import io
import json

import pytest

from caseframe.cli.main import run

HEADER = "site,framework,component,rating,rater,assessed_on,note\n"


def cf(capsys, *args):
    code = run([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def flat(text: str) -> str:
    """The console wraps long lines at the terminal width; compare the words."""
    return " ".join(text.split())


@pytest.fixture
def proj(tmp_path, capsys):
    assert cf(capsys, "init", tmp_path / "p")[0] == 0
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "id,label,kind,parent,setting\nR,Region R,region,,\nS1,Service 1,site,R,x\n"
        "S2,Service 2,site,R,y\nM1,Manager 1,respondent,S1,\n",
        encoding="utf-8",
    )
    assert cf(capsys, "-p", tmp_path / "p", "cases", "import", cases)[0] == 0
    return tmp_path / "p"


def test_assess_flags_list_and_profile(proj, capsys, tmp_path):
    code, out, err = cf(
        capsys,
        "-p",
        proj,
        "assess",
        "S1",
        "--at",
        "2020-01-01",
        "--rater",
        "KG",
        "--rating",
        "O10=0",
        "--rating",
        "C2=2",
        "--note",
        "first visit",
    )
    assert code == 0, err
    assert "Recorded 2 rating(s) of S1 on 2020-01-01 by KG" in flat(out)
    code, out, _ = cf(capsys, "-p", proj, "assess", "list", "--json")
    rows = json.loads(out)
    assert [(r["component"], r["rating"], r["note"]) for r in rows] == [
        ("O10", 0, "first visit"),
        ("C2", 2, "first visit"),
    ]
    code, out, _ = cf(capsys, "-p", proj, "profile", "S1", "--json")
    profile = json.loads(out)[0]
    assert profile["total"] == 2 and profile["absent"] == ["O10"]
    assert "No financial strategy beyond the project end (O10)" in profile["risks"]
    code, out, _ = cf(capsys, "-p", proj, "profile")
    assert "total 2/72" in flat(out) and "Is there funding after the project ends? no" in flat(out)
    for fmt in ("html", "md", "xlsx"):
        target = tmp_path / f"out.{fmt}"
        code, out, err = cf(capsys, "-p", proj, "profile", "--format", fmt, "--out", target)
        assert code == 0, err
        assert target.stat().st_size > 0


def test_import_agreement_and_consensus(proj, capsys, tmp_path):
    ratings = tmp_path / "r.csv"
    ratings.write_text(
        HEADER + "S1,sis,O1,1,Anna,2020-01-01,\nS1,sis,O2,2,Anna,2020-01-01,\n"
        "S1,sis,O1,1,Ben,2020-01-01,\nS1,sis,O2,3,Ben,2020-01-01,\n",
        encoding="utf-8",
    )
    code, out, err = cf(capsys, "-p", proj, "assess", "import", ratings)
    assert code == 0 and "Imported 4 rating(s)" in out, err
    code, out, _ = cf(capsys, "-p", proj, "assess", "agreement", "--json")
    result = json.loads(out)
    assert result["units"] == 2 and result["exact"]["value"] == 0.5
    code, _out, err = cf(capsys, "-p", proj, "assess", "consensus", "S1", "--at", "2020-01-01")
    assert code == 1 and "differ on O2 (Anna 2; Ben 3)" in err and "--decide" in err
    code, out, err = cf(
        capsys, "-p", proj, "assess", "consensus", "S1", "--at", "2020-01-01", "--decide", "O2=2"
    )
    assert code == 0 and "Recorded 2 consensus rating(s)" in out, err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rating", "O1=4"], "rating '4' for O1 is outside the scale 0–3"),
        (["--rating", "O99=1"], "unknown component 'O99' in framework 'sis'"),
        (["--rating", "O1"], "rating 'O1' is not COMPONENT=VALUE"),
        (["--rating", "O1=1", "--at", "June 2020"], "'June 2020' is not a date"),
        ([], "no ratings given"),
        (["--from-suggestions"], "reviewing suggestions needs a terminal"),
    ],
)
def test_assess_bad_input_one_line_nothing_stored(proj, capsys, args, message):
    code, out, err = cf(capsys, "-p", proj, "assess", "S1", "--rater", "KG", *args)
    assert code != 0
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    code, out, _ = cf(capsys, "-p", proj, "assess", "list", "--json")
    assert json.loads(out) == []


def test_unknown_site_and_bad_csv(proj, capsys, tmp_path):
    code, _out, err = cf(capsys, "-p", proj, "assess", "S9", "--rater", "KG", "--rating", "O1=1")
    assert code != 0 and "unknown case 'S9'" in err
    bad = tmp_path / "bad.csv"
    bad.write_text("site,component,rating\nS1,O1,1\n", encoding="utf-8")
    code, _out, err = cf(capsys, "-p", proj, "assess", "import", bad)
    assert code != 0 and "missing required column(s): assessed_on" in err
    code, _out, err = cf(
        capsys, "-p", proj, "profile", "--format", "html", "--out", tmp_path / "p.html"
    )
    assert code != 0 and "no site has a sis assessment yet" in err
    assert not (tmp_path / "p.html").exists()


def test_interactive_review_of_suggestions(example_copy, capsys, monkeypatch):
    """A rater at a terminal accepts one proposal, changes one and skips the rest."""
    import caseframe.cli.assess as assess_cli

    suggestions = [s for s in example_copy.suggest_ratings("A-S1") if s.rating is not None]
    assert len(suggestions) >= 2
    first, second = suggestions[0], suggestions[1]
    changed = (second.rating + 1) % 4
    answers = ["", str(changed)] + ["s"] * (len(suggestions) - 2)
    monkeypatch.setattr(assess_cli, "_interactive", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(answers) + "\n"))
    root = example_copy.root
    code, out, err = cf(
        capsys,
        "-p",
        root,
        "assess",
        "A-S1",
        "--at",
        "2021-01-01",
        "--rater",
        "KG",
        "--from-suggestions",
    )
    assert code == 0, err
    assert "1 accepted as proposed, 1 changed" in flat(out)
    frame = example_copy.assessments_frame("A-S1")
    mine = frame[frame["rater"] == "KG"].set_index("component")
    assert mine.loc[first.component, "rating"] == first.rating
    assert mine.loc[second.component, "rating"] == changed
    assert mine.loc[first.component, "evidence"] == first.evidence_ids
    kept = frame[frame["status"] == "suggested"].set_index("component")
    assert kept.loc[second.component, "rating"] == second.rating


def test_accept_all_is_an_explicit_choice(example_copy, capsys):
    root = example_copy.root
    code, _out, err = cf(capsys, "-p", root, "assess", "A-S1", "--rater", "KG", "--accept-all")
    assert code != 0 and "--accept-all needs --from-suggestions" in err
    code, out, err = cf(
        capsys,
        "-p",
        root,
        "assess",
        "A-S1",
        "--at",
        "2021-01-01",
        "--rater",
        "KG",
        "--from-suggestions",
        "--accept-all",
        "--rating",
        "O4=1",
    )
    assert code == 0, err
    n = sum(1 for s in example_copy.suggest_ratings("A-S1") if s.rating is not None)
    assert f"Recorded {n} rating(s)" in flat(out) and "1 changed" in flat(out)
