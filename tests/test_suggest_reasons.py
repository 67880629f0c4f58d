"""Honest scores and reasons: calibration figures checked against scikit-learn, per-code gating
by cross-validated κ, the phrases that drove a suggestion, similar passages people coded, the
code's reliability in words, and no text kept in the store beside a suggestion."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss
from sklearn.metrics.pairwise import cosine_similarity

from caseframe.api import Project
from caseframe.interop.coded_dataset import read_coded_dataset
from caseframe.store import schema as t
from caseframe.suggest import CodeSpec, get_method
from caseframe.suggest.evaluate import calibration, gate, score
from caseframe.suggest.reasons import phrase_spans, similar_passages
from caseframe.suggest.reliability import reliability_words
from test_suggest_project import CODES, write_nhs_subset


def test_calibration_matches_scikit_learn():
    rng = np.random.default_rng(0)
    P = rng.random((200, 3))
    Y = (rng.random((200, 3)) < P).astype(int)
    got = calibration(Y, P)
    assert got["brier"] == pytest.approx(brier_score_loss(Y.ravel(), P.ravel()))
    observed, mean_score = calibration_curve(Y.ravel(), P.ravel(), n_bins=10, strategy="uniform")
    filled = [r for r in got["reliability"] if r["cells"]]
    assert [r["observed"] for r in filled] == pytest.approx(list(observed))
    assert [r["mean_score"] for r in filled] == pytest.approx(list(mean_score))
    assert sum(r["cells"] for r in got["reliability"]) == got["cells"] == 600


def test_gate_removes_codes_below_the_floor_only():
    D = np.ones((4, 3), dtype=np.int8)
    kept = gate(D, np.array([0.5, 0.2, np.nan]), 0.4)
    assert kept[:, 0].all() and not kept[:, 1].any() and not kept[:, 2].any()
    assert (gate(D, None, 0.4) == D).all()


def test_phrase_spans_point_into_the_text():
    text = "The ambulance staff were rude to my mother."
    spans = phrase_spans(text, ["staff rude", "mother", "absent"], "en")
    assert [(text[s:e], p) for s, e, p in spans] == [
        ("staff were rude", "staff were rude"),
        ("mother", "mother"),
    ]


def test_similar_passages_are_the_closest_coded_units():
    train = ["late ambulance", "ambulance was late again", "kind staff", "staff were kind", "x"]
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [0, 0]])
    got = similar_passages(train, Y, ["the ambulance came late"], [(0, 0), (0, 1)], "en")
    # the order is by cosine similarity of TF-IDF vectors (reference: scikit-learn's cosine)
    from caseframe.suggest.text import make_vectorizer

    vec = make_vectorizer("en").fit(train)
    sims = cosine_similarity(vec.transform(["the ambulance came late"]), vec.transform(train))
    assert got[0] == [int(i) for i in np.argsort(-sims[0, :2])]
    assert got[1] == [int(2 + i) for i in np.argsort(-sims[0, 2:4]) if sims[0, 2 + i] > 0]
    assert set(got[0]) == {0, 1}


def test_reliability_in_words():
    assert reliability_words(8, 2, 0.3) == (
        "this code is suggested well: 8 in 10 accepted so far (8 of 10)"
    )
    assert reliability_words(1, 1, 0.52).startswith("this code is suggested fairly well: κ 0.52")
    assert reliability_words(1, 1, 0.52).endswith("; 2 reviewed so far")
    assert reliability_words(0, 0, None).startswith("not yet measured")


@pytest.fixture(scope="module")
def nhs_project(tmp_path_factory):
    base = tmp_path_factory.mktemp("reasons")
    folder = write_nhs_subset(base / "dataset")
    project = Project.init(base / "project")
    project.import_coded(folder)
    project.close()
    return folder, base / "project"


def _open(nhs_project, tmp_path):
    folder, src = nhs_project
    shutil.copytree(src, tmp_path / "p")
    return read_coded_dataset(folder), Project.open(tmp_path / "p")


def test_suggestions_carry_their_reasons(nhs_project, tmp_path):
    dataset, project = _open(nhs_project, tmp_path)
    try:
        docs = sorted({s.document for s in dataset.split("test")})
        run = project.suggest(codes=CODES, documents=docs)
        assert run.gated == {} and set(run.code_kappa) == set(CODES)
        frame = project.suggestions_frame(reasons=True)
        assert len(frame) == run.stored
        humans = project.codings_frame()
        with_phrases = 0
        for row in frame.itertuples():
            for p in row.phrases:  # each phrase is a piece of the suggested passage
                assert row.text[p["start"] : p["end"]] == p["text"]
            with_phrases += bool(row.phrases)
            assert 1 <= len(row.similar) <= 2
            for passage in row.similar:  # people coded those passages with the same code
                coded = humans[
                    (humans["document"] == passage["document"])
                    & (humans["start"] == passage["start"])
                ]
                assert row.code in set(coded["code"])
            assert row.reliability.startswith("this code is suggested")
            assert row.model == "supervised" and row.code_kappa == run.code_kappa[row.code]
        assert with_phrases > 0.8 * len(frame)
        # the store keeps offsets and unit ids beside a suggestion, never text
        with project.store.read() as conn:
            rows = conn.execute(t.suggestion_details.select()).mappings().all()
        assert len(rows) == run.stored
        for r in rows:
            assert all(isinstance(x, int) for pair in r["phrases"] for x in pair)
            assert all(isinstance(x, int) for x in r["similar"])
        # reviewing changes the reliability shown: 5 accepted, 0 rejected → "well"
        code = frame["code"].value_counts().index[0]
        ids = frame.loc[frame["code"] == code, "id"].tolist()[:5]
        project.review_suggestions("Ann", accept=ids)
        after = project.suggestions_frame(reasons=True)
        words = after.loc[after["code"] == code, "reliability"]
        assert (words == "this code is suggested well: 10 in 10 accepted so far (5 of 5)").all()
        # a deleted suggestion takes its details with it
        project.reject_suggestions("Ann")
    finally:
        project.close()


def test_a_code_below_the_kappa_floor_is_not_offered(nhs_project, tmp_path):
    dataset, project = _open(nhs_project, tmp_path)
    try:
        docs = sorted({s.document for s in dataset.split("test")})
        loose = project.suggest(codes=CODES, documents=docs, min_kappa=-1)
        assert loose.gated == {}
        weakest = min(loose.code_kappa, key=loose.code_kappa.get)
        floor = loose.code_kappa[weakest] + 1e-6
        strict = project.suggest(codes=CODES, documents=docs, min_kappa=floor)
        assert strict.gated == {weakest: loose.code_kappa[weakest]}
        assert strict.per_code[weakest] == 0
        assert strict.stored == loose.stored - loose.per_code[weakest]
    finally:
        project.close()


def test_kappa_per_code_is_out_of_fold_and_gating_matches_the_bench(nhs_project):
    folder, _ = nhs_project
    dataset = read_coded_dataset(folder)
    train, test = dataset.split("train"), dataset.split("test")
    labels = dataset.labels("labeller")
    Y = np.array([[c in labels[s.id] for c in dataset.code_names] for s in train], dtype=np.int8)
    Yt = np.array([[c in labels[s.id] for c in dataset.code_names] for s in test], dtype=np.int8)
    method = get_method("supervised").fit([s.text for s in train], Y, dataset.codebook)
    k = method.code_kappa_
    trained = method.trained_
    assert np.isnan(k[~trained]).all() and (np.abs(k[trained]) <= 1).all()
    # in-sample decisions agree far better than out-of-fold ones: κ is not measured in-sample
    D_in = method.predict([s.text for s in train])
    in_sample = score(Y, D_in, dataset.code_names)["per_code"]
    assert np.mean([in_sample[c]["kappa"] for c in np.array(dataset.code_names)[trained]]) > (
        np.nanmean(k) + 0.1
    )
    from caseframe.suggest.evaluate import bench_suggest

    result = bench_suggest(folder, "supervised")
    offered = set(result["gated"]["codes_offered"])
    assert offered == {c for c, v in zip(dataset.code_names, k, strict=True) if v >= 0.4}
    D = method.predict([s.text for s in test])
    keep = np.array([c in offered for c in dataset.code_names])
    want = score(Yt, D * keep, dataset.code_names)
    assert result["gated"]["micro_f1"] == pytest.approx(want["micro_f1"])
    assert 0 <= result["calibration"]["brier"] < 0.25
    _ = CodeSpec  # the codebook entries above are CodeSpec-like rows


def test_details_on_sqlite_and_postgresql(project, tmp_path):
    """The details row, the reasons read back and review, on both stores."""
    path = tmp_path / "talk.txt"
    path.write_text(
        "Interviewer: How is it paid for?\n"
        "Manager: The budget comes from project money that ends next year.\n"
        "Interviewer: And supervision?\n"
        "Manager: A psychologist gives them supervision every second week.\n",
        encoding="utf-8",
    )
    project.import_documents([path])
    project.add_code("Funding", description="Money, budget and grants for the service.")
    project.add_code("Supervision", description="Regular supervision and guidance of staff.")
    run = project.suggest("definitions", codes=["Funding", "Supervision"])
    assert run.skipped == {"interviewer": 2} and run.stored >= 2
    frame = project.suggestions_frame(reasons=True)
    funding = frame[frame["code"] == "Funding"].iloc[0]
    assert "budget" in [p["text"] for p in funding["phrases"]]
    assert funding["model"] == "definitions" and funding["threshold"] > 0
    result = project.review_suggestions("Ann", accept=frame["id"].tolist()[:1])
    assert result.accepted == 1
    after = project.suggestions_frame(status=None, reasons=True)
    assert set(after["status"]) >= {"accepted"}
