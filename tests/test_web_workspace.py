"""The coding workspace in a real browser (Debian's Chromium, Playwright), at 1440×900.

A whole session by keyboard on a real transcript (PDPilot P1): find, code the hit through the
picker by a component id, see the stripe, undo and redo, write a memo, open the matrix cell's
quotes. Then: the compact transcript (≥ 20 turns a screen on all seven PDPilot interviews),
stable coder colours, strength, turns coded by keyboard, a colleague's coding arriving live.
With CASEFRAME_SCREENSHOTS=1 the pictures in docs/img/ are made here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workspace_support import (
    PDPILOT,
    launch,
    open_document,
    playwright_api,
    served_study,
    sign_in,
    wait_until,
)

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "img"
PALETTE = ["#e6a700", "#2f9fd0", "#e0585b", "#4caf50", "#9c6ade", "#f0843c"]
PALETTE += ["#26a69a", "#d660a8", "#8d6e63", "#5c7cfa", "#9e9d24", "#ef6c8f"]


@pytest.fixture(scope="module")
def server(example_build, shared, tmp_path_factory):
    for served in served_study(example_build, shared, tmp_path_factory.mktemp("workspace")):
        served["project"].link_document("P1.txt", "A1")
        yield served


@pytest.fixture(scope="module")
def browser():
    pw, b = launch(playwright_api())
    yield b
    b.close()
    pw.stop()


def expect(locator):
    api = playwright_api()
    api.expect.set_options(timeout=20_000)  # an upper bound under load, never a wait
    return api.expect(locator)


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def shot(page, name: str) -> None:
    """A small PNG for docs/web.md (32 colours, 1200 px wide), only with CASEFRAME_SCREENSHOTS=1."""
    if os.environ.get("CASEFRAME_SCREENSHOTS") != "1":
        return
    import io

    from PIL import Image

    IMAGES.mkdir(parents=True, exist_ok=True)
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
    image = image.resize((1200, round(image.height * 1200 / image.width)), Image.LANCZOS)
    small = image.quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    small.save(IMAGES / f"{name}.png", optimize=True)


def test_a_whole_session_by_keyboard(browser, server):
    project, doc = server["project"], server["docs"]["P1.txt"]
    text = project.document(doc).text
    ctx, page = sign_in(browser, server, "carl")
    open_document(page, server, doc)
    # the speaker is shown once per turn: in its column, not again in the text
    first = page.locator("#transcript .turn:not(.plain)").first
    assert first.locator(".speaker").inner_text() == "Dan"
    assert first.locator(".turn-text").inner_text().startswith("Okay. So now")
    assert first.locator(".turn-no").inner_text() == "1"

    # find in the document: / focuses the box, Enter steps, Esc selects the hit in the text
    page.locator("#transcript").focus()
    page.keyboard.press("/")
    page.keyboard.type('"ICE plots"')
    hits = project.search('"ICE plots"', documents=[doc]).hits
    expect(page.locator("#find-count")).to_have_text(f"1 of {len(hits)}")
    page.keyboard.press("Enter")
    expect(page.locator("#find-count")).to_have_text(f"2 of {len(hits)}")
    current = page.locator("#transcript span.seg.hit.current")
    assert " ".join(current.all_inner_texts()).split() == text[hits[1].start : hits[1].end].split()
    page.keyboard.press("Escape")
    wanted = text[hits[1].start : hits[1].end]
    assert page.evaluate("window.getSelection().toString()") == wanted

    # c opens the picker; Enter before typing or moving codes nothing
    page.keyboard.press("c")
    page.wait_for_selector("#picker[open]")
    assert page.inner_text("#picker-quote") == wanted
    assert page.locator("#picker-list li.active").count() == 0
    page.keyboard.press("Enter")
    expect(page.locator("#flash")).to_contain_text("Type to find a code")
    assert page.locator("#picker[open]").count() == 1
    assert project.codings_frame(documents=[doc]).empty
    # a component id finds the codes mapped to it; the definition is shown beside each
    page.keyboard.type("O10")
    active = page.locator("#picker-list li.active")
    expect(active.locator(".keys")).to_contain_text("O10")
    o10 = project.framework("sis").component("O10")
    assert o10.definition[:40] in active.inner_text()
    name = active.locator(".name").inner_text()
    page.select_option("#picker-valence", "facilitator")
    page.select_option("#picker-strength", "2")
    shot(page, "picker")
    page.focus("#picker-filter")
    page.keyboard.press("Enter")
    page.wait_for_selector("#picker", state="hidden")
    coded = project.codings_frame(documents=[doc], coders=["carl"])
    assert len(coded) == 1
    row = coded.iloc[0]
    assert (row["start"], row["end"], row["code"]) == (hits[1].start, hits[1].end, name)
    assert row["valence"] == "facilitator" and row["strength"] == 2
    assert "sis:O10" in project.code(name).mapped_components

    # the stripe: in carl's colour, naming code and coder; clicking it selects the coding
    stripe = page.locator(f"#stripes .stripe[data-coding='{row['id']}']")
    expect(stripe).to_have_count(1)
    colour = PALETTE[(project.user("carl").coder_id - 1) % len(PALETTE)]
    assert stripe.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(colour)
    assert stripe.get_attribute("title").startswith(f"{name} — carl")
    box = stripe.bounding_box()
    seg = page.locator(f"#transcript span.seg.hl[data-codings~='{row['id']}']").first.bounding_box()
    assert abs(box["y"] - seg["y"]) < 12  # beside the coded line
    stripe.click()
    expect(page.locator(f"#codings li.selected[data-coding='{row['id']}']")).to_have_count(1)
    expect(page.locator("#code-memos-title")).to_have_text(f"On the code {name}")
    assert "facilitator +2" in page.inner_text(f"#codings li[data-coding='{row['id']}']")
    shot(page, "document")

    # undo and redo by keyboard
    page.locator("#transcript").focus()
    page.keyboard.press("Control+z")
    expect(page.locator("#stripes .stripe")).to_have_count(0)
    wait_until(page, "!document.querySelector('#transcript span.seg.hl')")
    assert project.codings_frame(documents=[doc]).empty
    page.keyboard.press("Control+Shift+z")
    expect(page.locator("#stripes .stripe")).to_have_count(1)
    again = project.codings_frame(documents=[doc], coders=["carl"])
    assert len(again) == 1 and again.iloc[0]["strength"] == 2

    # a memo on the document (m), undone and redone as well
    page.keyboard.press("m")
    page.keyboard.type("ICE plots come up before any question about them.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator("#doc-memos li[data-memo]")).to_have_count(1)
    memos = project.memos_frame("document", doc)
    assert list(memos["author"]) == ["carl"]
    page.locator("#transcript").focus()
    page.keyboard.press("Control+z")
    expect(page.locator("#doc-memos li[data-memo]")).to_have_count(0)
    assert project.memos_frame("document", doc).empty
    page.keyboard.press("Control+Shift+z")
    expect(page.locator("#doc-memos li[data-memo]")).to_have_count(1)

    # the matrix cell of the coded component opens its quotes, among them this passage
    page.goto(server["url"] + "/matrix?rows=respondent&cols=framework&cell=count&framework=sis")
    page.locator("#matrix td a[href*='row=A1&column=O10&']").click()
    page.wait_for_url("**/matrix/cell?**")
    quotes = page.locator("#cell-quotes li")
    assert any(" ".join(wanted.split()) in " ".join(q.split()) for q in quotes.all_inner_texts())
    ctx.close()


def test_real_transcripts_show_twenty_turns_a_screen(browser, server):
    """At 1440×900 the PDPilot interviews show at least 20 speaker turns per screen height
    (turns / (transcript height / 900 px)); P7, whose turns average 310 characters, at least
    18. No speaker name is cut."""
    project = server["project"]
    ctx, page = sign_in(browser, server, "vera")
    measured = {}
    for name in PDPILOT:
        doc = project.document(f"{name}.txt")
        long_turns = len(doc.text) / len(doc.turns) > 300
        open_document(page, server, server["docs"][f"{name}.txt"])
        measured[name] = page.evaluate(
            """() => {
              const turns = document.querySelectorAll('#transcript .turn:not(.plain)');
              const h = document.getElementById('transcript').getBoundingClientRect().height;
              const cut = [...document.querySelectorAll('#transcript .speaker')]
                .filter((s) => s.scrollWidth > s.clientWidth + 1).length;
              return {perScreen: turns.length / (h / innerHeight), cut};
            }"""
        )
        measured[name]["goal"] = 18 if long_turns else 20
    assert all(m["cut"] == 0 for m in measured.values()), measured
    assert all(m["perScreen"] >= m["goal"] for m in measured.values()), measured
    assert sum(m["goal"] == 20 for m in measured.values()) >= 6
    ctx.close()


def test_long_speaker_names_wrap_instead_of_being_cut(browser, server, tmp_path):
    project = server["project"]
    long_name = "Participant (regional psychiatry unit)"
    (tmp_path / "long.txt").write_text(
        f"Interviewer: How did it start?\n{long_name}: Slowly, with one worker.\n",
        encoding="utf-8",
    )
    result = project.import_documents([tmp_path / "long.txt"])[0]
    doc = int(project.documents_frame().set_index("name").loc[result.document, "id"])
    ctx, page = sign_in(browser, server, "vera")
    open_document(page, server, doc)
    label = page.locator("#transcript .speaker", has_text="regional")
    assert label.inner_text().split() == long_name.split()
    assert label.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    assert label.bounding_box()["height"] > 25  # wrapped onto a second line, not cut
    assert page.locator("#transcript .turn-text").nth(1).inner_text() == "Slowly, with one worker."
    ctx.close()


def test_keyboard_codes_a_turn_edits_strength_deletes_and_undoes(browser, server):
    project, doc = server["project"], server["docs"]["P3.txt"]
    ctx, page = sign_in(browser, server, "dora")
    open_document(page, server, doc)
    page.locator("#transcript").focus()
    for _ in range(3):
        page.keyboard.press("j")
    page.keyboard.press("c")
    page.wait_for_selector("#picker[open]")
    page.keyboard.press("ArrowDown")  # moving chooses the first code
    first = page.locator("#picker-list li.active .name").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_selector("#picker", state="hidden")
    current = page.locator("#transcript .turn.current")
    start, end = int(current.get_attribute("data-start")), int(current.get_attribute("data-end"))
    turn = next(t for t in project.document(doc).turns if t.start == start)
    assert current.locator(".turn-no").inner_text() == "3" and turn.end == end
    coded = project.codings_frame(documents=[doc], coders=["dora"]).iloc[0]
    turn_text = project.document(doc).text[turn.start : turn.end]
    assert coded["code"] == first and turn_text.rstrip().endswith(coded["text"])
    assert coded["start"] > turn.start  # the speaker's "Participant:" is not coded
    assert not coded["text"].startswith(turn.speaker)
    expect(page.locator("#stripes .stripe")).to_have_count(1)  # the page has it too
    # ] selects it, e edits it (strength needs a valence), Delete deletes, Ctrl+Z restores
    page.keyboard.press("]")
    expect(page.locator("#codings li.selected")).to_have_count(1)
    page.keyboard.press("e")
    page.wait_for_selector("#editor[open]")
    page.select_option("#editor-valence", "barrier")
    page.select_option("#editor-strength", "1")
    page.click("#editor-save")
    page.wait_for_selector("#editor", state="hidden")
    expect(page.locator("#codings li.selected")).to_contain_text("barrier −1")
    assert project.coding(int(coded["id"])).strength == 1
    page.keyboard.press("Control+z")
    expect(page.locator("#codings li.selected")).not_to_contain_text("barrier")
    assert project.coding(int(coded["id"])).valence is None
    page.keyboard.press("]")
    page.keyboard.press("Delete")
    expect(page.locator("#stripes .stripe")).to_have_count(0)
    assert project.codings_frame(documents=[doc], coders=["dora"]).empty
    page.keyboard.press("Control+z")
    expect(page.locator("#stripes .stripe")).to_have_count(1)
    assert len(project.codings_frame(documents=[doc], coders=["dora"])) == 1
    # the code used is offered first next time, before anything is typed
    page.keyboard.press("k")
    page.keyboard.press("c")
    page.wait_for_selector("#picker[open]")
    expect(page.locator("#picker-list li").first.locator(".recent")).to_have_count(1)
    assert page.locator("#picker-list li").first.locator(".name").inner_text() == first
    page.keyboard.press("Escape")
    ctx.close()


def test_a_coder_keeps_one_colour_across_documents(browser, server):
    project = server["project"]
    code = project.codes()[5].id
    docs = [server["docs"]["P4.txt"], server["docs"]["P5.txt"]]
    # a colleague codes the second document first, so coder order differs between them
    project.add_coding(docs[1], 50, 90, code, coder="dora")
    for d in docs:
        project.add_coding(d, 10, 40, code, coder="carl")
    ctx, page = sign_in(browser, server, "vera")
    colours = []
    for d in docs:
        open_document(page, server, d)
        swatch = page.locator("#coders label", has_text="carl").locator(".swatch")
        colours.append(swatch.evaluate("e => getComputedStyle(e).backgroundColor"))
    expected = PALETTE[(project.user("carl").coder_id - 1) % len(PALETTE)]
    assert colours == [rgb(expected)] * 2
    ctx.close()


def test_a_colleagues_coding_arrives_live_marked_new(browser, server):
    project, doc = server["project"], server["docs"]["P6.txt"]
    ctx, page = sign_in(browser, server, "carl")
    open_document(page, server, doc)
    assert page.locator("#codings li[data-coding]").count() == 0
    coding = project.add_coding(doc, 100, 140, project.codes()[4].id, coder="dora")
    # what static/live.js does when the server reports a change (its absence changes nothing)
    with page.expect_response(lambda r: f"/api/documents/{doc}/codings" in r.url):
        page.evaluate(
            """([id, doc]) => document.dispatchEvent(new CustomEvent('caseframe:change', {
                detail: {kind: 'coding', id, document_id: doc, actor: 'dora'}}))""",
            [coding.id, doc],
        )
    item = page.locator(f"#codings li.fresh[data-coding='{coding.id}']")
    expect(item).to_have_count(1)
    expect(item.locator(".badge")).to_have_text("new")
    expect(page.locator(f"#stripes .stripe.fresh[data-coding='{coding.id}']")).to_have_count(1)
    ctx.close()


def test_search_page_and_overview_pictures(browser, server):
    """The Search page lists hits that open the document at the hit (pictures for the docs)."""
    project = server["project"]
    ctx, page = sign_in(browser, server, "olga")
    shot(page, "overview")
    page.goto(server["url"] + '/search?q="partial dependence"')
    result = project.search('"partial dependence"')
    expect(page.locator("#search-summary")).to_contain_text(f"{result.total} hit")
    shot(page, "search")
    page.locator("#search-results a.hit").nth(0).click()
    page.wait_for_selector("body[data-drawn='1']")
    hit = result.hits[0]
    in_document = [h for h in result.hits if h.document_id == hit.document_id]
    expect(page.locator("#find-count")).to_have_text(f"1 of {len(in_document)}")
    selected = page.evaluate("window.getSelection().toString()")
    assert " ".join(selected.split()).lower() == "partial dependence"
    ctx.close()
