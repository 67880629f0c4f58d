"""End-to-end in Chromium: suggestions beside the transcript (Accept makes a coding, shown as
a highlight) and the site profiles page, whose inline styles its own policy allows."""

from __future__ import annotations

import shutil

import pytest

from caseframe.api import Project
from caseframe.example_study import load_example_ratings
from test_web_browser import PASSWORDS, ROLES, _chromium, open_document, sign_in
from test_web_features import add_interview


@pytest.fixture(scope="module")
def server(example_build, tmp_path_factory):
    """The example study with ratings and a transcript with pending suggestions, served by
    uvicorn in a thread (as in test_web_browser)."""

    from caseframe.web import create_app
    from support import served

    _chromium()  # skip before any work when there is no browser
    folder = tmp_path_factory.mktemp("browser-features")
    example_build.project.store.engine.dispose()
    shutil.copytree(example_build.out / "project", folder / "project")
    project = Project.open(folder / "project")
    for name, role in ROLES.items():
        project.add_user(name, PASSWORDS[name], role)
    load_example_ratings(project)
    doc = add_interview(project, folder)
    with served(create_app(project=project)) as url:
        yield {"url": url, "project": project, "interview": doc}
    project.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = _chromium()
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def test_accepting_a_suggestion_turns_it_into_a_highlight(browser, server):
    project, doc = server["project"], server["interview"]
    expect = _chromium().expect
    waiting = project.suggestions_frame(document=doc)
    ctx, page = sign_in(browser, server, "carl")
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    open_document(page, server, doc)
    items = page.locator("#suggestions li.suggestion")
    expect(items).to_have_count(len(waiting))
    assert page.locator("#transcript span.seg.sug").count() >= 1
    assert page.locator("#transcript span.seg.hl").count() == 0  # nothing coded here yet
    # the dashed outline is the suggestions' own look, not a coder's colour
    outline = page.eval_on_selector(
        "#transcript span.seg.sug", "e => getComputedStyle(e).outlineStyle"
    )
    assert outline == "dashed"
    # the toggle hides them from the text, like a coder's box
    page.uncheck("#show-suggestions")
    assert page.locator("#transcript span.seg.sug").count() == 0
    page.check("#show-suggestions")

    first = waiting.iloc[0]
    items.first.locator("button.accept").click()
    expect(items).to_have_count(len(waiting) - 1)
    page.wait_for_selector("#transcript span.seg.hl")
    highlighted = page.eval_on_selector_all(
        "#transcript span.seg.hl", "els => els.map(e => e.textContent).join('')"
    )
    text = project.document(doc).text
    assert highlighted == text[first["start"] : first["end"]]
    mine = project.codings_frame(documents=[doc], coders=["carl"])
    assert mine["code"].tolist() == [first["code"]]
    assert page.locator("#codings li[data-coding]").count() == 1
    assert problems == []
    ctx.close()

    # a viewer sees the suggestions but has no buttons
    ctx, page = sign_in(browser, server, "vera")
    open_document(page, server, doc)
    expect(page.locator("#suggestions li.suggestion")).to_have_count(len(waiting) - 1)
    assert page.locator("#suggestions button").count() == 0
    ctx.close()


def test_profiles_render_with_their_styles(browser, server):
    ctx, page = sign_in(browser, server, "vera")
    blocked = []
    page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
    page.goto(server["url"] + "/profiles?site=A-S4")
    frame = page.frame_locator("#profile-frame")
    _chromium().expect(frame.locator("#site-A-S4")).to_be_visible()
    # the page's inline <style> applied (the body is centred at 1100px) and its SVG drawn
    width = frame.locator("body").evaluate("b => getComputedStyle(b).maxWidth")
    assert width == "1100px"
    assert frame.locator("svg").count() >= 1
    assert blocked == []
    # the frame grew to its content: one site and the cross-site heatmap, not every site's
    # details (all 16 sites were 43,000 px)
    height = page.eval_on_selector("#profile-frame", "f => f.getBoundingClientRect().height")
    assert 600 < height < 8000
    heat_rows = frame.locator("svg text[font-weight='700']")
    _chromium().expect(heat_rows).to_have_text("A-S4")  # its row stands out in the heatmap
    assert blocked == []
    ctx.close()


def test_profiles_site_selector_and_overview(browser, server):
    expect = _chromium().expect
    ctx, page = sign_in(browser, server, "vera")
    page.goto(server["url"] + "/profiles")
    frame = page.frame_locator("#profile-frame")
    # the overview: every site a row of the ranking, no site's details
    expect(frame.locator("#site-B-S3")).to_be_visible()
    assert frame.locator("section.site").count() == 0
    overview = page.eval_on_selector("#profile-frame", "f => f.getBoundingClientRect().height")
    assert overview < 8000
    # choosing a site in the selector shows that site alone
    page.select_option("#profile-select select[name=site]", "B-S3")
    page.click("#profile-select button[type=submit]")
    page.wait_for_url("**/profiles?site=B-S3&framework=sis")
    expect(frame.locator("#site-B-S3")).to_be_visible()
    assert frame.locator("section.site").count() == 1
    # a site's name in the overview opens that site's page in the workspace
    last = server["project"].site_profiles("sis").profiles[-1].site
    page.goto(server["url"] + "/profiles")
    frame.locator(f"#site-{last} a").click()
    page.wait_for_url(f"**/profiles?site={last}&framework=sis")
    expect(page.locator("#profile-sites b")).to_have_text(last)
    ctx.close()


def test_matrix_cells_open_their_quotes(browser, server):
    expect = _chromium().expect
    project = server["project"]
    ctx, page = sign_in(browser, server, "vera")
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.goto(server["url"] + "/matrix?rows=region&cols=framework&framework=sis")
    # headers: the component id with its name, the full name on hover
    o10 = page.locator("#matrix thead th[title^='O10 ']")
    name = project.framework("sis").component("O10").name
    assert o10.get_attribute("title") == f"O10 {name}"
    expect(o10.locator(".cid")).to_have_text("O10")
    # heat colours come from the stylesheet (the workspace allows no inline styles)
    counts = project.matrix("region", "sis", "count")
    top = counts.to_numpy().max()
    region, comp = [(r, c) for r in counts.index for c in counts.columns if counts.at[r, c] == top][
        0
    ]
    hottest = page.locator("#matrix td.heat-5").first
    colour = hottest.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(33, 113, 181)"  # the darkest step, dark enough for white text (axe)
    # totals: rows and columns add up to what the API counts
    footer = page.locator("#matrix tfoot td.total").all_text_contents()
    assert [int(v) for v in footer] == [*counts.sum().tolist(), int(counts.to_numpy().sum())]
    # a click on a count opens the quotes of that cell
    page.locator(f"#matrix td a[href*='row={region}&column={comp}&']").click()
    page.wait_for_url("**/matrix/cell?**")
    quotes = project.matrix("region", "sis", "quotes").at[region, comp].split("\n")
    expect(page.locator("#cell-quotes li")).to_have_count(len(quotes))
    # quote cells are clipped, "show all" opens the rest
    page.goto(server["url"] + "/matrix?rows=region&cols=categories&cell=quotes")
    clipped = page.locator("#matrix td.quotes details").first
    assert clipped.locator("p").first.is_visible() is False
    clipped.locator("summary").click()
    assert clipped.locator("p").first.is_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width < 2000  # the page no longer runs 3,855 px wide (the table scrolls inside)
    assert problems == []
    ctx.close()
