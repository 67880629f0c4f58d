"""`batch suggest|pseudonymise|summarise|import` on a real local Dask cluster (2 worker processes)
with real NHS comments: equal to single-process results, resumable after kills, unusable rows
reported with file and line, consistent pseudonyms, summaries and a sample back for review."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

from batch_support import KEY_HEX, batch_input, nhs_comments, train_model  # noqa: E402
from caseframe.cli.main import run  # noqa: E402
from caseframe.suggest.modelfile import load_model  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def scheduler():
    """One local cluster for the module: 2 worker processes, one thread each."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(autouse=True)
def _key(monkeypatch):
    monkeypatch.setenv("CASEFRAME_MODEL_KEY", KEY_HEX)


@pytest.fixture(scope="module")
def trained(shared, tmp_path_factory):
    return train_model(shared, tmp_path_factory.mktemp("batch-model"))


@pytest.fixture(scope="module")
def rows(shared, tmp_path_factory):
    """2,000 comments the model did not see, as a CSV with site and month."""
    path = tmp_path_factory.mktemp("batch-in") / "comments.csv"
    frame = batch_input(nhs_comments(shared).iloc[1000:3000].reset_index(drop=True), path)
    return path, frame


@pytest.fixture(scope="module")
def suggested(scheduler, trained, rows, tmp_path_factory):
    """One batch suggest run, shared by the tests that read its output."""
    out = tmp_path_factory.mktemp("batch-out") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CASEFRAME_MODEL_KEY", KEY_HEX)
        code = run(
            ["batch", "suggest", str(rows[0]), "--text-column", "text", "--id-column", "id"]
            + ["--model", str(trained), "--out", str(out), "--scheduler", scheduler]
            + ["--partition-rows", "300"]
        )
    assert code == 0
    return out


def read_output(out: Path) -> pd.DataFrame:
    parts = sorted((out / "parts").glob("*.parquet"))
    return pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True)


def markers(out: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((out / "parts").glob("*.done"))]


def test_batch_output_equals_single_process_suggest(suggested, trained, rows):
    model = load_model(trained, bytes.fromhex(KEY_HEX))
    frame = rows[1]
    out = read_output(suggested)
    assert sorted(out["id"]) == sorted(frame["id"]) and out["id"].is_unique
    out = out.set_index("id").loc[frame["id"]]
    P = model.method.predict_proba(frame["text"].tolist())
    D = model.method.predict(frame["text"].tolist())
    for i, (codes, scores) in enumerate(zip(out["codes"], out["scores"], strict=True)):
        js = np.flatnonzero(D[i])
        assert list(codes) == [model.codes[j] for j in js]
        np.testing.assert_allclose(scores, P[i, js], rtol=1e-6)
    assert set(out["model_version"]) == {model.model_id}
    assert list(out["text"]) == frame["text"].tolist()
    assert list(out["site"]) == frame["site"].tolist()
    done = markers(suggested)
    assert len(done) == 7  # 2,000 rows in partitions of at most 300
    assert len({m["worker"] for m in done}) == 2  # both workers took partitions
    run_json = json.loads((suggested / "run.json").read_text())
    assert run_json["rows"] == 2000 and run_json["bad_rows"] == 0


def test_parquet_input_is_read_by_row_groups(scheduler, trained, rows, tmp_path):
    frame = rows[1].iloc[:900]
    path = tmp_path / "comments.parquet"
    frame.to_parquet(path, row_group_size=200)
    out = tmp_path / "out"
    args = ["batch", "suggest", str(path), "--text-column", "text", "--model", str(trained)]
    assert run([*args, "--out", str(out), "--scheduler", scheduler, "--partition-rows", "400"]) == 0
    got = read_output(out)
    assert sorted(got["id"]) == sorted(f"comments.parquet:{i}" for i in range(1, 901))
    assert len(markers(out)) == 3  # row groups 200+200, 200+200, 100
    assert set(got.columns) >= {"id", "site", "month", "text", "codes", "scores"}


def test_unusable_rows_are_reported_with_file_and_line_and_the_rest_goes_on(
    scheduler, trained, tmp_path
):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        b"id,site,text\r\n"
        b"a,North,Staff were kind\r\n"  # line 2
        b'b,North,"Waited an hour,\r\nthen a ""great"" crew came"\r\n'  # lines 3-4: one record
        b"c,South,\r\n"  # line 5: no text
        b"d,South,Caf\xe9 was closed\r\n"  # line 6: Latin-1 byte, not UTF-8
        b"e,East,too,many,fields\r\n"  # line 7
        b"\r\n"  # line 8: blank, skipped silently
        b"f,East,Driver was on time\r\n"  # line 9
    )
    out = tmp_path / "out"
    args = ["batch", "suggest", str(path), "--text-column", "text", "--id-column", "id"]
    code = run(
        [*args, "--model", str(trained), "--out", str(out), "--scheduler", scheduler]
        + ["--partition-rows", "2"]
    )
    assert code == 0
    got = read_output(out).set_index("id")
    assert sorted(got.index) == ["a", "b", "f"]
    assert got.loc["b", "text"] == 'Waited an hour,\r\nthen a "great" crew came'
    errors = pd.read_csv(out / "errors.csv")
    assert [(Path(f).name, n) for f, n in zip(errors["file"], errors["line"], strict=True)] == [
        ("bad.csv", 5),
        ("bad.csv", 6),
        ("bad.csv", 7),
    ]
    assert list(errors["problem"]) == [
        "empty text in column 'text'",
        "invalid UTF-8",
        "5 fields where the header has 3",
    ]


def test_killed_worker_and_client_then_resume_writes_every_row_once(
    scheduler, trained, shared, tmp_path
):
    import psutil

    path = tmp_path / "in.csv"
    frame = batch_input(nhs_comments(shared).iloc[:3000].reset_index(drop=True), path)
    out = tmp_path / "out"
    args = ["batch", "suggest", str(path), "--text-column", "text", "--id-column", "id"]
    args += ["--model", str(trained), "--out", str(out), "--partition-rows", "100"]
    env = os.environ | {"CASEFRAME_MODEL_KEY": KEY_HEX, "PYTHONPATH": str(SRC)}
    code = "from caseframe.cli.main import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args, "--workers", "2"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 600
        while len(list((out / "parts").glob("*.done"))) < 2:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        workers = [
            p
            for p in psutil.Process(proc.pid).children(recursive=True)
            if "spawn_main" in " ".join(p.cmdline())
        ]
        assert workers, "no worker process found"
        workers[0].kill()  # a worker dies mid-run ...
        time.sleep(0.5)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # ... then the whole run is killed
        proc.wait()
    before = len(markers(out))
    assert 2 <= before
    resumed = run([*args, "--resume", "--scheduler", scheduler, "--json"])
    assert resumed == 0
    got = read_output(out)
    assert len(got) == len(frame)
    assert Counter(got["id"]) == Counter(frame["id"])  # every row exactly once
    assert len(markers(out)) == 30
    total = json.loads((out / "run.json").read_text())
    assert total["skipped_partitions"] == before
    assert total["ran_partitions"] == 30 - before


def test_a_run_folder_is_not_overwritten_and_resume_checks_the_model(
    suggested, rows, shared, tmp_path, capsys
):
    base = ["batch", "suggest", str(rows[0]), "--text-column", "text", "--id-column", "id"]
    base += ["--out", str(suggested), "--partition-rows", "300"]
    other = train_model(shared, tmp_path, n=400, folds=0)
    capsys.readouterr()
    assert run([*base, "--model", str(other)]) == 1
    assert "already holds a batch run" in capsys.readouterr().err
    assert run([*base, "--model", str(other), "--resume"]) == 1
    assert "differs in its settings" in capsys.readouterr().err


def test_summarise_counts_shares_and_marks_low_f1_codes(suggested, tmp_path):
    xlsx, html = tmp_path / "s.xlsx", tmp_path / "s.html"
    code = run(
        ["batch", "summarise", str(suggested), "--by", "site,month", "--min-f1", "0.6"]
        + ["--xlsx", str(xlsx), "--html", str(html)]
    )
    assert code == 0
    table = pd.read_excel(xlsx, sheet_name="by group")
    out = read_output(suggested)
    exploded = out[["site", "month", "codes"]].explode("codes").dropna()
    expected = exploded.groupby(["site", "month", "codes"]).size()
    for row in table.itertuples(index=False):
        assert row.count == expected.get((row.site, row.month, row.code), 0)
        size = ((out["site"] == row.site) & (out["month"] == row.month)).sum()
        assert row.rows == size and row.share == pytest.approx(row.count / size)
    assert len(table) == 3 * 4 * 6  # sites × months × codes
    model = json.loads((suggested / "manifest.json").read_text())["settings"]["model"]
    for code, figures in model["cv"]["per_code"].items():
        marked = set(table.loc[table["code"] == code, "low_f1"].fillna(""))
        assert marked == {"yes" if (figures["f1"] or 0) < 0.6 else ""}
    page = html.read_text(encoding="utf-8")
    assert page.count("<svg") == 6
    assert "<script" not in page and "<link" not in page and "src=" not in page
    assert set(pd.ExcelFile(xlsx).sheet_names) == {"by group", "codes", "about"}


def test_import_brings_a_stratified_sample_back_as_suggestions(suggested, tmp_path, shared):
    from batch_support import CODES
    from caseframe.api import Project

    project = Project.init(tmp_path / "proj")
    for code in CODES:
        project.add_code(code)
    project.close()
    p = ["--project", str(tmp_path / "proj")]
    assert run([*p, "batch", "import", str(suggested), "--sample", "40"]) == 0
    with Project.open(tmp_path / "proj") as project:
        frame = project.suggestions_frame(method="batch-supervised")
        units = project.meaning_units()
    assert len(units) == 40
    assert len(frame) > 0 and set(frame["status"]) == {"suggested"}
    out = read_output(suggested).set_index("id")
    ids = {u.external_id for u in units}
    assert ids <= set(out.index)
    # every stored suggestion is one of the model's codes for that row, with its score
    for u in units:
        mine = frame[(frame["start"] == u.start)]
        row = out.loc[u.external_id]
        assert sorted(mine["code"]) == sorted(row["codes"])
    # strata: each row's first code; every first code in the output is represented
    firsts = {c[0] if len(c) else "(none)" for c in out["codes"]}
    sampled = {out.loc[i, "codes"][0] if len(out.loc[i, "codes"]) else "(none)" for i in ids}
    assert sampled == firsts
    assert run([*p, "suggest", "review", "--coder", "Ann", "--accept-all"]) == 0


def test_pseudonyms_agree_across_workers_and_runs_and_the_key_stays_out(
    scheduler, shared, tmp_path, monkeypatch
):
    from caseframe.batch.pseudonymise_run import Pseudonymiser, derive_secret, setup_from_key
    from caseframe.privacy import KeyFile, PseudonymBook, Registry

    registry = Registry()
    registry.add("Anna Berg", "person", pseudonym="Driver A1")
    registry.add("Omar Haddad", "person")
    book = PseudonymBook()
    book.assign("Lena Holm", "person")  # pseudonymised earlier in the project: [Person 1]
    key_path = tmp_path / "keys" / "study.key"
    key_path.parent.mkdir()
    KeyFile.create(key_path, "correct horse", registry=registry, book=book, scrypt_n=2**14)
    monkeypatch.setenv("CASEFRAME_KEY_PASSPHRASE", "correct horse")

    comments = nhs_comments(shared).iloc[:600].reset_index(drop=True)
    texts = [
        f"{t} Thanks to Omar Haddad, Anna Berg and Lena Holm; write to omar@example.org."
        if i % 10 == 0
        else t
        for i, t in enumerate(comments["text"])
    ]
    path = tmp_path / "in.csv"
    pd.DataFrame({"id": comments["id"], "text": texts}).to_csv(path, index=False)

    outs = []
    for name in ("one", "two"):
        out = tmp_path / name
        code = run(
            ["batch", "pseudonymise", str(path), "--text-column", "text", "--id-column", "id"]
            + ["--key", str(key_path), "--out", str(out), "--scheduler", scheduler]
            + ["--partition-rows", "100", "--json"]
        )
        assert code == 0
        outs.append(out)
    first, second = (read_output(o).set_index("id").loc[comments["id"]] for o in outs)
    assert list(first["text"]) == list(second["text"])  # same pseudonyms in every run

    named = first[first["text"].str.contains("Thanks to")]
    assert len(named) == 60
    labels = named["text"].str.extract(r"Thanks to (\[Person [A-Z2-7]{10}\]), ")[0]
    assert labels.notna().all() and labels.nunique() == 1  # one label for Omar everywhere
    assert named["text"].str.contains(r"\[Driver A1\] and \[Person 1\]; write to \[Email\]").all()
    by_part = {m["partition"]: m["worker"] for m in markers(outs[0])}
    assert len(set(by_part.values())) == 2  # ... though partitions ran on both workers

    # the same result as one process with the same key
    setup = setup_from_key(key_path, "correct horse")
    expected = [Pseudonymiser(setup)(t)[0] for t in texts]
    assert list(first["text"]) == expected

    secret = derive_secret(key_path, "correct horse")
    for f in outs[0].rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert secret not in data and secret.hex().encode() not in data
            assert b"correct horse" not in data
    assert not first["text"].str.contains("Omar|Haddad|Anna Berg|Lena Holm").any()
    report = pd.read_csv(outs[0] / "report.csv").set_index("category")["replaced"]
    assert report["person"] >= 180 and report["email"] >= 60


def test_workers_and_scheduler_together_are_refused_before_anything_is_written(
    trained, rows, tmp_path, capsys
):
    out = tmp_path / "never"
    code = run(
        ["batch", "suggest", str(rows[0]), "--text-column", "text", "--model", str(trained)]
        + ["--out", str(out), "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"]
    )
    assert code == 1
    assert "give --workers or --scheduler, not both" in capsys.readouterr().err
    assert not out.exists()
