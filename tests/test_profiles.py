"""Site profiles: scores by hand, maxima enforced, states, risks, change, cross-site views,
rating agreement against reference values, suggestions by hand, and the written reports."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

from caseframe.analysis.profiles import (
    Resolved,
    build_profile,
    group_scores,
    heatmap_frame,
    ordinal_alpha,
    ranking_frame,
    rating_agreement,
    score_levels,
    state_of,
    weighted_kappa,
)
from caseframe.analysis.rating_suggestions import Evidence, propose_rating
from caseframe.errors import InvalidInput
from caseframe.frameworks.loader import builtin_framework
from caseframe.model import Scale

SIS = builtin_framework("sis")
SCALE = SIS.scale
nan = np.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x
# 12 units with missing values. Published: ordinal alpha = 0.815 (nominal 0.743).
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)


def res(value):
    return Resolved(value, False, ("R",), "", ())


def test_sis_structure_and_maxima():
    assert SCALE.minimum == 0 and SCALE.maximum == 3
    assert SIS.level_maxima == {
        "Organisational level": 36,
        "Team level": 21,
        "Continuous support": 15,
    }
    full = {c.key: 3 for c in SIS.components}
    levels, total, total_max = score_levels(SIS, full)
    assert [lv.score for lv in levels] == [36, 21, 15]
    assert total == 72 and total_max == 72


def test_scores_by_hand_small_case():
    # O1=2, O10=0, O4=3 -> organisational 5; T7=1 -> team 1; C2=2, C1=3 -> continuous 5
    ratings = {"O1": 2, "O10": 0, "O4": 3, "T7": 1, "C2": 2, "C1": 3}
    levels, total, total_max = score_levels(SIS, ratings)
    by = {lv.level: lv for lv in levels}
    assert by["Organisational level"].score == 5 and by["Organisational level"].rated == 3
    assert by["Team level"].score == 1 and by["Team level"].rated == 1
    assert by["Continuous support"].score == 5 and by["Continuous support"].components == 5
    assert total == 11 and total_max == 72
    assert not by["Team level"].complete


def test_scores_refuse_off_scale_and_unknown_components():
    with pytest.raises(InvalidInput, match="outside the scale"):
        score_levels(SIS, {"O1": 4})
    with pytest.raises(InvalidInput, match="unknown component 'X9'"):
        score_levels(SIS, {"X9": 1})


def test_states_on_the_sis_scale_and_on_a_seven_point_scale():
    assert [state_of(v, SCALE) for v in (None, 0, 1, 2, 3)] == [
        "not rated",
        "absent",
        "weak",
        "strong",
        "full",
    ]
    psat = Scale(1, 7)
    assert [state_of(v, psat) for v in (1, 2, 3, 4, 5, 7)] == [
        "absent",
        "weak",
        "weak",
        "partial",
        "strong",
        "full",
    ]


def test_profile_risks_change_and_key_questions():
    before = {c.key: res(2) for c in SIS.components}
    now = {**before, "O10": res(0), "C2": res(1), "T7": res(3)}
    p = build_profile(SIS, "S1", "Site 1", now, date(2018, 12, 1), before, date(2017, 6, 1))
    assert p.total == 2 * 24 - 2 - 1 + 1 == 46
    assert p.previous_total == 48 and p.total_change == -2
    assert [c.component for c in p.missing] == ["O10"]
    assert [c.component for c in p.weak] == ["C2"]
    assert "No financial strategy beyond the project end (O10)" in p.risks
    assert any(r.startswith("Supervision for the staff") and "only partly" in r for r in p.risks)
    assert any("fell from 2 to 0 since 2017-06-01" in r for r in p.risks)
    answers = {comp: a for _q, comp, a in p.key_questions}
    assert answers["O10"] == "no" and answers["C2"] == "partly" and answers["T7"] == "yes"
    assert p.to_dict()["changes"] == {"O10": -2.0, "C2": -1.0, "T7": 1.0}


def test_custom_risk_wording_and_incomplete_profile():
    p = build_profile(
        SIS,
        "S1",
        "Site 1",
        {"C2": res(0)},
        date(2020, 1, 1),
        risks={"C2": "supervision for the peer support worker"},
    )
    assert "No supervision for the peer support worker (C2)" in p.risks
    assert "23 of 24 components not rated: the scores are incomplete" in p.risks


def test_cross_site_views():
    a = build_profile(
        SIS, "A", "A", {"O1": res(3), "T1": res(1)}, date(2020, 1, 1), groups={"region": "North"}
    )
    b = build_profile(
        SIS, "B", "B", {"O1": res(1), "T1": res(3)}, date(2020, 1, 1), groups={"region": "North"}
    )
    c = build_profile(SIS, "C", "C", {"O1": res(0)}, date(2020, 1, 1), groups={"region": "South"})
    ranking = ranking_frame([c, b, a])
    assert list(ranking["site"]) == ["A", "B", "C"]  # ties keep key order
    assert list(ranking["rank"]) == [1, 1, 3]
    heat = heatmap_frame([a, b, c], SIS)
    assert heat.shape == (3, 24) and heat.loc["B", "T1"] == 3 and pd.isna(heat.loc["C", "T1"])
    groups = group_scores([a, b, c], "region", SIS).set_index("group")
    assert groups.loc["North", "sites"] == 2
    assert groups.loc["North", "Organisational level"] == 2.0  # (3 + 1) / 2
    assert groups.loc["North", "total"] == 4.0 and groups.loc["South", "total"] == 0.0


# --------------------------------------------------------------------------- agreement


def test_weighted_kappa_matches_the_formula_by_hand():
    a = [0, 1, 2, 3, 3, 2, 1, 0, 2, 3]
    b = [0, 2, 2, 3, 2, 2, 0, 0, 3, 3]
    k = 4
    observed = np.zeros((k, k))
    for x, y in zip(a, b, strict=True):
        observed[x, y] += 1
    observed /= observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    w = np.array([[(i - j) ** 2 for j in range(k)] for i in range(k)], dtype=float)
    by_hand = 1 - (w * observed).sum() / (w * expected).sum()
    assert weighted_kappa(a, b, SCALE).value == pytest.approx(by_hand, abs=1e-12)


def test_ordinal_alpha_published_example():
    result = ordinal_alpha(KRIPPENDORFF_2011, Scale(1, 5))
    assert round(result.value, 3) == 0.815


def test_rating_agreement_summary_and_degenerate_cases():
    paired = pd.DataFrame(
        {
            "site": ["S1"] * 4 + ["S2"] * 2,
            "assessed_on": [date(2020, 1, 1)] * 6,
            "component": ["O1", "O2", "O3", "O4", "O1", "O2"],
            "a": [0, 1, 2, 3, 3, 2],
            "b": [0, 1, 3, 3, 1, 2],
        }
    )
    result = rating_agreement(paired, ("A", "B"), SCALE)
    assert result.units == 6
    assert result.exact.value == pytest.approx(4 / 6)
    assert result.within_one == pytest.approx(5 / 6)
    from sklearn.metrics import cohen_kappa_score

    assert result.cohen_kappa.value == pytest.approx(cohen_kappa_score(paired.a, paired.b))
    per = result.per_site.set_index("site")
    assert per.loc["S1", "exact"] == 0.75 and per.loc["S2", "mean_abs_difference"] == 1.0
    assert list(result.disagreements["component"]) == ["O3", "O1"]
    same = weighted_kappa([2, 2, 2], [2, 2, 2], SCALE)
    assert same.value is None and "same value" in same.reason


# --------------------------------------------------------------------------- suggestions


def ev(i, valence, who):
    return Evidence(i, "code", valence, (who,), f"text {i}")


def test_suggestion_rules_by_hand():
    none = propose_rating("S", "O10", "Financial strategy", "O", [], SCALE)
    assert none.rating is None and "no coded passage" in none.reasons[0]
    neutral = propose_rating("S", "O10", "F", "O", [ev(1, None, "A1")], SCALE)
    assert neutral.rating is None
    # 2 facilitators (A1, A2), 1 barrier, 1 mixed: (2 + 0.5) / 4 = 0.625 -> 1.875 -> 2
    mixed = [
        ev(1, "facilitator", "A1"),
        ev(2, "facilitator", "A2"),
        ev(3, "barrier", "A1"),
        ev(4, "mixed", "A2"),
    ]
    s = propose_rating("S", "C2", "Supervision", "C", mixed, SCALE)
    assert s.rating == 2 and s.evidence_ids == [1, 2, 3, 4]
    assert "2 facilitator, 1 barrier, 1 mixed" in s.reasons[0]
    # an even split (0.5 -> 1.5) rounds down to 1
    assert (
        propose_rating(
            "S", "C2", "S", "C", [ev(1, "facilitator", "A1"), ev(2, "barrier", "A2")], SCALE
        ).rating
        == 1
    )
    # all barriers -> 0
    assert propose_rating("S", "C2", "S", "C", [ev(1, "barrier", "A1")], SCALE).rating == 0
    # all facilitators from one respondent: capped below the top
    one = propose_rating(
        "S", "C2", "S", "C", [ev(1, "facilitator", "A1"), ev(2, "facilitator", "A1")], SCALE
    )
    assert one.rating == 2 and "capped" in one.reasons[-1]
    two = propose_rating(
        "S", "C2", "S", "C", [ev(1, "facilitator", "A1"), ev(2, "facilitator", "A2")], SCALE
    )
    assert two.rating == 3


# --------------------------------------------------------------------------- example study


@pytest.fixture
def rated(example_copy):
    from caseframe.example_study import load_example_ratings

    assert load_example_ratings(example_copy) == 480
    return example_copy


def test_example_profiles_scores_match_the_csv(rated):
    from caseframe.example_study import example_data_dir

    csv = pd.read_csv(example_data_dir() / "ratings.csv")
    latest = csv[csv["assessed_on"] == csv.groupby("site")["assessed_on"].transform("max")]
    expected = latest.groupby("site")["rating"].sum()
    sites = rated.site_profiles("sis")
    assert len(sites.profiles) == 16
    assert {p.site: p.total for p in sites.profiles} == expected.astype(float).to_dict()
    a5 = sites.profile("A-S5")
    assert a5.previous_on == date(2017, 6, 1) and a5.assessed_on == date(2018, 12, 1)
    before = csv[(csv.site == "A-S5") & (csv.assessed_on == "2017-06-01")]["rating"].sum()
    assert a5.previous_total == before
    assert sites.groupings == ["region", "setting"]
    assert a5.groups == {"region": "Region A", "setting": "municipal social psychiatry"}
    assert "illustrative" in sites.notice.lower()
    # at the first time point the service of A5 had no supervision (the paper's one such case)
    early = rated.site_profile("A-S4", at="2017-12-31")
    assert early.assessed_on == date(2017, 6, 1) and early.previous_on is None
    assert "No supervision for the peer support worker (C2)" in early.risks


def test_example_suggestions_use_mapped_categories(rated):
    suggestions = {s.component: s for s in rated.suggest_ratings("A-S1")}
    codings = rated.codings_frame()
    a1a2 = codings[codings["cases"].isin(["A1", "A2"])]
    # O4 is mapped from three categories; every A1/A2 coding of them is evidence
    o4_codes = {
        "The working role of the PSW",
        "The PSW in the client work",
        "The PSW in the working team",
    }
    expected = set(a1a2[a1a2["code"].isin(o4_codes)]["id"])
    assert set(suggestions["O4"].evidence_ids) == expected and expected
    assert suggestions["T6"].rating is None  # nothing mapped to feedback to financiers
    assert rated.assessments_frame(status="suggested").empty  # suggesting stores nothing


def test_write_profiles_html_md_xlsx(rated, tmp_path):
    html = rated.write_profiles("html", tmp_path / "p.html").read_text(encoding="utf-8")
    assert "<svg" in html and not re.search(r'(src|href)="(https?:)?//', html)  # offline
    assert "Illustrative ratings" in html and "A-S5" in html
    assert "No financial strategy beyond the project end (O10)" in html
    md = rated.write_profiles("md", tmp_path / "p.md", site="A-S4").read_text(encoding="utf-8")
    assert md.count("## ") == 1 and "Change" in md and "C2 Supervision: 0 → 2" in md
    xlsx = rated.write_profiles("xlsx", tmp_path / "p.xlsx")
    sheets = pd.read_excel(xlsx, sheet_name=None)
    assert {"ranking", "heatmap", "components", "risks", "by region", "by setting"} <= set(sheets)
    assert len(sheets["components"]) == 16 * 24
    with pytest.raises(InvalidInput, match="unknown format"):
        rated.write_profiles("pdf", tmp_path / "p.pdf")


def test_profiles_summary_and_page(rated):
    from caseframe.reports.profiles import profile_page

    summary = rated.profiles_summary()
    assert summary["sites"] == 16 and summary["href"] == "profiles.html"
    assert summary["total_max"] == 72 and summary["common_absent"][0]["sites"] == 16
    assert "16 site(s) rated" in summary["text"]
    page = profile_page(rated, "B-S4")
    assert page.startswith("<!DOCTYPE html>") and "B-S4" in page and 'id="site-B-S3"' not in page


def test_profile_page_without_ratings_is_a_clear_error(project):
    import pytest

    from caseframe.errors import InvalidInput
    from caseframe.reports.profiles import profile_page

    with pytest.raises(InvalidInput, match="no site has a sis assessment yet"):
        profile_page(project)


def _cells(svg_html: str) -> dict[tuple[str, str], str]:
    """(row, column name) → label, from the <title> of each grid cell of the page's heatmaps."""
    import html
    import re

    found = re.findall(r"<rect [^>]*><title>([^<]*) · ([^<]*): ([^<]*)</title></rect>", svg_html)
    return {(html.unescape(r), html.unescape(c)): html.unescape(v) for r, c, v in found}


def test_web_page_shows_one_site_with_the_cross_site_heatmap(rated):
    from caseframe.analysis.profiles import heatmap_frame
    from caseframe.reports.profiles import profile_page

    sites = rated.site_profiles("sis")
    fw = sites.framework
    page = profile_page(rated, "A-S4")
    assert page.count('class="site"') == 1 and 'id="site-A-S4"' in page
    # the heatmap covers every site, each cell the site's current rating
    cells = _cells(page)
    heat = heatmap_frame(sites.profiles, fw)
    for site in heat.index:
        for comp in fw.components:
            value = heat.loc[site, comp.key]
            shown = cells[(site, f"{comp.key} {comp.name}")]
            assert shown == ("·" if pd.isna(value) else f"{value:g}"), (site, comp.key)
    assert 'font-weight="700">A-S4<' in page  # the chosen site's row stands out
    # the overview: every site as a row of the ranking, no site's details
    overview = profile_page(rated)
    assert 'class="site"' not in overview
    assert all(f'id="site-{p.site}"' in overview for p in sites.profiles)
    assert 'href="/profiles?site=A-S4&amp;framework=sis" target="_top"' in overview
    assert "<blockquote" not in overview and "<details" not in overview  # no evidence lists


def test_profile_charts_are_drawn_without_matplotlib(rated, tmp_path):
    """The pages draw their SVG from the data: no matplotlib import, so no seconds of start-up."""
    import subprocess
    import sys

    code = (
        "import sys; from caseframe.api import Project; "
        "from caseframe.reports.profiles import profile_page; "
        f"p = Project.open({str(rated.root)!r}); profile_page(p, 'A-S4'); profile_page(p); "
        f"p.write_profiles('html', {str(tmp_path / 'p.html')!r}); "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_framework_typo_names_the_closest(rated):
    from caseframe.errors import NotFound

    with pytest.raises(NotFound, match=r"unknown framework 'sls'.*did you mean 'sis'"):
        rated.site_profiles("sls")
    with pytest.raises(NotFound, match=r"rater 'illustrativ' has no sis.*'illustrative'"):
        rated.assessment_agreement(raters=["illustrativ", "KG"])
