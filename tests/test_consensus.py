"""The consensus coder: rules on real AnnoMI codings, pending units, resolution, originals kept."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from caseframe.api import Project
from caseframe.errors import Conflict, InvalidInput, NotFound
from support import annomi_dataset

CONVERSATIONS = [7, 27]  # two of AnnoMI's ten-coder conversations
TRIO = ["expert0", "expert1", "expert2"]


@pytest.fixture
def annomi(shared, tmp_path):
    """Two AnnoMI conversations, ten experts, one label per turn; returns (project, labels)."""
    folder = tmp_path / "ds"
    labelled, _units = annomi_dataset(shared, folder, CONVERSATIONS)
    project = Project.init(tmp_path / "proj")
    project.import_coded(folder)
    yield project, labelled
    project.close()


def originals(project: Project) -> pd.DataFrame:
    frame = project.codings_frame()
    frame = frame[frame["coder"].str.startswith("expert")]
    return frame.drop(columns=["cases"]).sort_values("id").reset_index(drop=True)


def unit_key(project: Project) -> dict[tuple[str, int], str]:
    """(document, start) -> AnnoMI unit id, to compare with the raw CSV."""
    return {
        (project.document(u.document_id).name, u.start): u.external_id
        for u in project.meaning_units(scheme="imported")
    }


def test_majority_consensus_matches_raw_votes_and_keeps_originals(annomi):
    project, labelled = annomi
    before = originals(project)
    result = project.consensus(TRIO, as_coder="consensus", rule="majority")
    pd.testing.assert_frame_equal(before, originals(project))  # nothing of the originals changed

    # expected: a label applied where 2 or 3 of the trio chose it (each coder one label per turn)
    trio = labelled[labelled["annotator_id"].isin([0, 1, 2])]
    votes = Counter(zip(trio["unit"], trio["label"], strict=True))
    expected = {key for key, n in votes.items() if n >= 2}
    written = project.codings_frame(coders=["consensus"])
    keys = unit_key(project)
    got = {(keys[(r.document, r.start)], r.code) for r in written.itertuples()}
    assert got == expected
    assert result.codings == len(expected)
    # no ties with three coders and one label each: nothing unresolved
    assert result.unresolved.empty
    assert project.consensus_coders()["consensus"]["from"] == TRIO
    # the consensus coder is left out of default agreement, and can be named
    assert "consensus" not in project.agreement_matrix().coders
    assert project.agreement_matrix(coders=["consensus", "expert0"]).coders[0] == "consensus"


def test_unanimous_leaves_disagreements_for_resolution(annomi, tmp_path):
    project, labelled = annomi
    pair = ["expert0", "expert1"]
    disagreements = project.agreement_disagreements(coders=pair)
    result = project.consensus(pair, as_coder="agreed", rule="unanimous")
    assert len(result.unresolved) == len(disagreements) > 0
    assert set(result.unresolved["reason"]) == {"coders disagree"}
    pending = project.consensus_pending("agreed")
    assert len(pending) == len(disagreements)

    # one decision from the command line ...
    first = pending.iloc[0]
    assert project.resolve_consensus(first["unit"], first["code"], "apply", "agreed") == "applied"
    coded = project.codings_frame(coders=["agreed"])
    assert ((coded["code"] == first["code"]) & (coded["start"] == first["start"])).any()
    assert len(project.consensus_pending("agreed")) == len(pending) - 1
    # ... and the rest from an edited list; a bad row stores nothing
    rest = project.consensus_pending("agreed")
    rest["decision"] = "skip"
    rest.loc[rest.index[0], "decision"] = "maybe"
    bad = tmp_path / "decisions.csv"
    rest.to_csv(bad, index=False)
    with pytest.raises(InvalidInput, match=r"decisions.csv:2: unknown decision 'maybe'"):
        project.resolve_consensus_file(bad, "agreed")
    assert len(project.consensus_pending("agreed")) == len(rest)
    rest.loc[rest.index[0], "decision"] = "apply"
    good = tmp_path / "decisions.xlsx"
    rest.to_excel(good, index=False)
    assert project.resolve_consensus_file(good, "agreed") == len(rest)
    assert project.consensus_pending("agreed").empty
    # every unit is now settled: the consensus coder counts as having coded both documents
    assert project.agreement_matrix(coders=["agreed", "expert0"]).seen.all()


def test_union_and_guards(annomi):
    project, labelled = annomi
    pair = ["expert0", "expert1"]
    result = project.consensus(pair, as_coder="either", rule="union")
    pair_rows = labelled[labelled["annotator_id"].isin([0, 1])]
    assert result.codings == len(set(zip(pair_rows["unit"], pair_rows["label"], strict=True)))
    with pytest.raises(Conflict, match="already has"):
        project.consensus(pair, as_coder="either", rule="union")
    again = project.consensus(pair, as_coder="either", rule="unanimous", replace=True)
    assert len(project.codings_frame(coders=["either"])) == again.codings < result.codings
    with pytest.raises(InvalidInput, match="one of the coders"):
        project.consensus(pair, as_coder="expert0")
    with pytest.raises(Conflict, match="codings of their own"):
        project.consensus(pair, as_coder="expert5")
    with pytest.raises(InvalidInput, match="unknown consensus rule"):
        project.consensus(pair, rule="plurality")
    with pytest.raises(InvalidInput, match="at least two coders"):
        project.consensus(["expert0"])
    with pytest.raises(NotFound, match="no consensus coder 'nobody'"):
        project.resolve_consensus(1, "other", "apply", "nobody")
    with pytest.raises(NotFound, match="unknown meaning unit"):
        project.resolve_consensus(10**6, "other", "apply", "either")
