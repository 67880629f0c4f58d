"""Small helpers over parsed REFI-QDA XML elements, shared by the .qdpx and .qdc readers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from xml.etree.ElementTree import Element

from caseframe.errors import InvalidInput
from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi.model import RefiCode, guid_key
from caseframe.interop.refi.safety import MAX_CODE_DEPTH


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child_text(el: Element, tag: str) -> str | None:
    child = el.find(tag)
    if child is None:
        return None
    return child.text or ""


def required(el: Element, attr: str, where: str) -> str:
    value = el.get(attr)
    if value is None or not value.strip():
        raise InvalidInput(
            f"<{local(el.tag)}> has no {attr} attribute", where=where, hint="the file is damaged"
        )
    return value


def decode(data: bytes, what: str, where: str | None = None) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{what} is not valid UTF-8 (byte {exc.start})",
            where=where,
            hint="REFI-QDA plain text must be UTF-8",
        ) from exc


def docx_text(data: bytes, where: str) -> str:
    """Plain text of a .docx, by the same reader as `caseframe import` (one reader, one text)."""
    from caseframe.ingest.encoding import normalise_text
    from caseframe.ingest.formats.office import read_docx

    return normalise_text(read_docx(data, where))


def read_codes(
    codes_el: Element, q: str, index: dict[str, tuple[str, Any]], report: LossReport, where: str
) -> list[RefiCode]:
    """The code tree under <Codes>, read iteratively; deeper than MAX_CODE_DEPTH is refused."""
    top: list[RefiCode] = []
    stack = [(el, top, 1) for el in reversed(codes_el.findall(q + "Code"))]
    while stack:
        el, siblings, depth = stack.pop()
        if depth > MAX_CODE_DEPTH:
            raise InvalidInput(
                f"codes are nested more than {MAX_CODE_DEPTH} levels deep, which is refused",
                where=where,
                hint="flatten the code tree in the tool that wrote the file",
            )
        guid = required(el, "guid", where)
        codable = el.get("isCodable")
        if codable is None:
            report.warn("codes without isCodable", "taken as codable")
        code = RefiCode(
            guid=guid,
            name=el.get("name") or "",
            is_codable=codable is None or codable.strip() in ("true", "1"),
            description=child_text(el, q + "Description"),
            color=el.get("color"),
        )
        register(index, guid, "code", code, where)
        siblings.append(code)
        kids = el.findall(q + "Code")
        stack.extend((child, code.children, depth + 1) for child in reversed(kids))
    return top


def register(index: dict[str, tuple[str, Any]], guid: str, kind: str, obj: Any, where: str) -> None:
    key = guid_key(guid)
    if key in index:
        raise InvalidInput(
            f"GUID {guid} is used twice ({index[key][0]} and {kind})",
            where=where,
            hint="every object in a REFI-QDA file needs its own GUID",
        )
    index[key] = (kind, obj)


def parse_value(kind: str, raw: str | None) -> Any:
    text = (raw or "").strip()
    if kind == "Text":
        return raw or ""
    if kind == "Boolean":
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValueError(text)
    if kind == "Integer":
        return int(text)
    if kind == "Float":
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(text)
        return value
    if kind == "Date":
        return date.fromisoformat(text)
    if kind == "DateTime":
        return datetime.fromisoformat(text)
    raise ValueError(kind)


# --------------------------------------------------------------------------- project reader
