"""`caseframe agreement`, `agreement disagreements`, `consensus` and `consensus resolve`."""

from __future__ import annotations

import csv
import json

import krippendorff
import openpyxl
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from caseframe.cli.main import run
from support import ANNOMI_CLASSES as CLASSES
from support import annomi_dataset, write_csv

CONVERSATIONS = [55, 109]  # two of AnnoMI's ten-coder conversations
KEYS = {"code", "units", "percent_agreement", "cohen_kappa", "fleiss_kappa"}
KEYS |= {"krippendorff_alpha", "gwet_ac1"}


@pytest.fixture(scope="module")
def study(shared, tmp_path_factory):
    """(project folder, dataset folder, labels per unit and coder) for two AnnoMI talks."""
    root = tmp_path_factory.mktemp("cli")
    folder = root / "ds"
    labelled, units = annomi_dataset(shared, folder, CONVERSATIONS)
    project = root / "proj"
    assert run(["init", str(project)]) == 0
    assert run(["-p", str(project), "import-coded", str(folder)]) == 0
    table = labelled.pivot_table(
        index="unit", columns="annotator_id", values="label", aggfunc="first"
    )
    return project, folder, table.reindex(units)


def cli_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert run(list(args)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_agreement_json_project_and_dataset(study, capsys):
    project, folder, table = study
    args = ["--coders", "expert0,expert1", "--bootstrap", "200", "--json"]
    mine = cli_json(capsys, "-p", str(project), "agreement", *args)
    assert {"per_code", "overall"} <= set(mine)
    assert all(KEYS <= set(row) for row in mine["per_code"])
    for row in mine["per_code"]:  # Cohen's kappa per class from the raw labels
        a = (table[0] == row["code"]).to_numpy()
        b = (table[1] == row["code"]).to_numpy()
        assert row["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b))
        assert row["units"] == len(table)
    from_dir = cli_json(capsys, "agreement", str(folder), *args)
    for a, b in zip(from_dir["per_code"], mine["per_code"], strict=True):
        for key in KEYS - {"code"}:
            assert a[key] == pytest.approx(b[key])
    # the project folder may also be given as the argument
    again = cli_json(capsys, "agreement", str(project), *args)
    assert again["overall"]["krippendorff_alpha"] == mine["overall"]["krippendorff_alpha"]


def test_agreement_human_table_and_multiclass(study, capsys):
    project, _, _ = study
    capsys.readouterr()
    assert run(["-p", str(project), "agreement", "--codes", "sustain", "--bootstrap", "50"]) == 0
    out = capsys.readouterr().out
    assert "sustain" in out and "Fleiss κ" in out and "AC1" in out and "alpha = " in out
    multi = cli_json(
        capsys,
        "-p", str(project), "agreement", "--multiclass",
        "--codes", "reflection,question,therapist_input,other", "--json",
    )  # fmt: skip
    therapist = ["reflection", "question", "therapist_input", "other"]
    data = study[2].apply(lambda col: col.map({c: i for i, c in enumerate(therapist)}))
    ref = krippendorff.alpha(
        reliability_data=data.to_numpy(dtype=float).T, level_of_measurement="nominal"
    )
    assert multi["codes"] == therapist
    assert multi["krippendorff_alpha"] == pytest.approx(ref)


def test_character_json(study, capsys):
    project, _, _ = study
    result = cli_json(
        capsys, "-p", str(project), "agreement", "--unit", "character",
        "--coders", "expert3,expert4", "--codes", "question", "--json",
    )  # fmt: skip
    row = result["per_code"][0]
    assert result["unit"] == "character" and KEYS <= set(row)
    assert row["code"] == "question" and len(row["per_document"]) == 2
    assert row["krippendorff_alpha"] == row["u_alpha"]


def test_disagreements_table_and_xlsx(study, capsys, tmp_path):
    project, _, table = study
    capsys.readouterr()
    pair = ["-p", str(project), "agreement", "disagreements", "--coders", "expert0,expert1"]
    assert run([*pair, "--codes", "question"]) == 0
    out = capsys.readouterr().out
    assert "Disagreements" in out and "expert0" in out
    expected = sum(
        int(
            (table[0] == c).sum()
            + (table[1] == c).sum()
            - 2 * ((table[0] == c) & (table[1] == c)).sum()
        )
        for c in CLASSES
    )
    out_file = tmp_path / "meeting.xlsx"
    assert run([*pair, "--out", str(out_file)]) == 0
    sheet = openpyxl.load_workbook(out_file)["disagreements"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["code", "unit", "document"] and "decision" in header
    assert sheet.max_row - 1 == expected
    rows = cli_json(capsys, *pair, "--json")
    assert len(rows) == expected and {"applied_by", "not_applied_by", "text"} <= set(rows[0])


def test_consensus_and_resolve(study, capsys, tmp_path):
    project, _, _ = study
    p = ["-p", str(project)]
    before = cli_json(capsys, *p, "codings", "list", "--coder", "expert0", "--json")
    out_file = tmp_path / "open.xlsx"
    args = ["--coders", "expert0,expert1", "--as", "cli-consensus", "--rule", "unanimous"]
    assert run([*p, "consensus", *args, "--out", str(out_file)]) == 0
    assert "left for manual resolution" in capsys.readouterr().out
    after = cli_json(capsys, *p, "codings", "list", "--coder", "expert0", "--json")
    assert before == after
    frame = pd.read_excel(out_file, dtype=str).fillna("")
    first = frame.iloc[0]
    capsys.readouterr()
    assert run([*p, "consensus", "resolve", first["unit"], first["code"], "apply",
                "--as", "cli-consensus"]) == 0  # fmt: skip
    assert f"{len(frame) - 1} units left" in capsys.readouterr().out
    frame["decision"] = "skip"
    frame.to_excel(out_file, index=False)
    assert run([*p, "consensus", "resolve", "--file", str(out_file), "--as", "cli-consensus"]) == 0
    assert "Nothing left to resolve" in capsys.readouterr().out
    # the earlier "apply" was overruled by the list's "skip" for that unit
    assert cli_json(capsys, *p, "consensus", "pending", "--as", "cli-consensus", "--json") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["agreement", "--coders", "expert0,nobody"], "unknown coder 'nobody'"),
        (["agreement", "--coders", "expert0"], "at least two coders; you chose only 'expert0'"),
        (["agreement", "--unit", "words"], "unknown unit 'words'"),
        (["consensus", "--coders", "expert0"], "at least two coders"),
        (["consensus", "resolve", "1", "other", "apply", "--as", "ghost"], "no consensus coder"),
    ],
)
def test_bad_input_is_one_line(study, capsys, args, message):
    project, _, _ = study
    capsys.readouterr()
    assert run(["-p", str(project), *args]) == 1
    err = capsys.readouterr().err
    assert message in err and err.startswith("error:") and "Traceback" not in err


def test_dataset_with_one_coder(tmp_path, capsys, study):
    _, folder, _ = study
    single = tmp_path / "single"
    single.mkdir()
    for name in ("codebook.csv", "segments.csv"):
        (single / name).write_text((folder / name).read_text(encoding="utf-8"), encoding="utf-8")
    rows = [r for r in csv.reader(open(folder / "codings.csv", encoding="utf-8"))]
    write_csv(single / "codings.csv", rows[0], [r for r in rows[1:] if r[1] == "expert2"])
    capsys.readouterr()
    assert run(["agreement", str(single)]) == 1
    assert "at least two coders" in capsys.readouterr().err
    assert run(["agreement", str(tmp_path)]) == 1
    assert "neither a caseframe project nor a coded-segment dataset" in capsys.readouterr().err


def test_statistics_state_their_units_and_coders_are_chosen(study, capsys):
    project, _, table = study
    data = cli_json(
        capsys, "-p", str(project), "agreement", "--coders", "expert0,expert1,expert2",
        "--bootstrap", "0", "--json",
    )  # fmt: skip
    overall = data["overall"]
    assert overall["coders"] == ["expert0", "expert1", "expert2"]
    trio = table[[0, 1, 2]]
    pairable = int((trio.notna().sum(axis=1) >= 2).sum())
    complete = int(trio.notna().all(axis=1).sum())
    for row in data["per_code"]:
        stats = row["statistics"]
        assert stats["gwet_ac1"] | {"value": None, "ci": None, "reason": None} == {
            "value": None, "units": pairable, "convention": "pairable", "ci": None,
            "reason": None,
        }  # fmt: skip
        assert stats["fleiss_kappa"]["units"] == complete
        assert stats["fleiss_kappa"]["convention"] == "complete"
        assert stats["cohen_kappa"]["value"] is None and "two coders" in stats["cohen_kappa"][
            "reason"]  # fmt: skip
        for s in stats.values():
            assert s["value"] is None or -1 <= s["value"] <= 1
    assert overall["conventions"]["pairable"].startswith("units coded by at least two")
    capsys.readouterr()
    assert run(["-p", str(project), "agreement", "--coders", "expert0,expert1",
                "--bootstrap", "0"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "units two or more of the coders coded" in out


def test_roles_and_consensus_decisions_on_the_command_line(shared, tmp_path, capsys):
    folder = tmp_path / "ds"
    annomi_dataset(shared, folder, [55])
    project = tmp_path / "proj"
    assert run(["init", str(project)]) == 0
    assert run(["-p", str(project), "import-coded", str(folder)]) == 0
    p = ["-p", str(project)]
    assert run([*p, "agreement", "role", "expert2", "reference"]) == 0
    coders = cli_json(capsys, *p, "agreement", "coders", "--json")
    counted = {c["name"]: c["counted"] for c in coders}
    assert counted["expert2"] is False and counted["expert0"] is True
    overall = cli_json(capsys, *p, "agreement", "--bootstrap", "0", "--json")["overall"]
    assert "expert2" not in overall["coders"] and overall["not_counted"] == {"expert2": "reference"}
    assert run([*p, "agreement", "role", "expert2", "judge"]) != 0
    assert run([*p, "consensus", "--coders", "expert0,expert1", "--rule", "unanimous",
                "--as", "agreed"]) == 0  # fmt: skip
    pending = cli_json(capsys, *p, "consensus", "pending", "--as", "agreed", "--json")
    first = pending[0]
    assert run([*p, "--as", "olga", "consensus", "resolve", first["unit"], first["code"],
                "apply", "--as", "agreed", "--note", "clear case"]) == 0  # fmt: skip
    decisions = cli_json(capsys, *p, "consensus", "decisions", "--as", "agreed", "--json")
    mine = [d for d in decisions if d["decision"] == "apply"]
    assert len(mine) == 1 and mine[0]["note"] == "clear case"
    assert mine[0]["decided_by"] == "olga"
    rules = [d for d in decisions if d["decision"].startswith("rule")]
    assert rules and all(d["applied"] == "yes" for d in rules)
    out = tmp_path / "decisions.docx"
    assert run([*p, "consensus", "decisions", "--as", "agreed", "--out", str(out)]) == 0
    assert out.stat().st_size > 0
