"""Suggestions stored in a project: a real NHS subset and the example study.

The project path (units from the store, labels by the overlap rule, storing, review) is checked
against the suggestion method run directly on the same texts, and the stored suggestions against
the labeller with the project's own agreement function and scikit-learn's kappa.
"""

from __future__ import annotations

import csv
import json
import shutil
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from caseframe.api import Project
from caseframe.errors import CaseframeError, Conflict, InvalidInput, NotFound
from caseframe.interop.coded_dataset import read_coded_dataset
from caseframe.suggest import CodeSpec, get_method
from caseframe.suggest.active import next_units
from caseframe.suggest.units import select_units

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
NHS = SHARED / "data" / "nhs-patient-experience" / "neas_comments.csv"
CODES = [  # the five most frequent labels of the subset, in codebook order
    "Labelling not possible",
    "Positive experience & gratitude",
    "Transport to- from services",
    "Timeliness of care",
    "Appointment arrangements",
]


def write_nhs_subset(folder: Path, n: int = 400) -> Path:
    """The first `n` non-blank NEAS comments as a coded-segment dataset: ten comments to a
    document (a project keeps one copy of a text, and many answers are just "Nothing"); every
    fifth document is split=test."""
    if not NHS.is_file():
        pytest.fail(f"{NHS} is missing: these tests need ../shared beside the repository")
    frame = pd.read_csv(NHS, dtype=str)
    frame = frame[frame["FFT answer"].fillna("").str.strip() != ""].head(n)
    columns = list(frame.columns[11:])
    # '/' separates code paths in a project, so "Transport to/ from services" loses it
    labels = [c.replace("/", "-") for c in columns]
    frame = frame.assign(document=[f"comments-{i // 10:02d}" for i in range(len(frame))])
    folder.mkdir(parents=True)
    rows = {
        "codebook.csv": (["code"], [{"code": c} for c in labels]),
        "segments.csv": (
            ["id", "text", "document", "split"],
            [
                {
                    "id": r["Comment ID"],
                    "text": " ".join(r["FFT answer"].split()),
                    "document": r["document"],
                    "split": "test" if int(r["document"][-2:]) % 5 == 0 else "train",
                }
                for _, r in frame.iterrows()
            ],
        ),
        "codings.csv": (
            ["segment_id", "coder", "code"],
            [
                {"segment_id": r["Comment ID"], "coder": "labeller", "code": c}
                for _, r in frame.iterrows()
                for c, col in zip(labels, columns, strict=True)
                if str(r[col]).strip() in {"1", "1.0"}
            ],
        ),
    }
    for name, (columns, data) in rows.items():
        with open(folder / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, columns)
            writer.writeheader()
            writer.writerows(data)
    return folder


@pytest.fixture(scope="module")
def nhs_build(tmp_path_factory):
    base = tmp_path_factory.mktemp("nhs")
    folder = write_nhs_subset(base / "dataset")
    project = Project.init(base / "project")
    project.import_coded(folder)
    project.close()
    return folder, base / "project"


@pytest.fixture
def nhs(nhs_build, tmp_path):
    folder, src = nhs_build
    shutil.copytree(src, tmp_path / "p")
    project = Project.open(tmp_path / "p")
    yield project, read_coded_dataset(folder)
    project.close()


def _split(dataset, split):
    """Segments of a split in the store's unit order (document name, then position)."""
    return sorted(dataset.split(split), key=lambda s: s.document)


def _docs(segments) -> list[str]:
    return list(dict.fromkeys(s.document for s in segments))


def _segment_ids(project) -> dict[tuple[str, int], str]:
    """(document name, unit start) -> the dataset's segment id."""
    docs = project.documents_frame()
    names = dict(zip(docs["id"], docs["name"], strict=True))
    return {(names[u.document_id], u.start): u.external_id for u in project.meaning_units()}


def _labels(dataset, segments, codes=CODES):
    labels = dataset.labels("labeller")
    return np.array([[c in labels[s.id] for c in codes] for s in segments], dtype=np.int8)


def _count_codings(project) -> int:
    return len(project.codings_frame(include_machine=True))


# -- supervised on a real subset ----------------------------------------------------------------


def test_supervised_suggestions_match_the_method_and_stay_apart(nhs):
    project, dataset = nhs
    train, test = _split(dataset, "train"), _split(dataset, "test")
    test_docs = _docs(test)
    humans = len(project.codings_frame())

    run = project.suggest(codes=CODES, documents=test_docs)

    assert run.method == "supervised" and "at least 3" in run.reason
    assert run.coder == "suggest:supervised"
    assert run.units == len(test) and run.training_units == len(train)
    # the same method fitted directly on the same texts gives the same decisions and scores
    direct = get_method("supervised").fit(
        [s.text for s in train], _labels(dataset, train), [CodeSpec(c) for c in CODES]
    )
    P = direct.predict_proba([s.text for s in test])
    D = direct.decide(P)
    stored = project.suggestions_frame(method="supervised")
    assert run.stored == len(stored) == int(D.sum()) > 0
    position = {s.id: i for i, s in enumerate(test)}
    segment = _segment_ids(project)
    got = {
        (position[segment[(r.document, r.start)]], CODES.index(r.code)): r.score
        for r in stored.itertuples()
    }
    want = {(int(u), int(j)): round(float(P[u, j]), 4) for u, j in zip(*np.nonzero(D), strict=True)}
    assert got == pytest.approx(want)
    assert set(stored["status"]) == {"suggested"}
    coders = project.coders_frame().set_index("name")
    assert coders.loc["suggest:supervised", "kind"] == "machine"
    # kept apart: codings without include_machine are the human ones only
    assert len(project.codings_frame()) == humans
    assert set(project.codings_frame()["coder"]) == {"labeller"}

    # the project's agreement between labeller and method = scikit-learn's kappa per code
    report = project.agreement(
        coders=["labeller", "suggest:supervised"], codes=CODES, documents=test_docs, bootstrap=0
    )
    Y_test = _labels(dataset, test)
    for j, code in enumerate(CODES):
        if len(set(Y_test[:, j]) | set(D[:, j])) < 2:
            continue
        assert report.code(code).values["cohen_kappa"] == pytest.approx(
            cohen_kappa_score(Y_test[:, j], D[:, j])
        )


def test_review_accepts_rejects_and_rerun_keeps_decisions(nhs):
    project, dataset = nhs
    test_docs = _docs(_split(dataset, "test"))
    first = project.suggest("supervised", codes=CODES, documents=test_docs)
    pending = project.suggestions_frame()
    a, b, c = pending["id"].tolist()[:3]

    result = project.review_suggestions("Reviewer", accept=[a, b], reject=[c])

    assert (result.accepted, result.rejected, result.codings_created) == (2, 1, 2)
    mine = project.codings_frame(coders=["Reviewer"])
    assert len(mine) == 2
    by_id = project.suggestions_frame(status=None).set_index("id")
    assert by_id.loc[[a, b], "status"].tolist() == ["accepted", "accepted"]
    assert by_id.loc[c, "status"] == "rejected"  # kept, marked
    for s in (a, b):  # the reviewer's coding has the suggestion's range and code
        row = by_id.loc[s]
        assert ((mine["start"] == row["start"]) & (mine["code"] == row["code"])).any()
    assert set(mine["status"]) == {"final"} and set(mine["coder_kind"]) == {"human"}
    with pytest.raises(Conflict, match="already accepted"):
        project.review_suggestions("Reviewer", accept=[a])
    with pytest.raises(NotFound, match=f"no suggestion {mine['id'].iloc[0]}"):
        project.review_suggestions("Reviewer", reject=[int(mine["id"].iloc[0])])
    with pytest.raises(InvalidInput, match="machine coder"):
        project.review_suggestions("suggest:supervised", accept=[pending["id"].iloc[3]])

    # same training data -> same suggestions; reviewed pairs are not suggested again
    again = project.suggest("supervised", codes=CODES, documents=test_docs)
    assert again.replaced == first.stored - 3
    assert again.kept_reviewed == 3 and again.stored == first.stored - 3
    assert len(project.suggestions_frame(status=None)) == first.stored

    # bulk decisions by selection
    high = project.suggestions_frame(min_score=0.9)
    done = project.accept_suggestions("Reviewer", min_score=0.9)
    assert done.accepted == len(high)
    rest = project.reject_suggestions("Reviewer")
    assert rest.rejected == first.stored - 3 - len(high)
    assert project.suggestions_frame().empty


def test_suggest_next_ranks_uncoded_units_like_next_units(nhs):
    project, dataset = nhs
    train, test = _split(dataset, "train"), _split(dataset, "test")
    frame = project.suggest_next(8, codes=CODES, documents=_docs(test))

    direct = get_method("supervised").fit(
        [s.text for s in train], _labels(dataset, train), [CodeSpec(c) for c in CODES]
    )
    counts = _labels(dataset, train).sum(axis=0)
    want = next_units(direct, [s.text for s in test], counts, 8)
    segment = _segment_ids(project)
    got = [segment[(r.document, r.start)] for r in frame.itertuples()]
    assert got == [test[i].id for i, _ in want]
    assert frame["priority"].tolist() == pytest.approx([round(p, 3) for _, p in want])
    assert frame["why"].str.startswith("uncertain: ").all()
    assert _count_codings(project) == len(project.codings_frame())  # nothing stored


# -- bad input ------------------------------------------------------------------------------


def test_too_few_codings_for_supervised_says_how_many_more(nhs):
    project, dataset = nhs
    train = _split(dataset, "train")
    Y = _labels(dataset, train, dataset.code_names)
    rare = [c for c, k in zip(dataset.code_names, Y.sum(axis=0), strict=True) if 0 < k < 3]
    assert rare, "the subset should have codes with one or two training codings"
    k = int(Y[:, dataset.code_names.index(rare[0])].sum())
    docs = _docs(_split(dataset, "test"))
    with pytest.raises(InvalidInput, match=rf"{rare[0]} \({3 - k} more\)"):
        project.suggest("supervised", codes=[rare[0]], documents=docs)
    # with learnable codes beside it, the rare one is left out and reported
    run = project.suggest("supervised", codes=[CODES[0], rare[0]], documents=docs)
    assert run.untrained == {rare[0]: 3 - k}
    assert run.per_code[rare[0]] == 0


def test_codes_without_definitions_are_named(nhs):
    project, dataset = nhs
    docs = _docs(_split(dataset, "test"))
    before = _count_codings(project)
    with pytest.raises(InvalidInput, match="have no definition.*Timeliness of care"):
        project.suggest("definitions", codes=CODES, documents=docs)
    # chosen automatically (too few codings), both reasons are given
    rare = ["Service location", "Provision of medical equipment"]
    with pytest.raises(InvalidInput, match="not with 'supervised', as .*no definition"):
        project.suggest(codes=rare, documents=docs)
    assert _count_codings(project) == before


def test_missing_framework_codes_say_how_to_add_them(nhs):
    project, _ = nhs
    with pytest.raises(NotFound, match="caseframe codes add-framework sis"):
        project.suggest(framework="sis")
    with pytest.raises(InvalidInput, match="not both"):
        project.suggest(framework="sis", codes=CODES)
    with pytest.raises(NotFound, match="no suggestion method 'magic'"):
        project.suggest("magic", codes=CODES)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Answers(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint: a valid answer first, then a malformed one."""

    calls = 0

    def do_POST(self):  # noqa: N802 (http.server naming)
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls += 1
        content = '{"codes": []}' if type(self).calls == 1 else "it is about transport"
        body = json.dumps({"choices": [{"message": {"content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_llm_unreachable_or_malformed_stores_nothing(nhs):
    project, dataset = nhs
    docs = _docs(_split(dataset, "test"))[:1]
    project.suggest("supervised", codes=CODES, documents=docs)
    before = project.codings_frame(include_machine=True)
    dead = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(CaseframeError, match="cannot use the language-model endpoint"):
        project.suggest("llm", codes=CODES, documents=docs, options={"base_url": dead})
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        with pytest.raises(InvalidInput, match="malformed answer .* unit 2"):
            project.suggest("llm", codes=CODES, documents=docs, options={"base_url": url})
    finally:
        server.shutdown()
    after = project.codings_frame(include_machine=True)
    assert after["id"].tolist() == before["id"].tolist()
    assert "suggest:llm" not in set(project.coders_frame()["name"])


# -- the example study: zero-shot SIS, analyses ignore suggestions -----------------------------


def test_zero_shot_sis_suggestions_on_the_example(example_copy):
    project = example_copy
    project.add_framework_codes("sis")
    run = project.suggest(framework="sis")

    assert run.method == "definitions" and run.reason == "no human-coded units of these codes yet"
    assert run.documents == 18 and run.training_units == 0 and run.stored > 0
    fw = project.framework("sis")
    assert len(run.codes) == len(fw.components)
    # the same zero-shot method on the same unit texts, with the components as the codebook
    units = project.meaning_units(scheme="turn")
    docs = {d: project.document(d).text for d in {u.document_id for u in units}}
    names = {d.id: d.name for d in (project.document(i) for i in docs)}
    units = sorted(units, key=lambda u: (names[u.document_id], u.start, u.id))
    # the units a method reads: labels blanked; headings, interviewer turns, short units skipped
    picked = select_units(
        [docs[u.document_id][u.start : u.end] for u in units],
        [u.speaker for u in units],
        ["turn"] * len(units),
    )
    assert picked.skipped["heading"] == 18 and picked.skipped["short"] > 0
    assert run.skipped == picked.skipped
    units = [units[i] for i in picked.keep]
    texts = [picked.texts[i] for i in picked.keep]
    assert not any(t.lstrip().startswith(("A1:", "B10:")) for t in texts)
    book = [
        CodeSpec(c.name, c.definition, tuple(c.examples), tuple(c.keywords)) for c in fw.components
    ]
    method = get_method("definitions").fit(texts, None, book)
    P = method.predict_proba(texts)
    D = method.decide(P)
    stored = project.suggestions_frame(method="definitions")
    where = {(names[u.document_id], u.start): i for i, u in enumerate(units)}
    got = {(where[(r.document, r.start)], r.code): r.score for r in stored.itertuples()}
    want = {
        (int(u), book[j].code): round(float(P[u, j]), 4)
        for u, j in zip(*np.nonzero(D), strict=True)
    }
    assert got == pytest.approx(want)
    # no suggestion on a heading, and the scores differ from unit to unit
    assert not (stored["start"] == 0).any()
    assert stored["score"].nunique() > len(stored) // 2


def test_analyses_ignore_suggestions_unless_asked(example_copy):
    project = example_copy
    category = "The PSW in the working team"
    quotes = project.quotes_frame(category)
    matrix = project.matrix("respondent", "categories")
    # both codes fall below the κ floor on the example's codings, so the floor is lowered here
    # (this test is about what analyses show, not about which codes are offered)
    run = project.suggest(
        "definitions",
        codes=[category, "Continuous support"],
        documents=["A1.txt", "B8.txt"],
        min_kappa=0.0,
    )
    assert run.stored > 0

    pd.testing.assert_frame_equal(project.quotes_frame(category), quotes)
    pd.testing.assert_frame_equal(project.matrix("respondent", "categories"), matrix)
    with_machine = project.quotes_frame(category, include_machine=True)
    assert len(with_machine) == len(quotes) + run.per_code[category]
    # agreement counts independent human coders only: the machine coder is never counted
    # unless named, and the example's consensus coder is not independent
    with pytest.raises(InvalidInput, match="no independent human coder"):
        project.agreement()
    asked = project.agreement(
        coders=["Grim et al. (consensus)", "suggest:definitions"],
        codes=[category],
        documents=["A1.txt", "B8.txt"],
        bootstrap=0,
    )
    assert asked.coders == ["Grim et al. (consensus)", "suggest:definitions"]
    # every document has human codings of some category: by default there is nothing to do
    with pytest.raises(InvalidInput, match="already has human codings"):
        project.suggest()
