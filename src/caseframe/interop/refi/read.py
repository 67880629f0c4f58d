"""Safe, tolerant readers of REFI-QDA 1.5 projects (.qdpx) and codebooks (.qdc).

Both return the representation and a LossReport. Anything that would make the data wrong is refused
with one InvalidInput line (hostile archive or XML, a selection outside its source, a coding of an
unknown code, a missing source file, a schema error in strict mode); anything that only cannot be
represented is listed in the report. Quirks of real exporters that are accepted:
qc (line selections, TextSource without a name, plain relative paths), NVivo (lowercase GUIDs,
1-byte plain text beside a .docx), Taguette (empty <Sets/>, lenient mode only), the codebook
namespace variant `urn:QDA-XML:codebook:1:0`.

Plain text is decoded as UTF-8 with a leading BOM removed; CRLF is kept, because REFI offsets
count the code points of the text as stored. `normalise_source` converts to caseframe's NFC/`\\n`
form and remaps the offsets.
"""

from __future__ import annotations

import bisect
import json
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from caseframe.errors import InvalidInput, NotFound
from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi.model import (
    RefiCodebook,
    RefiProject,
    RefiSelection,
    RefiSet,
    guid_key,
)
from caseframe.interop.refi.read_project import (
    _ProjectReader,
    child_text,
    decode,
    local,
    read_codes,
    required,
)
from caseframe.interop.refi.safety import (
    DEFAULT_LIMITS,
    Limits,
    SafeArchive,
    parse_xml,
)
from caseframe.interop.refi.schemas import (
    CODEBOOK_NS,
    PROJECT_NS,
    schema_errors,
    schemas_available,
)

EXTENSIONS_ENTRY = "caseframe/extensions.json"
EXTENSIONS_FORMAT = "caseframe-refi-extensions"
EXTENSIONS_VERSION = 1

_NON_TEXT_SOURCES = ("PictureSource", "PDFSource", "AudioSource", "VideoSource")
# --------------------------------------------------------------------------- public API


def read_qdpx(
    path: str | Path, strict: bool = False, *, limits: Limits = DEFAULT_LIMITS
) -> tuple[RefiProject, LossReport]:
    """Read a .qdpx project. strict=True refuses any schema error instead of reporting it."""
    path = Path(path)
    report = LossReport()
    with SafeArchive(path, where=path.name, limits=limits) as archive:
        qde = _find_qde(archive, path.name)
        where = f"{path.name}/{qde}"
        root = parse_xml(archive.read(qde), where=where, limits=limits)
        _canonical_namespace(root, "project", report, where)
        _validate(root, "project", strict, report, where)
        reader = _ProjectReader(
            archive,
            report,
            where,
            limits,
            strict,
            lambda: SafeArchive(path, where=path.name, limits=limits),
        )
        project = reader.read(root)
        reader.used.add(qde)
        _read_extensions(archive, project, report, reader.used)
        _report_unreferenced(archive, reader.used, report)
    return project, report


def read_qdc(
    path: str | Path, strict: bool = False, *, limits: Limits = DEFAULT_LIMITS
) -> tuple[RefiCodebook, LossReport]:
    """Read a .qdc codebook. strict=True refuses any schema error instead of reporting it."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"file {path} does not exist")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    if path.stat().st_size > limits.max_xml_bytes:
        raise InvalidInput("the codebook is larger than the XML size limit", where=path.name)
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        raise InvalidInput(
            "this is a zip archive, not a codebook", where=path.name, hint="read it as a .qdpx"
        )
    report = LossReport()
    root = parse_xml(data, where=path.name, limits=limits)
    _canonical_namespace(root, "codebook", report, path.name)
    _validate(root, "codebook", strict, report, path.name)
    q = f"{{{CODEBOOK_NS}}}"
    index: dict[str, tuple[str, Any]] = {}
    codes_el = root.find(q + "Codes")
    codes = read_codes(codes_el, q, index, report, path.name) if codes_el is not None else []
    book = RefiCodebook(origin=root.get("origin"), codes=codes)
    sets_el = root.find(q + "Sets")
    for set_el in sets_el.findall(q + "Set") if sets_el is not None else []:
        guid = required(set_el, "guid", path.name)
        item = RefiSet(guid, set_el.get("name") or "", child_text(set_el, q + "Description"))
        for member in set_el.findall(q + "MemberCode"):
            # the codebook schema names the attribute `guid`; tolerate the project's `targetGUID`
            ref = member.get("guid") or member.get("targetGUID") or ""
            hit = index.get(guid_key(ref))
            if hit is None:
                report.skipped("set members that name an unknown code", "dangling reference")
            else:
                item.code_guids.append(hit[1].guid)
        book.sets.append(item)
    return book, report


def normalise_source(
    text: str, selections: list[RefiSelection], *, nfc: bool = True
) -> tuple[str, list[RefiSelection]]:
    """caseframe's form of a source text (`\\n` newlines, NFC) with the selections remapped.

    CRLF and lone CR become `\\n`; with nfc=True the text is also NFC-composed (e.g. 'e' + U+0301
    becomes 'é', one code point). An offset on a unit boundary maps exactly; an offset inside a
    unit that shrinks (between CR and LF, or between a letter and its combining mark) is widened:
    a start moves to the unit's start, an end to the unit's end.
    """
    units = _normal_units(text, nfc)
    old_starts: list[int] = []
    new_starts: list[int] = []
    pieces: list[str] = []
    old = new = 0
    for raw, normal in units:
        old_starts.append(old)
        new_starts.append(new)
        pieces.append(normal)
        old += len(raw)
        new += len(normal)
    old_starts.append(old)
    new_starts.append(new)
    result = "".join(pieces)
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    if nfc:
        expected = unicodedata.normalize("NFC", expected)
    if result != expected:  # defensive: composition crossed a unit boundary
        raise InvalidInput("the source text cannot be normalised while keeping its offsets")

    def map_start(offset: int) -> int:
        i = bisect.bisect_right(old_starts, offset) - 1
        return new_starts[max(i, 0)]

    def map_end(offset: int) -> int:
        i = bisect.bisect_left(old_starts, offset)
        return new_starts[min(i, len(new_starts) - 1)]

    remapped = [replace(s, start=map_start(s.start), end=map_end(s.end)) for s in selections]
    return result, remapped


# --------------------------------------------------------------------------- shared helpers


def _canonical_namespace(root: Element, kind: str, report: LossReport, where: str) -> None:
    """Check the root element; map accepted namespace variants onto the canonical one."""
    canonical, root_name = (
        (PROJECT_NS, "Project") if kind == "project" else (CODEBOOK_NS, "CodeBook")
    )
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if local(root.tag) != root_name:
        raise InvalidInput(
            f"the root element is <{local(root.tag)}>, not <{root_name}>",
            where=where,
            hint=f"this is not a REFI-QDA {kind} file",
        )
    if ns == canonical:
        return
    if ns and not ns.startswith(f"urn:QDA-XML:{kind}:"):
        raise InvalidInput(f"the namespace {ns!r} is not a REFI-QDA {kind} namespace", where=where)
    for el in root.iter():
        el_ns = el.tag[1:].split("}")[0] if el.tag.startswith("{") else ""
        if el_ns == ns:
            el.tag = f"{{{canonical}}}{local(el.tag)}"
    report.warn(f"namespace {ns or '(none)'}", f"read as {canonical}")


def _validate(root: Element, kind: str, strict: bool, report: LossReport, where: str) -> None:
    if not schemas_available():
        if strict:
            schema_errors(root, kind)  # raises the "schema not found" error
        report.warn("schema validation", "the REFI-QDA schemas were not found; not validated")
        return
    errors = schema_errors(root, kind)
    if not errors:
        return
    if strict:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InvalidInput(
            f"the file does not conform to the REFI-QDA schema: {errors[0]}{more}",
            where=where,
            hint="import it in lenient mode to accept it with warnings",
        )
    for line in errors:
        report.warn(f"schema error {line}", "accepted in lenient mode")


def _find_qde(archive: SafeArchive, where: str) -> str:
    exact = archive.find("project.qde")
    if exact is not None:
        return exact
    qdes = [n for n in archive.names if n.casefold().endswith(".qde") and "/" not in n]
    if len(qdes) == 1:
        return qdes[0]
    raise InvalidInput(
        "the archive has no project.qde", where=where, hint="this is not a REFI-QDA .qdpx file"
    )


def _read_extensions(
    archive: SafeArchive, project: RefiProject, report: LossReport, used: set[str]
) -> None:
    name = archive.find(EXTENSIONS_ENTRY)
    if name is None:
        return
    used.add(name)
    where = f"{archive.where}/{name}"
    try:
        payload = json.loads(decode(archive.read(name), name, archive.where))
    except (ValueError, RecursionError) as exc:
        raise InvalidInput("caseframe's extension data cannot be parsed", where=where) from exc
    if not isinstance(payload, dict) or payload.get("format") != EXTENSIONS_FORMAT:
        raise InvalidInput("caseframe's extension data has an unknown format", where=where)
    version = payload.get("version")
    if not isinstance(version, int) or version > EXTENSIONS_VERSION:
        report.warn(
            "caseframe extension data of a newer version",
            f"version {version} read as version {EXTENSIONS_VERSION}; parts may be ignored",
        )
    data = payload.get("data")
    if not isinstance(data, dict):
        raise InvalidInput("caseframe's extension data has no 'data' object", where=where)
    project.extensions = data


def _report_unreferenced(archive: SafeArchive, used: set[str], report: LossReport) -> None:
    for name in archive.names:
        if name in used or name.endswith("/") or archive.size(name) == 0:
            continue
        report.skipped(f"archive file {name}", "not referenced by project.qde, so not read")


def _normal_units(text: str, nfc: bool) -> list[tuple[str, str]]:
    """Split text into (raw, normalised) units whose normalisations concatenate correctly."""
    units: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\r":
            raw = "\r\n" if text.startswith("\r\n", i) else "\r"
            units.append((raw, "\n"))
            i += len(raw)
            continue
        j = i + 1
        if nfc:
            while j < n and text[j] not in "\r\n" and unicodedata.combining(text[j]):
                j += 1
        raw = text[i:j]
        normal = unicodedata.normalize("NFC", raw) if nfc and not raw.isascii() else raw
        if nfc and units and not (raw.isascii() and units[-1][0].isascii()):
            prev_raw, prev_normal = units[-1]
            if prev_raw not in ("\r", "\r\n"):
                joined = unicodedata.normalize("NFC", prev_raw + raw)
                if joined != prev_normal + normal:  # composes across starters (e.g. Hangul)
                    units[-1] = (prev_raw + raw, joined)
                    i = j
                    continue
        units.append((raw, normal))
        i = j
    return units
