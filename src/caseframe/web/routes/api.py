"""The JSON API behind the transcript workspace and the code tree.

Coders write codings and memos (only their own codings can be changed); owners edit the code
tree, always naming the version they saw, so a stale edit is refused with 409, never applied
over someone else's change. Every change is written to the audit log.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from caseframe.api.users import User
from caseframe.web.auth import Forbidden, coder, owner, viewer
from caseframe.web.convert import plain, records

router = APIRouter(prefix="/api")

Valence = Literal["facilitator", "barrier", "mixed"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CodingIn(Strict):
    document_id: int
    start: int
    end: int
    code_id: int
    valence: Valence | None = None
    strength: Literal[1, 2] | None = None
    memo: str | None = Field(None, max_length=20_000)


class CodingChange(Strict):
    code_id: int | None = None
    start: int | None = None
    end: int | None = None
    valence: Valence | None = None
    strength: Literal[1, 2] | None = None
    memo: str | None = Field(None, max_length=20_000)


class MemoIn(Strict):
    target_type: Literal["project", "document", "case", "code", "coding"]
    target_id: int | str | None = None
    text: str = Field(..., max_length=100_000)
    title: str | None = Field(None, max_length=300)


class CodeIn(Strict):
    name: str = Field(..., max_length=300)
    parent_id: int | None = None
    kind: Literal["theme", "main_category", "category", "code"] | None = None
    description: str = Field("", max_length=20_000)
    color: str | None = Field(None, max_length=9)


class Rename(Strict):
    name: str = Field(..., max_length=300)
    version: int


class Move(Strict):
    parent_id: int | None
    version: int


class Merge(Strict):
    into_id: int
    version: int


def _web(request: Request):
    return request.app.state.web


# -- documents ----------------------------------------------------------------------------------


@router.get("/documents")
def documents(request: Request, user: User = Depends(viewer)):
    return records(_web(request).project.documents_frame())


@router.get("/documents/{doc_id}")
def document(doc_id: int, request: Request, user: User = Depends(viewer)):
    project = _web(request).project
    doc = project.document(doc_id)
    cases = project.cases_frame()
    attributes = records(cases[cases["key"].isin(doc.case_keys)])
    return {
        "id": doc.id,
        "name": doc.name,
        "text": doc.text,
        "length": len(doc.text),
        "words": doc.word_count,
        "cases": list(doc.case_keys),
        "case_attributes": attributes,
        "turns": [{"speaker": t.speaker, "start": t.start, "end": t.end} for t in doc.turns],
    }


@router.get("/documents/{doc_id}/codings")
def document_codings(doc_id: int, request: Request, user: User = Depends(viewer)):
    project = _web(request).project
    project.document(doc_id)  # 404 for an unknown document
    frame = project.codings_frame(documents=[doc_id]).drop(columns=["text", "cases", "guid"])
    rows = records(frame)
    for row in rows:
        row["mine"] = row["coder"] == user.name
    names = sorted({r["coder"] for r in rows} | {user.name})
    # a coder's colour comes from their id, the same on every page of the project
    ids = {r["name"]: r["id"] for r in records(project.coders_frame())}
    if user.coder_id is not None:
        ids.setdefault(user.name, user.coder_id)
    return {"codings": rows, "coders": names, "coder_ids": {n: ids.get(n) for n in names}}


# -- codings ------------------------------------------------------------------------------------


def _coding_json(project, coding_id: int) -> dict:
    frame = project.codings_frame(documents=[project.coding(coding_id).document_id])
    row = records(frame[frame["id"] == coding_id])
    return row[0] if row else plain(project.coding(coding_id))


def _own(project, coding_id: int, user: User):
    coding = project.coding(coding_id)  # 404 first for an unknown coding
    if coding.coder_id != user.coder_id:
        raise Forbidden(f"coding {coding_id} belongs to another coder; you can change only yours")
    return coding


@router.post("/codings", status_code=201)
def add_coding(body: CodingIn, request: Request, user: User = Depends(coder)):
    project = _web(request).project
    coding = project.add_coding(
        body.document_id,
        body.start,
        body.end,
        body.code_id,
        coder=user.name,
        valence=body.valence,
        strength=body.strength,
        memo=body.memo,
        actor=user.name,
    )
    result = plain(coding)
    result.update(coder=user.name, mine=True)
    return result


@router.patch("/codings/{coding_id}")
def update_coding(
    coding_id: int, body: CodingChange, request: Request, user: User = Depends(coder)
):
    project = _web(request).project
    _own(project, coding_id, user)
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    if "code_id" in changes:
        changes["code"] = changes.pop("code_id")
    after = project.update_coding(coding_id, coder=user.name, actor=user.name, **changes)
    result = plain(after)
    result.update(coder=user.name, mine=True, code_path=project.code(after.code_id).path)
    return result


@router.delete("/codings/{coding_id}", status_code=204)
def delete_coding(coding_id: int, request: Request, user: User = Depends(coder)):
    project = _web(request).project
    _own(project, coding_id, user)
    project.delete_coding(coding_id, coder=user.name, actor=user.name)
    return Response(status_code=204)


# -- memos --------------------------------------------------------------------------------------


@router.get("/memos")
def memos(
    request: Request,
    target_type: str | None = None,
    target_id: str | None = None,
    user: User = Depends(viewer),
):
    if target_id is not None and target_id.isdigit() and target_type in ("code", "document"):
        target_id = int(target_id)  # the pages name codes and documents by id
    return records(_web(request).project.memos_frame(target_type, target_id))


@router.post("/memos", status_code=201)
def add_memo(body: MemoIn, request: Request, user: User = Depends(coder)):
    project = _web(request).project
    memo = project.add_memo(
        body.target_type,
        body.target_id,
        body.text,
        author=user.name,
        title=body.title,
        actor=user.name,
    )
    return plain(memo)


class MemoChange(Strict):
    text: str = Field(..., max_length=100_000)
    title: str | None = Field(None, max_length=300)


@router.patch("/memos/{memo_id}")
def update_memo(memo_id: int, body: MemoChange, request: Request, user: User = Depends(coder)):
    """A coder changes only memos they wrote."""
    project = _web(request).project
    _own_memo(project, memo_id, user)
    after = project.update_memo(memo_id, body.text, body.title, author=user.name, actor=user.name)
    return plain(after)


@router.delete("/memos/{memo_id}", status_code=204)
def delete_memo(memo_id: int, request: Request, user: User = Depends(coder)):
    project = _web(request).project
    _own_memo(project, memo_id, user)
    project.delete_memo(memo_id, author=user.name, actor=user.name)
    return Response(status_code=204)


def _own_memo(project, memo_id: int, user: User) -> None:
    if project.memo(memo_id).author != user.name:  # 404 first for an unknown memo
        raise Forbidden(f"memo {memo_id} was written by someone else; you can change only yours")


# -- code tree ----------------------------------------------------------------------------------


@router.get("/codes")
def codes(request: Request, user: User = Depends(viewer)):
    """The code tree; each code with the framework components it is or maps to (key, name,
    definition, keywords), which the code picker searches too."""
    project = _web(request).project
    components = {
        f"{fw.key}:{c.key}": {
            "ref": f"{fw.key}:{c.key}",
            "key": c.key,
            "name": c.name,
            "definition": c.definition,
            "keywords": list(c.keywords),
        }
        for fw in project.frameworks()
        for c in fw.components
    }
    rows = records(project.codes_frame())
    for row in rows:
        refs = [row["component"]] if row["component"] else []
        refs += [r.strip() for r in (row["maps_to"] or "").split(";") if r.strip()]
        row["components"] = [components[r] for r in refs if r in components]
    return rows


@router.post("/frameworks/{key}/codes", status_code=201)
def add_framework_codes(key: str, request: Request, user: User = Depends(owner)):
    """Deductive codes for the framework's components (those not in the tree yet)."""
    added = _web(request).project.add_framework_codes(key, actor=user.name)
    return {"added": len(added), "codes": [plain(c) for c in added]}


@router.get("/coders")
def coders(request: Request, user: User = Depends(viewer)):
    return records(_web(request).project.coders_frame())


@router.post("/codes", status_code=201)
def add_code(body: CodeIn, request: Request, user: User = Depends(owner)):
    project = _web(request).project
    code = project.add_code(
        body.name,
        body.parent_id,
        body.kind,
        body.description,
        body.color or None,
        actor=user.name,
    )
    return plain(code)


@router.post("/codes/{code_id}/rename")
def rename_code(code_id: int, body: Rename, request: Request, user: User = Depends(owner)):
    project = _web(request).project
    after = project.rename_code(code_id, body.name, expected_version=body.version, actor=user.name)
    return plain(after)


@router.post("/codes/{code_id}/move")
def move_code(code_id: int, body: Move, request: Request, user: User = Depends(owner)):
    project = _web(request).project
    after = project.move_code(
        code_id, body.parent_id, expected_version=body.version, actor=user.name
    )
    return plain(after)


@router.post("/codes/{code_id}/merge")
def merge_codes(code_id: int, body: Merge, request: Request, user: User = Depends(owner)):
    project = _web(request).project
    target = project.code(body.into_id)
    after = project.merge_codes(code_id, target.id, expected_version=body.version, actor=user.name)
    return plain(after)
