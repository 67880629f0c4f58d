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
import io
import json
import unicodedata
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from caseframe.errors import InvalidInput, NotFound
from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi.model import (
    PROJECT_TARGET,
    VARIABLE_TYPES,
    RefiCase,
    RefiCode,
    RefiCodebook,
    RefiCoding,
    RefiLink,
    RefiNote,
    RefiProject,
    RefiSelection,
    RefiSet,
    RefiSource,
    RefiUser,
    RefiVariable,
    VariableValue,
    guid_key,
    sort_targets,
)
from caseframe.interop.refi.safety import DEFAULT_LIMITS, Limits, SafeArchive, parse_xml
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
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"

# Attributes the representation keeps, per element; any other non-empty attribute is reported.
_KEPT_ATTRS: dict[str, set[str]] = {
    "Project": {"name", "origin"},
    "User": {"guid", "name", "id"},
    "Code": {"guid", "name", "isCodable", "color"},
    "Variable": {"guid", "name", "typeOfVariable"},
    "Case": {"guid", "name"},
    "TextSource": {"guid", "name", "plainTextPath", "richTextPath", "creatingUser"}
    | {"creationDateTime"},
    "PlainTextSelection": {"guid", "name", "startPosition", "endPosition", "creatingUser"}
    | {"creationDateTime"},
    "Coding": {"guid", "creatingUser", "creationDateTime"},
    "Note": {"guid", "name", "plainTextPath", "creatingUser", "creationDateTime"},
    "Link": {"guid", "name", "direction", "color", "originGUID", "targetGUID"},
    "Set": {"guid", "name"},
}


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
        reader = _ProjectReader(archive, report, where, limits, strict)
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
    codes = _read_codes(codes_el, q, index, report, path.name) if codes_el is not None else []
    book = RefiCodebook(origin=root.get("origin"), codes=codes)
    sets_el = root.find(q + "Sets")
    for set_el in sets_el.findall(q + "Set") if sets_el is not None else []:
        guid = _required(set_el, "guid", path.name)
        item = RefiSet(guid, set_el.get("name") or "", _child_text(set_el, q + "Description"))
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


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(el: Element, tag: str) -> str | None:
    child = el.find(tag)
    if child is None:
        return None
    return child.text or ""


def _required(el: Element, attr: str, where: str) -> str:
    value = el.get(attr)
    if value is None or not value.strip():
        raise InvalidInput(
            f"<{_local(el.tag)}> has no {attr} attribute", where=where, hint="the file is damaged"
        )
    return value


def _canonical_namespace(root: Element, kind: str, report: LossReport, where: str) -> None:
    """Check the root element; map accepted namespace variants onto the canonical one."""
    canonical, root_name = (
        (PROJECT_NS, "Project") if kind == "project" else (CODEBOOK_NS, "CodeBook")
    )
    ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else ""
    if _local(root.tag) != root_name:
        raise InvalidInput(
            f"the root element is <{_local(root.tag)}>, not <{root_name}>",
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
            el.tag = f"{{{canonical}}}{_local(el.tag)}"
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


def _decode(data: bytes, what: str, where: str | None = None) -> str:
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


def _docx_text(data: bytes, where: str, limits: Limits) -> str:
    """Plain text of a .docx: paragraphs and table rows (cells tab-separated), one per line."""
    from docx import Document
    from docx.table import Table

    SafeArchive(data, where=where, limits=limits).close()  # a .docx is a zip: same checks
    try:
        document = Document(io.BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend("\t".join(c.text for c in row.cells) for row in block.rows)
            else:
                lines.append(block.text)
    except Exception as exc:  # python-docx raises many types on malformed packages
        raise InvalidInput(f"the .docx cannot be read ({type(exc).__name__})", where=where) from exc
    return "\n".join(lines)


def _read_codes(
    codes_el: Element, q: str, index: dict[str, tuple[str, Any]], report: LossReport, where: str
) -> list[RefiCode]:
    def one(el: Element) -> RefiCode:
        guid = _required(el, "guid", where)
        codable = el.get("isCodable")
        if codable is None:
            report.warn("codes without isCodable", "taken as codable")
        code = RefiCode(
            guid=guid,
            name=el.get("name") or "",
            is_codable=codable is None or codable.strip() in ("true", "1"),
            description=_child_text(el, q + "Description"),
            color=el.get("color"),
        )
        _register(index, guid, "code", code, where)
        code.children = [one(child) for child in el.findall(q + "Code")]
        return code

    return [one(el) for el in codes_el.findall(q + "Code")]


def _register(
    index: dict[str, tuple[str, Any]], guid: str, kind: str, obj: Any, where: str
) -> None:
    key = guid_key(guid)
    if key in index:
        raise InvalidInput(
            f"GUID {guid} is used twice ({index[key][0]} and {kind})",
            where=where,
            hint="every object in a REFI-QDA file needs its own GUID",
        )
    index[key] = (kind, obj)


def _read_extensions(
    archive: SafeArchive, project: RefiProject, report: LossReport, used: set[str]
) -> None:
    name = archive.find(EXTENSIONS_ENTRY)
    if name is None:
        return
    used.add(name)
    where = f"{archive.where}/{name}"
    try:
        payload = json.loads(_decode(archive.read(name), name, archive.where))
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


def _parse_value(kind: str, raw: str | None) -> Any:
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


class _ProjectReader:
    def __init__(
        self, archive: SafeArchive, report: LossReport, where: str, limits: Limits, strict: bool
    ):
        self.archive = archive
        self.report = report
        self.where = where
        self.limits = limits
        self.strict = strict
        self.q = f"{{{PROJECT_NS}}}"
        self.index: dict[str, tuple[str, Any]] = {}
        self.users: dict[str, RefiUser] = {}
        self.variables: dict[str, RefiVariable] = {}
        self.used: set[str] = set()
        self.handled: list[Element] = []
        self.note_refs: list[tuple[str, str]] = []  # (note guid as referenced, target)

    # -- helpers

    def at(self, el: Element) -> str:
        guid = el.get("guid")
        return f"{self.where} <{_local(el.tag)}{f' guid={guid}' if guid else ''}>"

    def find(self, el: Element, tag: str) -> Element | None:
        return el.find(self.q + tag)

    def findall(self, el: Element, tag: str) -> list[Element]:
        return el.findall(self.q + tag)

    def lookup(self, guid: str | None) -> tuple[str, Any] | None:
        return self.index.get(guid_key(guid)) if guid else None

    def user_ref(self, guid: str | None) -> str | None:
        if not guid:
            return None
        user = self.users.get(guid_key(guid))
        if user is None:
            self.report.warn("references to a user not listed in <Users>", "kept as the bare GUID")
            return guid
        return user.guid

    def collect_note_refs(self, el: Element, target: str) -> None:
        for ref in self.findall(el, "NoteRef"):
            self.note_refs.append((ref.get("targetGUID") or "", target))

    def dangling(self, what: str, guid: str | None) -> None:
        hit = self.lookup(guid)
        if hit is not None and hit[0] == "skipped":
            self.report.lost(what, f"it refers to a {hit[1]}, which was skipped")
        else:
            self.report.skipped(what, "it refers to a GUID that is not in the file")

    # -- sections

    def read(self, root: Element) -> RefiProject:
        q = self.q
        self.handled.append(root)
        project = RefiProject(
            name=root.get("name") or "",
            origin=root.get("origin"),
            description=_child_text(root, q + "Description"),
        )
        if (users := self.find(root, "Users")) is not None:
            for el in self.findall(users, "User"):
                self.handled.append(el)
                user = RefiUser(_required(el, "guid", self.at(el)), el.get("name"), el.get("id"))
                _register(self.index, user.guid, "user", user, self.at(el))
                self.users[guid_key(user.guid)] = user
                project.users.append(user)
        book = self.find(root, "CodeBook")
        codes = self.find(book, "Codes") if book is not None else None
        if codes is not None:
            project.codes = _read_codes(codes, q, self.index, self.report, self.where)
            for el in codes.iter(q + "Code"):
                self.handled.append(el)
                self.collect_note_refs(el, self.index[guid_key(el.get("guid", ""))][1].guid)
        if (variables := self.find(root, "Variables")) is not None:
            for el in self.findall(variables, "Variable"):
                project.variables.append(self.variable(el))
        if (sources := self.find(root, "Sources")) is not None:
            for el in sources:
                if _local(el.tag) == "TextSource":
                    source = self.text_source(el)
                    if source is not None:
                        project.sources.append(source)
                else:
                    self.skip_source(el)
        if (notes := self.find(root, "Notes")) is not None:
            for el in self.findall(notes, "Note"):
                project.notes.append(self.note(el))
        if (cases := self.find(root, "Cases")) is not None:
            for el in self.findall(cases, "Case"):
                project.cases.append(self.case(el))
        if (sets := self.find(root, "Sets")) is not None:
            for el in self.findall(sets, "Set"):
                project.sets.append(self.set(el))
        if (links := self.find(root, "Links")) is not None:
            for el in self.findall(links, "Link"):
                link = self.link(el)
                if link is not None:
                    project.links.append(link)
        if (graphs := self.find(root, "Graphs")) is not None:
            graph_list = self.findall(graphs, "Graph")
            self.report.lost("graphs", "caseframe has no graph view", len(graph_list))
        self.collect_note_refs(root, PROJECT_TARGET)
        self.attach_notes()
        self.report_attributes()
        return project

    def variable(self, el: Element) -> RefiVariable:
        self.handled.append(el)
        at = self.at(el)
        kind = el.get("typeOfVariable") or "Text"
        if kind not in VARIABLE_TYPES:
            self.report.warn(f"variable type {kind!r}", "read as Text")
            kind = "Text"
        name = el.get("name") or ""
        if name in {v.name for v in self.variables.values()}:
            renamed = f"{name} ({el.get('guid')})"
            self.report.warn(f"two variables named {name!r}", f"the second is named {renamed!r}")
            name = renamed
        var = RefiVariable(
            _required(el, "guid", at), name, kind, _child_text(el, self.q + "Description")
        )
        _register(self.index, var.guid, "variable", var, at)
        self.variables[guid_key(var.guid)] = var
        return var

    def variable_value(self, el: Element, owner: str) -> tuple[str, VariableValue] | None:
        ref = self.find(el, "VariableRef")
        var = self.variables.get(guid_key(ref.get("targetGUID") or "")) if ref is not None else None
        if var is None:
            self.report.skipped(f"variable values on {owner}", "they name an unknown variable")
            return None
        value_el = next((c for c in el if _local(c.tag) != "VariableRef"), None)
        if value_el is None:
            return var.name, (var.type, None)
        kind = _local(value_el.tag).removesuffix("Value")
        try:
            value = _parse_value(kind, value_el.text)
        except ValueError as exc:
            message = f"value {value_el.text!r} of variable {var.name!r} is not a valid {kind}"
            if self.strict:
                raise InvalidInput(message, where=self.at(el)) from exc
            self.report.warn(f"variable values that are not valid {kind}", "kept as Text")
            return var.name, ("Text", value_el.text or "")
        return var.name, (kind, value)

    def resolve_entry(self, path: str) -> tuple[str, str | None]:
        """('internal', entry name or None) or ('external', None) for a REFI source path."""
        lowered = path.casefold()
        if lowered.startswith(("relative://", "absolute://", "file://", "http://", "https://")):
            return "external", None
        name = path[len("internal://") :] if lowered.startswith("internal://") else path
        name = name.lstrip("/")
        entry = self.archive.find(f"sources/{name}") or self.archive.find(name)
        return "internal", entry

    def read_text_entry(self, entry: str, what: str) -> str:
        self.used.add(entry)
        return _decode(self.archive.read(entry), f"{what} ({entry})", self.archive.where)

    def source_text(self, el: Element, label: str) -> str | None:
        """The plain text of a TextSource or Note; None when it is stored outside the archive."""
        inline = self.find(el, "PlainTextContent")
        if inline is not None:
            return inline.text or ""
        plain_path, rich_path = el.get("plainTextPath"), el.get("richTextPath")
        plain_kind, plain_entry = self.resolve_entry(plain_path) if plain_path else ("", None)
        rich_entry = None
        if rich_path and rich_path.casefold().endswith(".docx"):
            rich_entry = self.resolve_entry(rich_path)[1]
            if rich_entry is not None:
                self.used.add(rich_entry)  # referenced; its formatting is reported as lost
        if plain_entry is not None:
            raw_size = self.archive.size(plain_entry)
            text = self.read_text_entry(plain_entry, label)
            if rich_entry is not None and raw_size <= 1 and not text.strip():
                text = _docx_text(
                    self.archive.read(rich_entry), f"{self.where} {rich_entry}", self.limits
                )
                self.report.warn(
                    "sources whose plain text file is empty or 1 byte",
                    "text extracted from their .docx rich text",
                )
            return text
        if rich_entry is not None:
            why = "plain text missing from the archive" if plain_path else "no plain text given"
            self.report.warn(f"sources with {why}", "text extracted from their .docx rich text")
            return _docx_text(
                self.archive.read(rich_entry), f"{self.where} {rich_entry}", self.limits
            )
        if plain_kind == "external":
            return None
        if plain_path:
            raise InvalidInput(
                f"the source file {plain_path!r} of {label} is missing from the archive",
                where=self.at(el),
                hint="export the project again with its sources",
            )
        raise InvalidInput(
            f"{label} has neither text content nor a plainTextPath", where=self.at(el)
        )

    def coding(self, el: Element) -> RefiCoding:
        self.handled.append(el)
        at = self.at(el)
        guid = _required(el, "guid", at)
        ref = self.find(el, "CodeRef")
        target = ref.get("targetGUID") if ref is not None else None
        hit = self.lookup(target)
        if hit is None or hit[0] != "code":
            raise InvalidInput(
                f"coding {guid} refers to code {target}, which is not in the codebook",
                where=at,
                hint="the file is inconsistent; export it again",
            )
        coding = RefiCoding(guid, hit[1].guid, self.user_ref(el.get("creatingUser")))
        coding.created = el.get("creationDateTime")
        _register(self.index, guid, "coding", coding, at)
        self.collect_note_refs(el, guid)
        return coding

    def text_source(self, el: Element) -> RefiSource | None:
        self.handled.append(el)
        at = self.at(el)
        guid = _required(el, "guid", at)
        name = el.get("name")
        text = self.source_text(el, f"source {name or guid}")
        if text is None:
            self.skip_source(el, why="its text is stored outside the archive and is not read")
            return None
        if not name:
            path = el.get("plainTextPath") or el.get("richTextPath") or ""
            name = path.replace("\\", "/").rsplit("/", 1)[-1] or guid
            self.report.warn("text sources without a name", "named after their file")
        source = RefiSource(
            guid=guid,
            name=name,
            text=text,
            description=_child_text(el, self.q + "Description"),
            rich_text_path=el.get("richTextPath"),
            creating_user=self.user_ref(el.get("creatingUser")),
            created=el.get("creationDateTime"),
        )
        _register(self.index, guid, "source", source, at)
        if source.rich_text_path:
            self.report.lost("rich-text (.docx) versions of sources", "only the plain text is kept")
        self.collect_note_refs(el, guid)
        length = len(text)
        for sel_el in self.findall(el, "PlainTextSelection"):
            self.handled.append(sel_el)
            sat = self.at(sel_el)
            sguid = _required(sel_el, "guid", sat)
            try:
                start = int(_required(sel_el, "startPosition", sat))
                end = int(_required(sel_el, "endPosition", sat))
            except ValueError as exc:
                raise InvalidInput("selection positions are not integers", where=sat) from exc
            if not 0 <= start <= end <= length:
                raise InvalidInput(
                    f"selection {sguid} [{start}, {end}) lies outside source {name!r}, "
                    f"which has {length} characters",
                    where=sat,
                    hint="the file is inconsistent; export it again",
                )
            selection = RefiSelection(
                guid=sguid,
                start=start,
                end=end,
                name=sel_el.get("name"),
                description=_child_text(sel_el, self.q + "Description"),
                creating_user=self.user_ref(sel_el.get("creatingUser")),
                created=sel_el.get("creationDateTime"),
            )
            _register(self.index, sguid, "selection", selection, sat)
            self.collect_note_refs(sel_el, sguid)
            selection.codings = [self.coding(c) for c in self.findall(sel_el, "Coding")]
            source.selections.append(selection)
        source.codings = [self.coding(c) for c in self.findall(el, "Coding")]
        for vv in self.findall(el, "VariableValue"):
            pair = self.variable_value(vv, "sources")
            if pair is not None:
                source.variables[pair[0]] = pair[1]
        return source

    def skip_source(self, el: Element, why: str | None = None) -> None:
        kind = _local(el.tag)
        why = why or "only text sources are supported"
        self.report.skipped(f"{kind}s", why)
        selections = [d for d in el.iter() if _local(d.tag).endswith("Selection")]
        codings = [d for d in el.iter() if _local(d.tag) == "Coding"]
        refs = [d for d in el.iter() if _local(d.tag) == "NoteRef"]
        self.report.lost(f"selections in skipped {kind}s", why, len(selections))
        self.report.lost(f"codings in skipped {kind}s", why, len(codings))
        self.report.lost(f"note attachments in skipped {kind}s", why, len(refs))
        for d in el.iter():
            guid = d.get("guid")
            if guid and guid_key(guid) not in self.index:
                self.index[guid_key(guid)] = ("skipped", f"skipped {kind}")
        for attr in ("path", "plainTextPath", "richTextPath"):
            for d in el.iter():
                if d.get(attr):
                    entry = self.resolve_entry(d.get(attr) or "")[1]
                    if entry:
                        self.used.add(entry)

    def note(self, el: Element) -> RefiNote:
        self.handled.append(el)
        at = self.at(el)
        guid = _required(el, "guid", at)
        has_text = self.find(el, "PlainTextContent") is not None or any(
            el.get(a) for a in ("plainTextPath", "richTextPath")
        )  # a note may be only a name and a description
        text = self.source_text(el, f"note {el.get('name') or guid}") if has_text else ""
        if text is None:
            self.report.lost("note texts stored outside the archive", "external files are not read")
            text = ""
        note = RefiNote(
            guid=guid,
            name=el.get("name"),
            text=text,
            description=_child_text(el, self.q + "Description"),
            creating_user=self.user_ref(el.get("creatingUser")),
            created=el.get("creationDateTime"),
        )
        _register(self.index, guid, "note", note, at)
        self.collect_note_refs(el, guid)
        inner = [d for d in el.iter() if _local(d.tag) in ("PlainTextSelection", "Coding")]
        self.report.lost(
            "selections and codings inside notes", "caseframe does not code memo text", len(inner)
        )
        self.report.lost(
            "variable values on notes",
            "notes have no variables in caseframe",
            len(self.findall(el, "VariableValue")),
        )
        return note

    def case(self, el: Element) -> RefiCase:
        self.handled.append(el)
        at = self.at(el)
        case = RefiCase(
            guid=_required(el, "guid", at),
            name=el.get("name"),
            description=_child_text(el, self.q + "Description"),
        )
        _register(self.index, case.guid, "case", case, at)
        for tag, kind, target in (
            ("CodeRef", "code", case.code_guids),
            ("SourceRef", "source", case.source_guids),
            ("SelectionRef", "selection", case.selection_guids),
        ):
            for ref in self.findall(el, tag):
                guid = ref.get("targetGUID")
                hit = self.lookup(guid)
                if hit is None or hit[0] != kind:
                    self.dangling(f"case members ({tag})", guid)
                else:
                    target.append(hit[1].guid)
        for vv in self.findall(el, "VariableValue"):
            pair = self.variable_value(vv, "cases")
            if pair is not None:
                case.variables[pair[0]] = pair[1]
        return case

    def set(self, el: Element) -> RefiSet:
        self.handled.append(el)
        at = self.at(el)
        item = RefiSet(
            _required(el, "guid", at), el.get("name") or "", _child_text(el, self.q + "Description")
        )
        _register(self.index, item.guid, "set", item, at)
        for tag, kind, target in (
            ("MemberCode", "code", item.code_guids),
            ("MemberSource", "source", item.source_guids),
            ("MemberNote", "note", item.note_guids),
        ):
            for ref in self.findall(el, tag):
                guid = ref.get("targetGUID")
                hit = self.lookup(guid)
                if hit is None or hit[0] != kind:
                    self.dangling(f"set members ({tag})", guid)
                else:
                    target.append(hit[1].guid)
        return item

    def link(self, el: Element) -> RefiLink | None:
        self.handled.append(el)
        at = self.at(el)
        guid = _required(el, "guid", at)
        origin, target = self.lookup(el.get("originGUID")), self.lookup(el.get("targetGUID"))
        if origin is not None and origin[0] == "note":
            # a link from a note is how REFI attaches a note to objects without <NoteRef>
            if target is None or target[0] == "skipped":
                self.dangling("note attachments (Link)", el.get("targetGUID"))
            else:
                origin[1].targets.append(target[1].guid)
            if el.get("name") or el.get("color"):
                self.report.lost(
                    "names and colours of links from notes", "a note attachment has neither"
                )
            self.report.lost(
                "notes on links from notes",
                "the link becomes a note attachment",
                len(self.findall(el, "NoteRef")),
            )
            self.handled.remove(el)
            return None
        for end, hit in ((el.get("originGUID"), origin), (el.get("targetGUID"), target)):
            if end and (hit is None or hit[0] == "skipped"):
                self.dangling("links", end)
                return None
        link = RefiLink(
            guid=guid,
            origin_guid=origin[1].guid if origin else None,
            target_guid=target[1].guid if target else None,
            name=el.get("name"),
            direction=el.get("direction"),
            color=el.get("color"),
        )
        _register(self.index, guid, "link", link, at)
        self.collect_note_refs(el, guid)
        return link

    def attach_notes(self) -> None:
        for note_guid, target in self.note_refs:
            hit = self.lookup(note_guid)
            if hit is None or hit[0] != "note":
                self.dangling("note references (NoteRef)", note_guid)
                continue
            hit[1].targets.append(target)
        for kind, obj in self.index.values():
            if kind == "note":
                obj.targets = sort_targets(obj.targets)

    def report_attributes(self) -> None:
        dropped: dict[str, set[str]] = {}
        counts: dict[str, int] = {}
        for el in self.handled:
            tag = _local(el.tag)
            kept = _KEPT_ATTRS.get(tag, set())
            for attr, value in el.attrib.items():
                if attr in kept or attr.startswith(_XSI) or not value.strip():
                    continue
                dropped.setdefault(attr, set()).add(tag)
                counts[attr] = counts.get(attr, 0) + 1
        for attr in sorted(dropped):
            on = ", ".join(sorted(dropped[attr]))
            self.report.lost(f"{attr} attributes (on {on})", "not kept", counts[attr])
