"""Active learning proven by simulation (`caseframe bench active`), and the review queue's
order and background refits."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from caseframe.api import Project
from caseframe.cli.main import run
from caseframe.interop.coded_dataset import read_coded_dataset
from caseframe.suggest.active import bench_active, labels_to_reach, next_units, simulate
from caseframe.suggest.evaluate import label_matrix
from test_suggest_project import CODES, write_nhs_subset


@pytest.fixture(scope="module")
def subset(tmp_path_factory):
    base = tmp_path_factory.mktemp("active")
    folder = write_nhs_subset(base / "dataset")
    project = Project.init(base / "project")
    project.import_coded(folder)
    project.close()
    return folder, base / "project"


def test_simulated_orders_start_alike_and_add_k_labels(subset):
    folder, _ = subset
    data = read_coded_dataset(folder)
    train, test = data.split("train"), data.split("test")
    texts = [s.text for s in train]
    Y = label_matrix(data, "labeller", [s.id for s in train])
    Yt = label_matrix(data, "labeller", [s.id for s in test])
    curves = {
        order: simulate(
            texts, Y, data.codebook, [s.text for s in test], Yt, order=order, k=100, max_labels=300
        )
        for order in ("active", "random")
    }
    for curve in curves.values():
        assert [p["labels"] for p in curve] == [100, 200, 300]
        assert all(0 <= p["macro_f1"] <= 1 for p in curve)
    # same random start, so the first points are the same fit
    first = [{k: v for k, v in c[0].items() if k != "fit_seconds"} for c in curves.values()]
    assert first[0] == first[1]
    assert labels_to_reach(curves["active"], -1) == 100
    assert labels_to_reach(curves["active"], 2) is None


def test_bench_active_json_from_the_command_line(subset, capsys):
    folder, _ = subset
    assert run(["bench", "active", str(folder), "--k", "160", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert set(got["curves"]) == set(got["labels_to_90pct"]) == {"active", "random"}
    assert [p["labels"] for p in got["curves"]["active"]] == [160, 320]
    # the whole pool is the last point of both curves, so both reach 90 % of it there at latest
    assert got["pool_units"] == 320
    for order in ("active", "random"):
        last = got["curves"][order][-1]["macro_f1"]
        assert last == pytest.approx(got["full"]["macro_f1"])
        assert got["labels_to_90pct"][order] <= 320
    want = bench_active(folder, k=160)

    def figures(curves):
        return {o: [{k: v for k, v in p.items() if k != "fit_seconds"} for p in c]
                for o, c in curves.items()}  # fmt: skip

    assert figures(want["curves"]) == figures(got["curves"])
    assert run(["bench", "active", str(folder), "--k", "160"]) == 0
    assert "90 % of the whole-pool macro-F1" in capsys.readouterr().out


def test_review_queue_orders_like_suggest_next_and_refits_after_k(subset, tmp_path):
    folder, src = subset
    shutil.copytree(src, tmp_path / "p")
    project = Project.open(tmp_path / "p")
    try:
        data = read_coded_dataset(folder)
        docs = sorted({s.document for s in data.split("test")})
        project.suggest(codes=CODES, documents=docs, min_kappa=0)
        first = project.review_queue(limit=500, wait=True)
        assert first["model"]["state"] == "ready" and first["model"]["version"] == 0
        queue = project.__dict__["_suggest_queue"]
        model = queue.model
        # the queue's priority of a unit is `next_units`'s priority for it (same model)
        texts = model.unit_texts
        ranked = dict(next_units(model.method, texts, model.counts, n=len(texts)))
        for unit in first["units"]:
            i = queue.unit_index[unit["unit_id"]]
            if i in ranked:
                assert unit["priority"] == pytest.approx(ranked[i], abs=1e-3)
        priorities = [u["priority"] for u in first["units"]]
        assert priorities == sorted(priorities, reverse=True)
        assert sum(len(u["suggestions"]) for u in first["units"]) == first["pending"]
        # k decisions on one code: a refit in the background; only that code's scores move
        code = CODES[1]
        ids = [s["id"] for u in first["units"] for s in u["suggestions"] if s["code"] == code]
        assert len(ids) >= model.k
        before = model.P.copy()
        project.review_suggestions("Ann", reject=ids[: model.k])
        queue._thread.join(60)
        second = project.review_queue(limit=500)
        assert second["model"]["version"] == 1
        assert second["model"]["last_refit_seconds"] is not None
        code_id = next(c.id for c in project.codes() if c.name == code)
        j = queue.code_index[code_id]
        assert not np.allclose(model.P[:, j], before[:, j])
        others = [c for c in range(len(CODES)) if c != j]
        np.testing.assert_array_equal(model.P[:, others], before[:, others])
        assert second["pending"] == first["pending"] - model.k
    finally:
        project.close()
