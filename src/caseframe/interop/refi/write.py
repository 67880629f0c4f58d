"""Writers of REFI-QDA 1.5 projects (.qdpx) and codebooks (.qdc) that validate against the XSDs.

Layout of a .qdpx written here:
    project.qde                     namespace urn:QDA-XML:project:1.0, GUIDs uppercase
    sources/<GUID>.txt              each text source as UTF-8 without BOM, text exactly as given
    sources/<GUID>.<ext>            each recording of a transcribed source, stored (not deflated)
    caseframe/extensions.json       only when RefiProject.extensions is not empty (docs/refi.md)

A source with a recording is written twice over: as the <TextSource> that holds its codings
(what every peer reads) and as an <AudioSource> whose <Transcript> names the same text file and
carries the sync points (docs/refi.md, "Recordings").

Notes attach to codes, sources, selections, codings, notes, links and the project with <NoteRef>;
REFI has no NoteRef on cases, sets, users or variables, so those attachments are written as a
<Link> from the note to the target, which the reader turns back into a note target.
Output is checked before anything is written and written atomically (temporary file, then
os.replace), so a failed export leaves no file behind. Entry timestamps are fixed so the same
project always gives the same bytes.
"""

from __future__ import annotations

import json
import math
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from caseframe.errors import InvalidInput
from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi.model import (
    PROJECT_TARGET,
    VARIABLE_TYPES,
    RefiCode,
    RefiCodebook,
    RefiCoding,
    RefiMedia,
    RefiProject,
    RefiSelection,
    RefiSource,
    RefiVariable,
    VariableValue,
    code_depths,
    guid_key,
)
from caseframe.interop.refi.read import EXTENSIONS_ENTRY, EXTENSIONS_FORMAT, EXTENSIONS_VERSION
from caseframe.interop.refi.safety import MAX_CODE_DEPTH
from caseframe.interop.refi.schemas import (
    CODEBOOK_NS,
    PROJECT_NS,
    schema_errors,
    schemas_available,
)
from caseframe.interop.refi.write_media import carried_media, write_stream
from caseframe.util.atomic import atomic_write
from caseframe.util.tree import CycleError

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# Deflate level 1: four to five times faster than zlib's default (6) on transcripts and XML, for
# archives about a sixth larger (bench/refi_vs_qc.py prints both sizes).
_DEFLATE_LEVEL = 1
_GUID_RE = re.compile(
    r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$"
)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Fixed namespace for GUIDs the writer has to invent (variable definitions, note links), so the
# same project always gets the same GUIDs.
_WRITER_NS = uuid.UUID("0f6b7c3e-6a56-4c1e-9d0a-3f1f5d3c2b10")
_NOTEREF_KINDS = {"code", "source", "selection", "coding", "note", "link"}


# --------------------------------------------------------------------------- public API


def write_qdpx(project: RefiProject, out_path: str | Path, *, validate: bool = True) -> LossReport:
    """Write `project` as a .qdpx at out_path; returns what the export could not carry."""
    report = LossReport()
    carried = carried_media(project, report)
    builder = _ProjectXml(project, report, carried)
    xml = builder.build()
    if validate:
        _check_schema(xml, "project", report)
    entries: list[tuple[str, bytes | Callable[[], Iterator[bytes]]]] = [("project.qde", xml)]
    for source in project.sources:
        try:
            data = source.text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidInput(
                f"source {source.name!r} holds text that cannot be encoded as UTF-8"
            ) from exc
        entries.append((f"sources/{guid_key(source.guid)}.txt", data))
        if source.media is not None and source.media.entry in carried:
            entries.append((f"sources/{source.media.entry}", source.media.blocks))  # type: ignore[arg-type]
    if project.extensions:
        entries.append((EXTENSIONS_ENTRY, _extensions_json(project.extensions)))
    rich = sum(1 for s in project.sources if s.rich_text_path)
    report.lost("rich-text (.docx) versions of sources", "only the plain text is exported", rich)
    atomic_write(out_path, lambda tmp: _write_zip(tmp, entries))
    return report


def write_qdc(codebook: RefiCodebook, out_path: str | Path, *, validate: bool = True) -> LossReport:
    """Write `codebook` as a .qdc at out_path; returns what the export could not carry."""
    report = LossReport()
    if not codebook.codes:
        raise InvalidInput("the codebook has no codes", hint="REFI-QDA needs at least one code")
    q = ""  # plain tags plus an xmlns attribute: ElementTree's default_namespace breaks on attrs
    root = ET.Element("CodeBook", xmlns=CODEBOOK_NS)
    _set(root, "origin", codebook.origin)
    known: dict[str, str] = {}
    _codes_xml(ET.SubElement(root, q + "Codes"), codebook.codes, q, known, None)
    sets = [s for s in codebook.sets if s.code_guids]
    for item in codebook.sets:
        report.lost(
            "set members that are not codes",
            "a codebook holds codes only",
            len(item.source_guids) + len(item.note_guids),
        )
        if not item.code_guids:
            report.lost("sets without codes", "a codebook set needs codes", 1)
    if sets:
        sets_el = ET.SubElement(root, q + "Sets")
        for item in sets:
            set_el = ET.SubElement(sets_el, q + "Set", guid=_g(item.guid), name=_s(item.name))
            _text(set_el, q + "Description", item.description)
            for code_guid in item.code_guids:
                if guid_key(code_guid) not in known:
                    raise InvalidInput(f"set {item.name!r} names unknown code {code_guid}")
                ET.SubElement(set_el, q + "MemberCode", guid=_g(code_guid))
    xml = _serialise(root)
    if validate:
        _check_schema(xml, "codebook", report)
    atomic_write(out_path, xml)
    return report


def project_xml(project: RefiProject) -> bytes:
    """The project.qde document for `project` (what write_qdpx puts in the archive)."""
    report = LossReport()
    return _ProjectXml(project, report, carried_media(project, report)).build()


# --------------------------------------------------------------------------- helpers


def _g(guid: str) -> str:
    if not isinstance(guid, str):
        raise InvalidInput(f"{guid!r} is not a GUID", hint="use 8-4-4-4-12 hexadecimal digits")
    return _checked_guid(guid)


@lru_cache(maxsize=1 << 16)  # the same code, user and source GUIDs recur thousands of times
def _checked_guid(guid: str) -> str:
    if not _GUID_RE.match(guid.strip()):
        raise InvalidInput(f"{guid!r} is not a GUID", hint="use 8-4-4-4-12 hexadecimal digits")
    return guid_key(guid)


def _s(value: str) -> str:
    if _XML_ILLEGAL.search(value):
        raise InvalidInput(
            f"the text {value[:40]!r} holds a control character that XML cannot carry"
        )
    return value


def _set(el: ET.Element, attr: str, value: str | None) -> None:
    if value is not None:
        el.set(attr, _s(value))


def _text(parent: ET.Element, tag: str, value: str | None) -> None:
    if value is not None:
        ET.SubElement(parent, tag).text = _s(value)


def _serialise(root: ET.Element) -> bytes:
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    # XML parsers turn a raw CR into LF; a character reference keeps it (memo and description text)
    return data.replace(b"\r", b"&#13;")


def _check_schema(xml: bytes, kind: str, report: LossReport) -> None:
    if not schemas_available():
        report.warn("schema validation", "the REFI-QDA schemas were not found; not validated")
        return
    errors = schema_errors(None, kind, xml=xml)  # validated once, from the bytes written
    if errors:
        raise InvalidInput(
            f"the export would not conform to the REFI-QDA schema: {errors[0]}",
            hint="fix the value named, then export again; nothing was written",
        )


def _codes_xml(
    parent: ET.Element,
    codes: list[RefiCode],
    q: str,
    known: dict[str, str],
    note_refs: dict[str, list[str]] | None,
) -> None:
    """The code tree as nested <Code> elements, iteratively; deeper than MAX_CODE_DEPTH levels
    is refused, since no reader (ours included) should have to accept it."""
    elements: dict[int, ET.Element] = {}
    try:
        for code, above, _depth in code_depths(codes, max_depth=MAX_CODE_DEPTH):
            key = _g(code.guid)
            if key in known:
                raise InvalidInput(f"GUID {code.guid} is used by two codes")
            known[key] = "code"
            el = ET.SubElement(
                elements[id(above)] if above is not None else parent,
                q + "Code",
                guid=key,
                name=_s(code.name),
                isCodable="true" if code.is_codable else "false",
            )
            elements[id(code)] = el
            _set(el, "color", code.color)
            _text(el, q + "Description", code.description)
            if note_refs is not None:
                for note in note_refs.get(key, []):
                    ET.SubElement(el, q + "NoteRef", targetGUID=note)
    except CycleError as exc:
        raise InvalidInput(f"code {exc.node!r} appears twice in the code tree") from exc
    except ValueError as exc:  # from the walk: deeper than the limit
        raise InvalidInput(
            f"the code tree is more than {MAX_CODE_DEPTH} levels deep, more than REFI-QDA "
            "exchange allows here",
            hint="move deep codes up the tree, then export again; nothing was written",
        ) from exc


def _format_value(kind: str, value: Any, what: str) -> str:
    ok = {
        "Text": isinstance(value, str),
        "Boolean": isinstance(value, bool),
        "Integer": isinstance(value, int) and not isinstance(value, bool),
        "Float": isinstance(value, int | float | Decimal) and not isinstance(value, bool),
        "Date": isinstance(value, date) and not isinstance(value, datetime),
        "DateTime": isinstance(value, datetime),
    }.get(kind, False)
    if not ok:
        raise InvalidInput(f"{what}: {value!r} is not a {kind} value")
    if kind == "Text":
        return _s(value)
    if kind == "Boolean":
        return "true" if value else "false"
    if kind == "Float":
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidInput(f"{what}: {value!r} cannot be written as a decimal")
        return format(Decimal(repr(value)) if isinstance(value, float) else Decimal(value), "f")
    if kind in ("Date", "DateTime"):
        return value.isoformat()
    return str(value)


def _upper_guids(value: Any) -> Any:
    """Extension data with every GUID (key or string value) in the writer's uppercase form."""
    if isinstance(value, dict):
        return {_upper_guids(k): _upper_guids(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_upper_guids(v) for v in value]
    if isinstance(value, str) and len(value) in (36, 38) and _GUID_RE.match(value):
        return guid_key(value)
    return value


def _extensions_json(extensions: dict[str, Any]) -> bytes:
    payload = {
        "format": EXTENSIONS_FORMAT,
        "version": EXTENSIONS_VERSION,
        "data": _upper_guids(extensions),
    }
    try:
        # compact: the C encoder, and a third of the bytes to compress (no indentation)
        text = json.dumps(
            payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"the extension data cannot be stored as JSON ({exc})",
            hint="use strings, numbers, booleans, lists and objects only",
        ) from exc
    return text.encode("utf-8")


def _write_zip(
    path: Path, entries: list[tuple[str, bytes | Callable[[], Iterator[bytes]]]]
) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            if callable(data):
                write_stream(archive, info, data)
                continue
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=_DEFLATE_LEVEL)


# --------------------------------------------------------------------------- project document


class _ProjectXml:
    def __init__(self, project: RefiProject, report: LossReport, carried: set[str]):
        self.p = project
        self.report = report
        self.carried = carried  # entry names of the recordings written into the archive
        self.q = ""  # see write_qdc: the namespace is set as an xmlns attribute on the root
        self.kinds: dict[str, str] = {}  # GUID key -> kind, for checks and note placement
        self.note_refs: dict[str, list[str]] = {}  # target key -> note GUIDs
        self.note_links: list[tuple[str, str]] = []  # (note key, target key)
        self.variables: dict[str, RefiVariable] = {}

    def register(self, guid: str, kind: str) -> str:
        key = _g(guid)
        if key in self.kinds:
            raise InvalidInput(f"GUID {guid} is used twice ({self.kinds[key]} and {kind})")
        self.kinds[key] = kind
        return key

    def expect(self, guid: str, kinds: set[str], what: str) -> str:
        key = _g(guid)
        if self.kinds.get(key) not in kinds:
            raise InvalidInput(f"{what} refers to {guid}, which is not a {'/'.join(sorted(kinds))}")
        return key

    def index(self) -> None:
        p = self.p
        for user in p.users:
            self.register(user.guid, "user")
        for code in p.walk_codes():
            self.register(code.guid, "code")
        for var in p.variables:
            self.register(var.guid, "variable")
            if var.type not in VARIABLE_TYPES:
                raise InvalidInput(f"variable {var.name!r} has unknown type {var.type!r}")
            if var.name in self.variables:
                raise InvalidInput(f"two variables are named {var.name!r}")
            self.variables[var.name] = var
        for case in p.cases:
            self.register(case.guid, "case")
        for source in p.sources:
            self.register(source.guid, "source")
            for selection in source.selections:
                self.register(selection.guid, "selection")
                for coding in selection.codings:
                    self.register(coding.guid, "coding")
            for coding in source.codings:
                self.register(coding.guid, "coding")
            if source.media is not None:
                self.register(source.media.guid, "recording")
                self.register(source.media.transcript_guid or "", "transcript")
                for point in source.media.sync_points:
                    self.register(point.guid, "sync point")
        for note in p.notes:
            self.register(note.guid, "note")
        for link in p.links:
            self.register(link.guid, "link")
        for item in p.sets:
            self.register(item.guid, "set")
        for note in p.notes:
            note_key = _g(note.guid)
            for target in note.targets:
                if target == PROJECT_TARGET:
                    self.note_refs.setdefault(PROJECT_TARGET, []).append(note_key)
                    continue
                key = _g(target)
                kind = self.kinds.get(key)
                if kind is None:
                    raise InvalidInput(
                        f"note {note.name or note.guid!r} is attached to unknown {target}"
                    )
                if kind in _NOTEREF_KINDS:
                    self.note_refs.setdefault(key, []).append(note_key)
                else:
                    self.note_links.append((note_key, key))

    def noterefs(self, el: ET.Element, key: str) -> None:
        for note in self.note_refs.get(key, []):
            ET.SubElement(el, self.q + "NoteRef", targetGUID=note)

    def build(self) -> bytes:
        self.index()
        p, q = self.p, self.q
        root = ET.Element("Project", xmlns=PROJECT_NS, name=_s(p.name))
        _set(root, "origin", p.origin)
        if p.users:
            users = ET.SubElement(root, q + "Users")
            for user in p.users:
                el = ET.SubElement(users, q + "User", guid=_g(user.guid))
                _set(el, "name", user.name)
                _set(el, "id", user.id)
        if p.codes:
            codes = ET.SubElement(ET.SubElement(root, q + "CodeBook"), q + "Codes")
            _codes_xml(codes, p.codes, q, {}, self.note_refs)
        variables_el = ET.SubElement(root, q + "Variables")
        if p.cases:
            cases = ET.SubElement(root, q + "Cases")
            for case in p.cases:
                self.case(cases, case)
        if p.sources:
            sources = ET.SubElement(root, q + "Sources")
            for source in p.sources:
                self.source(sources, source)
                if source.media is not None:
                    self.recording(sources, source, source.media)
        if p.notes:
            notes = ET.SubElement(root, q + "Notes")
            for note in p.notes:
                el = ET.SubElement(notes, q + "Note", guid=_g(note.guid))
                _set(el, "name", note.name)
                self.creator(el, note.creating_user, note.created)
                _text(el, q + "Description", note.description)
                _text(el, q + "PlainTextContent", note.text)
                self.noterefs(el, _g(note.guid))
        if p.links or self.note_links:
            links = ET.SubElement(root, q + "Links")
            for link in p.links:
                el = ET.SubElement(links, q + "Link", guid=_g(link.guid))
                _set(el, "name", link.name)
                _set(el, "direction", link.direction)
                _set(el, "color", link.color)
                for attr, end in (
                    ("originGUID", link.origin_guid),
                    ("targetGUID", link.target_guid),
                ):
                    if end is not None:
                        el.set(
                            attr, self.expect(end, set(self.kinds.values()), f"link {link.guid}")
                        )
                self.noterefs(el, _g(link.guid))
            for note_key, target_key in self.note_links:
                guid = str(uuid.uuid5(_WRITER_NS, f"note-link:{note_key}:{target_key}")).upper()
                ET.SubElement(
                    links,
                    q + "Link",
                    guid=guid,
                    direction="OneWay",
                    originGUID=note_key,
                    targetGUID=target_key,
                )
        if p.sets:
            sets = ET.SubElement(root, q + "Sets")
            for item in p.sets:
                el = ET.SubElement(sets, q + "Set", guid=_g(item.guid), name=_s(item.name))
                _text(el, q + "Description", item.description)
                for tag, kind, members in (
                    ("MemberCode", "code", item.code_guids),
                    ("MemberSource", "source", item.source_guids),
                    ("MemberNote", "note", item.note_guids),
                ):
                    for guid in members:
                        key = self.expect(guid, {kind}, f"set {item.name!r}")
                        ET.SubElement(el, q + tag, targetGUID=key)
        _text(root, q + "Description", p.description)
        self.noterefs(root, PROJECT_TARGET)
        # variables last: values seen on cases and sources may need definitions
        for var in self.variables.values():
            el = ET.SubElement(variables_el, q + "Variable", guid=_g(var.guid), name=_s(var.name))
            el.set("typeOfVariable", var.type)
            _text(el, q + "Description", var.description)
        if not len(variables_el):
            root.remove(variables_el)
        return _serialise(root)

    def creator(self, el: ET.Element, user: str | None, created: str | None) -> None:
        if user is not None:
            el.set("creatingUser", _g(user))
        _set(el, "creationDateTime", created)

    def variable_values(
        self, parent: ET.Element, values: dict[str, VariableValue], owner: str
    ) -> None:
        for name, (kind, value) in values.items():
            var = self.variables.get(name)
            if var is None:
                guid = str(uuid.uuid5(_WRITER_NS, f"variable:{name}")).upper()
                var = RefiVariable(guid, name, kind)
                self.register(guid, "variable")
                self.variables[name] = var
                self.report.warn(
                    "variables without a definition", "a definition was written for them"
                )
            el = ET.SubElement(parent, self.q + "VariableValue")
            ET.SubElement(el, self.q + "VariableRef", targetGUID=_g(var.guid))
            if value is not None:
                if kind not in VARIABLE_TYPES:
                    raise InvalidInput(f"variable {name!r} of {owner}: unknown type {kind!r}")
                what = f"variable {name!r} of {owner}"
                ET.SubElement(el, self.q + f"{kind}Value").text = _format_value(kind, value, what)

    def case(self, parent: ET.Element, case: Any) -> None:
        q = self.q
        el = ET.SubElement(parent, q + "Case", guid=_g(case.guid))
        _set(el, "name", case.name)
        _text(el, q + "Description", case.description)
        what = f"case {case.name or case.guid!r}"
        for guid in case.code_guids:
            ET.SubElement(el, q + "CodeRef", targetGUID=self.expect(guid, {"code"}, what))
        self.variable_values(el, case.variables, what)
        for guid in case.source_guids:
            ET.SubElement(el, q + "SourceRef", targetGUID=self.expect(guid, {"source"}, what))
        for guid in case.selection_guids:
            key = self.expect(guid, {"selection"}, what)
            ET.SubElement(el, q + "SelectionRef", targetGUID=key)

    def coding(self, parent: ET.Element, coding: RefiCoding) -> None:
        key = _g(coding.guid)
        el = ET.SubElement(parent, self.q + "Coding", guid=key)
        self.creator(el, coding.creating_user, coding.created)
        code = self.expect(coding.code_guid, {"code"}, f"coding {coding.guid}")
        ET.SubElement(el, self.q + "CodeRef", targetGUID=code)
        self.noterefs(el, key)

    def selection(self, parent: ET.Element, source: RefiSource, sel: RefiSelection) -> None:
        if not 0 <= sel.start <= sel.end <= len(source.text):
            raise InvalidInput(
                f"selection {sel.guid} [{sel.start}, {sel.end}) lies outside source "
                f"{source.name!r}, which has {len(source.text)} characters"
            )
        key = _g(sel.guid)
        el = ET.SubElement(parent, self.q + "PlainTextSelection", guid=key)
        _set(el, "name", sel.name)
        el.set("startPosition", str(sel.start))
        el.set("endPosition", str(sel.end))
        self.creator(el, sel.creating_user, sel.created)
        _text(el, self.q + "Description", sel.description)
        for coding in sel.codings:
            self.coding(el, coding)
        self.noterefs(el, key)

    def source(self, parent: ET.Element, source: RefiSource) -> None:
        key = _g(source.guid)
        el = ET.SubElement(parent, self.q + "TextSource", guid=key, name=_s(source.name))
        el.set("plainTextPath", f"internal://{key}.txt")
        self.creator(el, source.creating_user, source.created)
        _text(el, self.q + "Description", source.description)
        for sel in source.selections:
            self.selection(el, source, sel)
        for coding in source.codings:
            self.coding(el, coding)
        self.noterefs(el, key)
        self.variable_values(el, source.variables, f"source {source.name!r}")

    def recording(self, parent: ET.Element, source: RefiSource, media: RefiMedia) -> None:
        """The <AudioSource> of a transcribed source: the recording, and one <Transcript> that
        names the source's text file and ties its characters to the recording's milliseconds."""
        q = self.q
        el = ET.SubElement(parent, q + "AudioSource", guid=_g(media.guid))
        _set(el, "name", media.name)
        if media.entry in self.carried:
            el.set("path", f"internal://{media.entry}")
        self.creator(el, media.creating_user, media.created)
        key = _g(source.guid)
        # QualCoder's reader needs a name and a creation time on a transcript, and names the
        # file it copies the text to after it
        name = source.name if source.name.casefold().endswith(".txt") else f"{source.name}.txt"
        transcript = ET.SubElement(
            el, q + "Transcript", guid=_g(media.transcript_guid or ""), name=_s(name)
        )
        transcript.set("plainTextPath", f"internal://{key}.txt")
        self.creator(transcript, source.creating_user, source.created)
        length = len(source.text)
        for point in media.sync_points:
            if not 0 <= point.position <= length or point.time_ms < 0:
                raise InvalidInput(
                    f"sync point {point.guid} ({point.position}, {point.time_ms} ms) lies "
                    f"outside source {source.name!r}, which has {length} characters"
                )
            ET.SubElement(
                transcript,
                q + "SyncPoint",
                guid=_g(point.guid),
                position=str(point.position),
                timeStamp=str(point.time_ms),
            )
