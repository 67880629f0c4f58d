"""A small two-coder project for the consensus meeting tests (API, HTTP and browser): one
interview, three codes with definitions, and each coder's codings of the answers as planned
in CODINGS (unit number -> codes; a coder codes part of a turn or all of it)."""

from __future__ import annotations

from pathlib import Path

from caseframe.api import Project

INTERVIEW = (
    "I: How did the peer support workers settle in?\n"
    "R: The staff were unsure at first, but the peer workers soon ran the Tuesday group on "
    "their own and the nurses began to refer people to them.\n"
    "I: What happened to the money?\n"
    "R: The grant from the council paid for two years and nobody planned what came after it, "
    "so the posts were at risk by the second winter.\n"
    "I: Who kept it going?\n"
    "R: Mostly the volunteers, who had been service users themselves and who knew what it "
    "was like to wait for an appointment.\n"
    "I: And the budget today?\n"
    "R: The trust now pays for it from its own budget, which everyone agreed was right.\n"
    "I: How do the teams see it now?\n"
    "R: The ward teams are proud of it and say so in every meeting we have.\n"
)
CODES = {
    "Funding": "Money for the service: grants, budgets, what happens when they end.",
    "Staff attitudes": "How staff regard the innovation: doubt, acceptance, pride.",
    "Peer support": "People with lived experience supporting service users.",
}
# answer number (0-based, the R turns) -> codes per coder
CODINGS = {
    "carl": {0: ["Staff attitudes"], 1: ["Funding"], 2: ["Peer support"], 3: ["Funding"]},
    "dora": {
        0: ["Staff attitudes", "Peer support"],
        2: ["Funding"],
        3: ["Funding"],
        4: ["Staff attitudes"],
    },
}
DISPUTED = 4  # answers 0, 1, 2 and 4 differ; answer 3 is agreed


def make_project(folder: Path, db: str | None = None) -> tuple[Project, int]:
    folder.mkdir(parents=True, exist_ok=True)
    project = Project.init(folder / "proj", db=db)
    for name, text in CODES.items():
        project.add_code(name, description=text)
    path = folder / "interview.txt"
    path.write_text(INTERVIEW, encoding="utf-8")
    results = project.import_documents([path])
    assert all(r.ok for r in results), [r.error for r in results]
    doc = int(project.documents_frame().set_index("name")["id"]["interview.txt"])
    return project, doc


def answers(project: Project, doc: int) -> list:
    """The meaning units (turns) of the answers, in order."""
    text = project.document(doc).text
    units = project.meaning_units(doc, "turn")
    return [u for u in units if text[u.start : u.end].startswith("R:")]


def planned_spans(project: Project, doc: int, coder: str) -> list[tuple[int, int, str]]:
    """(start, end, code): carl codes whole answers, dora the answer less its first 3 characters
    (overlapping, not identical passages)."""
    units = answers(project, doc)
    out = []
    for i, codes in CODINGS[coder].items():
        u = units[i]
        start = u.start if coder == "carl" else u.start + 3
        out += [(start, u.end, code) for code in codes]
    return out
