"""Quotes, the framework matrix, coverage and downloads — all through the analysis API."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from caseframe.api.users import User
from caseframe.errors import CaseframeError, InvalidInput, NotFound
from caseframe.web.auth import viewer
from caseframe.web.convert import plain, table
from caseframe.web.templating import page_context

router = APIRouter()

MEDIA = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html",
    "md": "text/markdown",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


QUOTES_PAGE = 100  # quotes per page (the count above them is always of all)
CELL_PAGE = 200  # passages per page of a matrix cell


class NotAvailable(CaseframeError):
    http_status = 501


def _call(project, name: str):
    method = getattr(project, name, None)
    if method is None:
        raise NotAvailable(f"'{name}' is not available in this version of caseframe")
    return method


def _named(fn, *args, **kwargs):
    """Call an analysis whose parameters name things (rows, columns, a framework): an unknown
    name there is a bad request (400) with the API's message, not a missing page."""
    try:
        return fn(*args, **kwargs)
    except NotFound as exc:
        raise InvalidInput(exc.message, where=exc.where, hint=exc.hint) from None


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
    frame = _named(
        _call(request.app.state.web.project, "matrix"),
        rows=rows,
        cols=cols,
        cell=cell,
        framework=framework or None,
        coder=coder or None,
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
    offset: int = Query(0, ge=0),
    user: User = Depends(viewer),
):
    """A page of QUOTES_PAGE quotes with the exact count of all and links to the next and
    previous pages (a category with 10,000 passages is not one page)."""
    web = request.app.state.web
    # what codes_frame lists, without its coding counts (a pass over every coding)
    codes = [{"id": c.id, "name": c.name, "depth": c.path.count("/")} for c in web.project.codes()]
    page = None
    if code is not None:
        page = _call(web.project, "quote_page")(
            code, by=by, valence=valence or None, offset=offset, limit=QUOTES_PAGE
        )
        page["quotes"] = [plain(q) for q in page["quotes"]]
        page["next"] = _page_link(code, by, valence, offset + QUOTES_PAGE, page["total"])
        page["previous"] = _page_link(code, by, valence, offset - QUOTES_PAGE, page["total"])
    return web.templates.TemplateResponse(
        request,
        "quotes.html",
        page_context(
            request, user, codes=codes, code=code, by=by, valence=valence or "", page=page
        ),
    )


def _page_link(code: int, by: str, valence: str | None, offset: int, total: int) -> str | None:
    if offset < 0 or offset >= total:
        return None
    query = {"code": code, "by": by, "valence": valence or "", "offset": offset}
    return "/quotes?" + urlencode(query)


@router.get("/matrix")
def matrix_page(
    request: Request,
    rows: str = "respondent",
    cols: str = "categories",
    cell: str = "count",
    framework: str | None = None,
    user: User = Depends(viewer),
):
    from caseframe.web.matrix_view import matrix_view

    web = request.app.state.web
    keys = [fw.key for fw in web.project.frameworks()]
    if cols in keys:  # an old link (cols=sis): the framework select says which
        cols, framework = "framework", cols
    framework = (framework or "").strip() or ("sis" if "sis" in keys else None)
    used = framework if cols == "framework" else None
    frame = _named(web.project.matrix, rows=rows, cols=cols, cell=cell, framework=framework)
    names = _named(web.project.matrix_columns, cols, used)
    query = {"rows": rows, "cols": cols, "framework": framework or ""}
    return web.templates.TemplateResponse(
        request,
        "matrix.html",
        page_context(
            request,
            user,
            matrix=matrix_view(frame, cell, names, framework=cols == "framework", query=query),
            rows=rows,
            cols=cols,
            cell=cell,
            framework=framework or "",
            frameworks=keys,
            query=query,
        ),
    )


@router.get("/matrix/cell")
def matrix_cell_page(
    request: Request,
    row: str,
    column: str,
    rows: str = "respondent",
    cols: str = "categories",
    framework: str | None = None,
    offset: int = Query(0, ge=0),
    user: User = Depends(viewer),
):
    """The quotes in one matrix cell (what a click on a count opens): CELL_PAGE passages a
    page, with the exact count of all."""
    web = request.app.state.web
    lines = _named(
        _call(web.project, "matrix_cell"),
        row,
        column,
        rows=rows,
        cols=cols,
        framework=framework or None,
    )
    here = {"row": row, "column": column, "rows": rows, "cols": cols}
    here["framework"] = framework or ""

    def link(at: int) -> str | None:
        ok = 0 <= at < len(lines)
        return "/matrix/cell?" + urlencode({**here, "offset": at}) if ok else None

    return web.templates.TemplateResponse(
        request,
        "matrix_cell.html",
        page_context(
            request,
            user,
            row=row,
            column=column,
            rows=rows,
            cols=cols,
            framework=framework or "",
            total=len(lines),
            offset=offset,
            quotes=lines[offset : offset + CELL_PAGE],
            next=link(offset + CELL_PAGE),
            previous=link(offset - CELL_PAGE) if offset else None,
            page_size=CELL_PAGE,
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
            path = _named(
                _call(project, "export_matrix"),
                out,
                rows=rows,
                cols=cols,
                framework=framework or None,
                fmt="xlsx",
            )
        else:
            from caseframe.interop.tables import write_csv

            frame = _named(
                _call(project, "matrix"),
                rows=rows,
                cols=cols,
                cell=cell,
                framework=framework or None,
            )
            path = write_csv(frame.rename_axis(rows), out, index=True)
    except BaseException:
        _remove(folder)
        raise
    return _file(Path(path), folder, f"matrix.{fmt}", fmt)
