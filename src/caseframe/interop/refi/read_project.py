"""Reading the project document (project.qde) of a .qdpx into a RefiProject.

The section readers, and the small element helpers the .qdc reader shares. Checks that make data
wrong raise InvalidInput; what only cannot be represented goes into the LossReport.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element

from caseframe.errors import InvalidInput
from caseframe.interop.refi.elements import (
    child_text,
    decode,
    docx_text,
    local,
    parse_value,
    read_codes,
    register,
    required,
)
from caseframe.interop.refi.loss import LossReport
from caseframe.interop.refi.model import (
    PROJECT_TARGET,
    VARIABLE_TYPES,
    RefiCase,
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
from caseframe.interop.refi.read_media import read_recordings
from caseframe.interop.refi.safety import Limits, SafeArchive
from caseframe.interop.refi.schemas import PROJECT_NS

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
    "AudioSource": {"guid", "name", "path", "creatingUser", "creationDateTime"},
    "Transcript": {"guid", "name", "plainTextPath", "richTextPath", "creatingUser"}
    | {"creationDateTime"},
    "SyncPoint": {"guid", "position", "timeStamp"},
    "TranscriptSelection": {"guid", "name", "fromSyncPoint", "toSyncPoint", "creatingUser"}
    | {"creationDateTime"},
}


class _ProjectReader:
    def __init__(
        self,
        archive: SafeArchive,
        report: LossReport,
        where: str,
        limits: Limits,
        strict: bool,
        reopen: Callable[[], SafeArchive],
    ):
        self.archive = archive
        self.reopen = reopen  # opens the archive again, to stream a recording when it is stored
        self.text_entries: dict[str, RefiSource] = {}  # plain-text entry -> the TextSource read
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
        return f"{self.where} <{local(el.tag)}{f' guid={guid}' if guid else ''}>"

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
            description=child_text(root, q + "Description"),
        )
        if (users := self.find(root, "Users")) is not None:
            for el in self.findall(users, "User"):
                self.handled.append(el)
                user = RefiUser(required(el, "guid", self.at(el)), el.get("name"), el.get("id"))
                register(self.index, user.guid, "user", user, self.at(el))
                self.users[guid_key(user.guid)] = user
                project.users.append(user)
        book = self.find(root, "CodeBook")
        codes = self.find(book, "Codes") if book is not None else None
        if codes is not None:
            project.codes = read_codes(codes, q, self.index, self.report, self.where)
            for el in codes.iter(q + "Code"):
                self.handled.append(el)
                self.collect_note_refs(el, self.index[guid_key(el.get("guid", ""))][1].guid)
        if (variables := self.find(root, "Variables")) is not None:
            for el in self.findall(variables, "Variable"):
                project.variables.append(self.variable(el))
        if (sources := self.find(root, "Sources")) is not None:
            recordings = []
            for el in sources:
                if local(el.tag) == "TextSource":
                    source = self.text_source(el)
                    if source is not None:
                        project.sources.append(source)
                elif local(el.tag) == "AudioSource":
                    recordings.append(el)  # after the text sources: it may join one of them
                else:
                    self.skip_source(el)
            read_recordings(self, recordings, project)
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
            required(el, "guid", at), name, kind, child_text(el, self.q + "Description")
        )
        register(self.index, var.guid, "variable", var, at)
        self.variables[guid_key(var.guid)] = var
        return var

    def variable_value(self, el: Element, owner: str) -> tuple[str, VariableValue] | None:
        ref = self.find(el, "VariableRef")
        var = self.variables.get(guid_key(ref.get("targetGUID") or "")) if ref is not None else None
        if var is None:
            self.report.skipped(f"variable values on {owner}", "they name an unknown variable")
            return None
        value_el = next((c for c in el if local(c.tag) != "VariableRef"), None)
        if value_el is None:
            return var.name, (var.type, None)
        kind = local(value_el.tag).removesuffix("Value")
        try:
            value = parse_value(kind, value_el.text)
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
        return decode(self.archive.read(entry), f"{what} ({entry})", self.archive.where)

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
                text = docx_text(self.archive.read(rich_entry), f"{self.where} {rich_entry}")
                self.report.warn(
                    "sources whose plain text file is empty or 1 byte",
                    "text extracted from their .docx rich text",
                )
            return text
        if rich_entry is not None:
            why = "plain text missing from the archive" if plain_path else "no plain text given"
            self.report.warn(f"sources with {why}", "text extracted from their .docx rich text")
            return docx_text(self.archive.read(rich_entry), f"{self.where} {rich_entry}")
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
        guid = required(el, "guid", at)
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
        register(self.index, guid, "coding", coding, at)
        self.collect_note_refs(el, guid)
        return coding

    def text_source(self, el: Element) -> RefiSource | None:
        self.handled.append(el)
        at = self.at(el)
        guid = required(el, "guid", at)
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
            description=child_text(el, self.q + "Description"),
            rich_text_path=el.get("richTextPath"),
            creating_user=self.user_ref(el.get("creatingUser")),
            created=el.get("creationDateTime"),
        )
        register(self.index, guid, "source", source, at)
        plain_path = el.get("plainTextPath")
        entry = self.resolve_entry(plain_path)[1] if plain_path else None
        if entry is not None:
            self.text_entries.setdefault(entry, source)
        if source.rich_text_path:
            self.report.lost("rich-text (.docx) versions of sources", "only the plain text is kept")
        self.collect_note_refs(el, guid)
        length = len(text)
        for sel_el in self.findall(el, "PlainTextSelection"):
            self.handled.append(sel_el)
            sat = self.at(sel_el)
            sguid = required(sel_el, "guid", sat)
            try:
                start = int(required(sel_el, "startPosition", sat))
                end = int(required(sel_el, "endPosition", sat))
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
                description=child_text(sel_el, self.q + "Description"),
                creating_user=self.user_ref(sel_el.get("creatingUser")),
                created=sel_el.get("creationDateTime"),
            )
            register(self.index, sguid, "selection", selection, sat)
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
        kind = local(el.tag)
        why = why or "only text sources are supported"
        self.report.skipped(f"{kind}s", why)
        selections = [d for d in el.iter() if local(d.tag).endswith("Selection")]
        codings = [d for d in el.iter() if local(d.tag) == "Coding"]
        refs = [d for d in el.iter() if local(d.tag) == "NoteRef"]
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
        guid = required(el, "guid", at)
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
            description=child_text(el, self.q + "Description"),
            creating_user=self.user_ref(el.get("creatingUser")),
            created=el.get("creationDateTime"),
        )
        register(self.index, guid, "note", note, at)
        self.collect_note_refs(el, guid)
        inner = [d for d in el.iter() if local(d.tag) in ("PlainTextSelection", "Coding")]
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
            guid=required(el, "guid", at),
            name=el.get("name"),
            description=child_text(el, self.q + "Description"),
        )
        register(self.index, case.guid, "case", case, at)
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
            required(el, "guid", at), el.get("name") or "", child_text(el, self.q + "Description")
        )
        register(self.index, item.guid, "set", item, at)
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
        guid = required(el, "guid", at)
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
        register(self.index, guid, "link", link, at)
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
            tag = local(el.tag)
            kept = _KEPT_ATTRS.get(tag, set())
            for attr, value in el.attrib.items():
                if attr in kept or attr.startswith(_XSI) or not value.strip():
                    continue
                dropped.setdefault(attr, set()).add(tag)
                counts[attr] = counts.get(attr, 0) + 1
        for attr in sorted(dropped):
            on = ", ".join(sorted(dropped[attr]))
            self.report.lost(f"{attr} attributes (on {on})", "not kept", counts[attr])
