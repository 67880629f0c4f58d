"""Word (.docx, python-docx) and OpenDocument (.odt, odfpy) documents to text.

Body paragraphs and headings, with table cells in reading order (row by row), become paragraphs
separated by a blank line; empty paragraphs are dropped. Headers, footers, footnotes and
comments are left out: they are not part of what was said.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from caseframe.errors import InvalidInput
from caseframe.util.zipguard import OFFICE_LIMITS, SafeArchive

_RESAVE = "open it in a word processor and save it again in that format"


def read_docx(data: bytes, where: str) -> str:
    _check_zip(data, where, "word/document.xml", "Word .docx")
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = [p.strip() for p in _docx_blocks(document, Table)]
    except Exception as exc:  # python-docx raises lxml, KeyError, ValueError... on bad parts
        raise _corrupt(where, "Word .docx", exc) from None
    return "\n\n".join(p for p in paragraphs if p)


def _docx_blocks(container, table_type) -> Iterator[str]:
    for block in container.iter_inner_content():
        if isinstance(block, table_type):
            for row in block.rows:
                seen = set()
                for cell in row.cells:
                    # A merged cell is listed once per grid column it spans.
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    yield from _docx_blocks(cell, table_type)
        else:
            yield block.text


def read_odt(data: bytes, where: str) -> str:
    _check_zip(data, where, "content.xml", "OpenDocument .odt")
    _check_xml(data, where, "content.xml", "OpenDocument .odt")
    from odf import teletype
    from odf.namespaces import TEXTNS
    from odf.opendocument import load

    try:
        document = load(io.BytesIO(data))
        paragraphs = [p.strip() for p in _odt_blocks(document.text, teletype, TEXTNS)]
    except Exception as exc:  # odfpy raises SAX, KeyError, zip errors... on bad parts
        raise _corrupt(where, "OpenDocument .odt", exc) from None
    return "\n\n".join(p for p in paragraphs if p)


def _odt_blocks(element, teletype, textns: str) -> Iterator[str]:
    for child in element.childNodes:
        if child.nodeType != child.ELEMENT_NODE:
            continue
        if child.qname in ((textns, "p"), (textns, "h")):
            yield teletype.extractText(child)
        else:  # lists, tables, sections, frames: descend in document order
            yield from _odt_blocks(child, teletype, textns)


def _check_zip(data: bytes, where: str, part: str, kind: str) -> None:
    """The one zip guard (entry names, sizes, ratio, count), then the part the format needs."""
    try:
        with SafeArchive(
            data, where=where, limits=OFFICE_LIMITS, kind=f"a {kind} file", hint=_RESAVE
        ) as archive:
            found = archive.find(part) is not None
    except InvalidInput as exc:  # one line, no zipfile traceback chained in
        raise InvalidInput(exc.message, where=where, hint=exc.hint) from None
    if not found:
        raise InvalidInput(
            f"is not a valid {kind} file (no {part} inside)", where=where, hint=_RESAVE
        )


def _check_xml(data: bytes, where: str, part: str, kind: str) -> None:
    """odfpy prints SAX errors to stdout and carries on with an empty document: check first."""
    from defusedxml import ElementTree

    try:
        with SafeArchive(data, where=where, limits=OFFICE_LIMITS) as archive:
            ElementTree.fromstring(archive.read(archive.find(part) or part))
    except Exception as exc:  # ParseError, DefusedXmlException, zip CRC errors
        raise _corrupt(where, kind, exc) from None


def _corrupt(where: str, kind: str, exc: Exception) -> InvalidInput:
    detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    return InvalidInput(
        f"is a damaged {kind} file ({detail})",
        where=where,
        hint="open it in a word processor and save it again",
    )
