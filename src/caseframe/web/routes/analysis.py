"""Quotes, the framework matrix, coverage and downloads — all through the analysis API."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from caseframe.api.users import User
from caseframe.errors import CaseframeError
from caseframe.web.auth import viewer
from caseframe.web.convert import plain, records, table
from caseframe.web.templating import page_context

router = APIRouter()

MEDIA = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "md": "text/markdown",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class NotAvailable(CaseframeError):
    http_status = 501


def _call(project, name: str):
    method = getattr(project, name, None)
    if method is None:
        raise NotAvailable(f"'{name}' is not available in this version of caseframe")
    return method


def _quotes(project, code: int, by: str, coder: str | None, valence: str | None, exact: bool):
    quotes = _call(project, "quotes")(
        code, by=by, coder=coder or None, valence=valence or None, exact=exact
    )
    return [plain(q) for q in quotes]


def _coverage(project, framework: str) -> dict:
    cov = _call(project, "coverage")(framework=framework)
    return {
        "framework": framework,
        "components": table(cov.components, index=False),
        "heatmap": table(cov.heatmap),
        "never_evidenced": list(cov.never_evidenced),
        "notes": list(getattr(cov, "notes", []) or []),
    }


# -- JSON ---------------------------------------------------------------------------------------


@router.get("/api/quotes")
def quotes(
    request: Request,
    code: int,
    by: str = "respondent",
    coder: str | None = None,
    valence: str | None = None,
    exact: bool = False,
    user: User = Depends(viewer),
):
    return _quotes(request.app.state.web.project, code, by, coder, valence, exact)


@router.get("/api/matrix")
def matrix(
    request: Request,
    rows: str = "respondent",
    cols: str = "categories",
    cell: str = "count",
    framework: str | None = None,
    coder: str | None = None,
    user: User = Depends(viewer),
):
    frame = _call(request.app.state.web.project, "matrix")(
        rows=rows, cols=cols, cell=cell, framework=framework or None, coder=coder or None
    )
    return table(frame)


@router.get("/api/coverage")
def coverage(request: Request, framework: str = "sis", user: User = Depends(viewer)):
    return _coverage(request.app.state.web.project, framework)


# -- pages --------------------------------------------------------------------------------------


@router.get("/quotes")
def quotes_page(
    request: Request,
    code: int | None = None,
    by: str = "respondent",
    valence: str | None = None,
    user: User = Depends(viewer),
):
    web = request.app.state.web
    codes = records(web.project.codes_frame())
    found = _quotes(web.project, code, by, None, valence, False) if code is not None else None
    return web.templates.TemplateResponse(
        request,
        "quotes.html",
        page_context(
            request, user, codes=codes, code=code, by=by, valence=valence or "", quotes=found
        ),
    )


@router.get("/matrix")
def matrix_page(
    request: Request,
    rows: str = "respondent",
    cols: str = "categories",
    cell: str = "count",
    framework: str | None = None,
    user: User = Depends(viewer),
):
    web = request.app.state.web
    frame = _call(web.project, "matrix")(
        rows=rows, cols=cols, cell=cell, framework=framework or None
    )
    return web.templates.TemplateResponse(
        request,
        "matrix.html",
        page_context(
            request,
            user,
            matrix=table(frame),
            rows=rows,
            cols=cols,
            cell=cell,
            framework=framework or "",
        ),
    )


@router.get("/coverage")
def coverage_page(request: Request, framework: str = "sis", user: User = Depends(viewer)):
    web = request.app.state.web
    return web.templates.TemplateResponse(
        request,
        "coverage.html",
        page_context(
            request,
            user,
            coverage=_coverage(web.project, framework),
            frameworks=web.project.frameworks(),
        ),
    )


# -- downloads ----------------------------------------------------------------------------------


def _file(path: Path, folder: str, name: str, fmt: str) -> Response:
    return FileResponse(
        path,
        media_type=MEDIA.get(fmt, "application/octet-stream"),
        filename=name,
        background=BackgroundTask(_remove, folder),
    )


def _remove(folder: str) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


@router.get("/download/report")
def download_report(
    request: Request, fmt: Literal["html", "md", "docx"] = "html", user: User = Depends(viewer)
):
    project = request.app.state.web.project
    folder = tempfile.mkdtemp(prefix="caseframe-report-")
    try:
        path = _call(project, "report")(fmt, Path(folder) / f"report.{fmt}")
    except BaseException:
        _remove(folder)
        raise
    return _file(Path(path), folder, f"report.{fmt}", fmt)


@router.get("/download/codings")
def download_codings(
    request: Request, fmt: Literal["csv", "xlsx"] = "csv", user: User = Depends(viewer)
):
    project = request.app.state.web.project
    folder = tempfile.mkdtemp(prefix="caseframe-codings-")
    try:
        path = project.export_codings(fmt, Path(folder) / f"codings.{fmt}")
    except BaseException:
        _remove(folder)
        raise
    return _file(Path(path), folder, f"codings.{fmt}", fmt)


@router.get("/download/matrix")
def download_matrix(
    request: Request,
    fmt: Literal["csv", "xlsx"] = "csv",
    rows: str = "respondent",
    cols: str = "categories",
    cell: str = "count",
    framework: str | None = None,
    user: User = Depends(viewer),
):
    project = request.app.state.web.project
    folder = tempfile.mkdtemp(prefix="caseframe-matrix-")
    out = Path(folder) / f"matrix.{fmt}"
    try:
        if fmt == "xlsx":  # a workbook: one sheet per kind of cell
            path = _call(project, "export_matrix")(
                out, rows=rows, cols=cols, framework=framework or None, fmt="xlsx"
            )
        else:
            frame = _call(project, "matrix")(
                rows=rows, cols=cols, cell=cell, framework=framework or None
            )
            frame.to_csv(out)
            path = out
    except BaseException:
        _remove(folder)
        raise
    return _file(Path(path), folder, f"matrix.{fmt}", fmt)
