"""Loading a snapshot (StoreData) into the store, merging with what it holds.

One call, inside the caller's transaction: a refused or failing import leaves the store as it
was. Rows are matched to existing ones by GUID, then by name (coders, codes under the same
parent, cases by key, documents by content hash); what cannot be stored is noted in the
caller's loss report. Document rows must carry `content_hash` and `word_count`, and foreign
sources their `turns` and `units` (caseframe.interop.refi_store.complete_documents adds them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from caseframe.errors import CaseframeError, Conflict, InvalidInput
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import component_row
from caseframe.store.snapshot import StoreData, Tally
from caseframe.store.snapshot_attached import load_attached
from caseframe.store.snapshot_media import SaveFile, load_media

_CHUNK = 5000


def load_snapshot(
    conn: Connection,
    data: StoreData,
    tally: Tally,
    *,
    on_duplicate: str = "refuse",
    documents_exist: bool = False,
    check_coding: Callable[[dict, int], None],
    save_media_file: SaveFile | None = None,
) -> None:
    """Write `data` on `conn`. on_duplicate "refuse" refuses a source already stored; "merge"
    adds its codings to the stored document. documents_exist: the codings name stored documents
    (a spreadsheet import). check_coding(coding, text length) validates each new coding.
    save_media_file(name, blocks) writes a recording beside the project and returns its relative
    path; without it recordings are stored in the database in blocks."""
    loader = _Loader(conn, data, tally, on_duplicate, documents_exist, check_coding)
    loader.write()
    if data.media or any(d.get("timed") for d in data.documents):
        load_media(loader, save_media_file)


class _Loader:
    """Writes a StoreData into an open transaction, merging with what the store holds."""

    def __init__(
        self,
        conn: Connection,
        data: StoreData,
        tally: Tally,
        on_duplicate: str,
        documents_exist: bool,
        check_coding: Callable[[dict, int], None],
    ):
        self.conn = conn
        self.data = data
        self.result = tally
        self.report = tally.report
        self.on_duplicate = on_duplicate
        self.documents_exist = documents_exist
        self.check_coding = check_coding
        self.stamp = now()
        self.ids: dict[str, dict[str, int]] = {}
        self.inserted_documents: set[int] = set()

    def ids_of(self, kind: str) -> dict[str, int]:
        return self.ids.setdefault(kind, {})

    def write(self) -> None:
        fresh = not any(
            self.conn.execute(select(table.c.id).limit(1)).first()
            for table in (t.documents, t.codes, t.cases)
        )
        self.frameworks()
        if fresh and not self.documents_exist:
            self.project()
        self.settings()
        self.coders()
        self.codes()
        self.attributes()
        self.cases()
        self.documents()
        self.codings()
        load_attached(self)

    # each step ------------------------------------------------------------------------------

    def frameworks(self) -> None:
        existing = set(self.conn.scalars(select(t.frameworks.c.key)))
        for fw in self.data.frameworks:
            if fw["key"] in existing:
                self.result.count("frameworks", existed=True)
                continue
            fw_id = self.conn.execute(
                t.frameworks.insert().values(
                    key=fw["key"],
                    name=fw["name"],
                    version=fw["version"],
                    builtin=False,
                    spec=fw["spec"],
                    created_at=self.stamp,
                    updated_at=self.stamp,
                )
            ).inserted_primary_key[0]
            rows = [{**c, "framework_id": fw_id} for c in fw.get("components", [])]
            if rows:
                self.conn.execute(t.framework_components.insert(), rows)
            self.result.count("frameworks")

    def project(self) -> None:
        p = self.data.project
        values: dict[str, Any] = {"updated_at": self.stamp}
        if p.get("name"):
            values["name"] = p["name"]
        if p.get("description"):
            values["description"] = p["description"]
        if p.get("guid"):
            values["guid"] = p["guid"]
        if p.get("settings"):
            values["settings"] = p["settings"]
        self.conn.execute(t.project.update().values(**values))

    def settings(self) -> None:
        existing = set(self.conn.scalars(select(t.settings.c.key)))
        for key, value in self.data.settings.items():
            if key not in existing:
                self.conn.execute(t.settings.insert().values(key=key, value=value))

    def coders(self) -> None:
        ids = self.ids_of("coder")
        rows = self.conn.execute(select(t.coders)).all()
        by_guid = {r.guid.upper(): r.id for r in rows}
        by_name = {r.name: r.id for r in rows}
        for c in self.data.coders:
            found = by_guid.get(c["guid"]) or by_name.get(c["name"])
            if found is not None:
                ids[c["guid"]] = found
                self.result.count("coders", existed=True)
                continue
            guid = c["guid"] if c["guid"] not in by_guid else new_guid()
            ids[c["guid"]] = self.conn.execute(
                t.coders.insert().values(
                    name=c["name"], kind=c.get("kind", "human"), guid=guid, created_at=self.stamp
                )
            ).inserted_primary_key[0]
            by_guid[guid] = ids[c["guid"]]
            self.result.count("coders")

    def codes(self) -> None:
        ids = self.ids_of("code")
        rows = self.conn.execute(select(t.codes)).all()
        by_guid = {r.guid.upper(): r.id for r in rows}
        by_place = {(r.parent_id, r.name.casefold()): r.id for r in rows}
        positions: dict[int | None, int] = {}
        for r in rows:
            positions[r.parent_id] = max(positions.get(r.parent_id, 0), r.position)
        for c in self.data.codes:
            parent_id = ids[c["parent"]] if c.get("parent") else None
            found = by_guid.get(c["guid"]) or by_place.get((parent_id, c["name"].casefold()))
            if found is not None:
                ids[c["guid"]] = found
                self.result.count("codes", existed=True)
                continue
            component_id = self.component(c.get("component"), "framework components of codes")
            positions[parent_id] = positions.get(parent_id, 0) + 1
            color = c.get("color")
            code_id = self.conn.execute(
                t.codes.insert().values(
                    name=c["name"],
                    parent_id=parent_id,
                    kind=c.get("kind"),
                    origin=c.get("origin") or ("deductive" if component_id else "inductive"),
                    component_id=component_id,
                    description=c.get("description") or "",
                    color=color if color and len(color) <= 9 else None,
                    position=positions[parent_id],
                    version=1,
                    meta=c.get("meta") or {},
                    guid=c["guid"],
                    created_at=self.stamp,
                    updated_at=self.stamp,
                )
            ).inserted_primary_key[0]
            ids[c["guid"]] = code_id
            by_place[(parent_id, c["name"].casefold())] = code_id
            for ref in c.get("maps_to") or []:
                comp_id = self.component(ref, "mappings of codes to framework components")
                if comp_id is not None:
                    self.conn.execute(
                        t.code_mappings.insert().values(code_id=code_id, component_id=comp_id)
                    )
            self.result.count("codes")

    def component(self, ref: str | None, what: str) -> int | None:
        if not ref:
            return None
        try:
            return component_row(self.conn, ref).id
        except CaseframeError:
            self.report.lost(what, f"framework component {ref} is not in this project")
            return None

    def attributes(self) -> None:
        rows = self.conn.execute(select(t.attributes)).all()
        self.attr = {r.name: (r.id, r.type) for r in rows}
        guids = {r.guid.upper() for r in rows}
        for a in self.data.attributes:
            if a["name"] in self.attr:
                self.result.count("attributes", existed=True)
                continue
            guid = a["guid"] if a["guid"] not in guids else new_guid()
            attr_id = self.conn.execute(
                t.attributes.insert().values(name=a["name"], type=a["type"], guid=guid)
            ).inserted_primary_key[0]
            self.attr[a["name"]] = (attr_id, a["type"])
            self.result.count("attributes")

    def cases(self) -> None:
        from caseframe.util.values import parse_value

        ids = self.ids_of("case")
        rows = self.conn.execute(select(t.cases)).all()
        by_guid = {r.guid.upper(): r.id for r in rows}
        by_key = {r.key.casefold(): r.id for r in rows}
        existing_values = {
            (r.case_id, r.attribute_id): r.value
            for r in self.conn.execute(select(t.case_attributes))
        }
        pending = list(self.data.cases)
        known = {c["guid"] for c in pending}
        while pending:  # parents first
            ready = [c for c in pending if not c.get("parent") or c["parent"] in ids]
            ready += [c for c in pending if c.get("parent") and c["parent"] not in known]
            if not ready:
                raise InvalidInput("the case tree in the file has a cycle")
            for c in ready:
                pending.remove(c)
            for c in ready:
                found = by_guid.get(c["guid"]) or by_key.get(c["key"].casefold())
                if found is not None:
                    ids[c["guid"]] = found
                    self.result.count("cases", existed=True)
                else:
                    found = self.conn.execute(
                        t.cases.insert().values(
                            key=c["key"],
                            label=c.get("label") or c["key"],
                            kind=c.get("kind") or "case",
                            parent_id=ids.get(c.get("parent") or ""),
                            description=c.get("description") or "",
                            guid=c["guid"],
                            created_at=self.stamp,
                            updated_at=self.stamp,
                        )
                    ).inserted_primary_key[0]
                    ids[c["guid"]] = found
                    by_key[c["key"].casefold()] = found
                    self.result.count("cases")
                values = []
                for name, text in c.get("attributes", {}).items():
                    attr_id, kind = self.attr[name]
                    try:
                        parse_value(text, kind, what=f"attribute '{name}' of case '{c['key']}'")
                    except InvalidInput as exc:
                        raise Conflict(
                            exc.message,
                            hint=f"the project's attribute '{name}' is of type {kind}",
                        ) from None
                    old = existing_values.get((found, attr_id))
                    if old is None:
                        values.append({"case_id": found, "attribute_id": attr_id, "value": text})
                    elif old != text:
                        self.report.warn(
                            "case attribute values that differ from the project's",
                            "the project's values were kept",
                        )
                if values:
                    self.conn.execute(t.case_attributes.insert(), values)

    def documents(self) -> None:
        ids = self.ids_of("document")
        rows = self.conn.execute(
            select(
                t.documents.c.id, t.documents.c.guid, t.documents.c.name, t.documents.c.content_hash
            )
        ).all()
        if self.documents_exist:
            ids.update({r.guid.upper(): r.id for r in rows})
            return
        by_guid = {r.guid.upper(): r for r in rows}
        by_hash = {r.content_hash: r for r in rows}
        names = {r.name for r in rows}
        self.merged_documents: set[int] = set()
        inserted = self.inserted_documents
        turns, units = [], []
        for d in self.data.documents:
            digest = d["content_hash"]
            same = by_guid.get(d["guid"]) or by_hash.get(digest)
            if same is not None and same.id in inserted and same.content_hash == digest:
                ids[d["guid"]] = same.id  # two sources of the file hold the same text
                if not d["text"]:
                    self.report.lost(
                        "empty sources beyond the first",
                        "caseframe keeps one empty document; the others were merged into it",
                    )
                    continue
                self.report.warn(
                    "sources with the same text as another source", "merged into one document"
                )
                continue
            if same is not None:
                same_text = same.content_hash == digest
                if self.on_duplicate == "refuse" or not same_text:
                    why = "the same text as" if same_text else "the same GUID as"
                    raise Conflict(
                        f"source '{d['name']}' has {why} document '{same.name}' already in the "
                        "project; nothing was imported",
                        hint="import into a new project, or pass --merge to add the file's "
                        "codings to the existing documents"
                        if same_text
                        else "import into a new project",
                    )
                ids[d["guid"]] = same.id
                self.merged_documents.add(same.id)
                self.report.warn(
                    "sources already in the project",
                    "their codings were added to the existing documents",
                )
                self.result.count("documents", existed=True)
                continue
            name, n = d["name"], 2
            while name in names:
                stem, dot, ext = d["name"].rpartition(".")
                name = f"{stem} ({n}).{ext}" if dot and stem else f"{d['name']} ({n})"
                n += 1
            if name != d["name"]:
                self.report.warn("sources whose name is taken", "stored under a numbered name")
            names.add(name)
            doc_id = self.conn.execute(
                t.documents.insert().values(
                    name=name,
                    text=d["text"],
                    content_hash=digest,
                    source_format=(d.get("source_format") or "qdpx")[:20],
                    source_path=d.get("source_path"),
                    word_count=d["word_count"],
                    pseudonymised=bool(d.get("pseudonymised")),
                    description=d.get("description") or "",
                    meta=d.get("meta") or {},
                    guid=d["guid"],
                    created_at=d.get("created_at") or self.stamp,
                    updated_at=self.stamp,
                )
            ).inserted_primary_key[0]
            ids[d["guid"]] = doc_id
            inserted.add(doc_id)
            by_hash[digest] = by_guid[d["guid"]] = _Named(doc_id, name, digest)
            self.result.count("documents")
            doc_turns, doc_units = d.get("turns"), d.get("units")
            turns += [
                {"document_id": doc_id, "idx": i, "speaker": spk, "start": s, "end": e}
                for i, (spk, s, e) in enumerate(doc_turns or [])
            ]
            units += [
                {
                    "document_id": doc_id,
                    "scheme": u[0],
                    "idx": u[1],
                    "start": u[2],
                    "end": u[3],
                    "speaker": u[4],
                    "external_id": u[5],
                    "split": u[6],
                }
                for u in doc_units or []
            ]
        for table, rows_ in ((t.speaker_turns, turns), (t.meaning_units, units)):
            for i in range(0, len(rows_), _CHUNK):
                self.conn.execute(table.insert(), rows_[i : i + _CHUNK])
        pairs = set(
            self.conn.execute(select(t.document_cases.c.document_id, t.document_cases.c.case_id))
        )
        links = []
        for doc_guid, case_guid in self.data.document_cases:
            doc_id, case_id = ids.get(doc_guid), self.ids_of("case").get(case_guid)
            if doc_id is None or case_id is None or (doc_id, case_id) in pairs:
                continue
            pairs.add((doc_id, case_id))
            links.append({"document_id": doc_id, "case_id": case_id})
        if links:
            self.conn.execute(t.document_cases.insert(), links)

    def codings(self) -> None:
        doc_ids = self.ids_of("document")
        code_ids, coder_ids = self.ids_of("code"), self.ids_of("coder")
        merged = getattr(self, "merged_documents", set()) or (
            set(doc_ids.values()) if self.documents_exist else set()
        )
        guids = {g.upper() for g in self.conn.scalars(select(t.codings.c.guid))}
        taken: set[tuple] = set()
        if merged:
            for r in self.conn.execute(
                select(
                    t.codings.c.document_id,
                    t.codings.c.start,
                    t.codings.c.end,
                    t.codings.c.code_id,
                    t.codings.c.coder_id,
                ).where(t.codings.c.document_id.in_(merged))
            ):
                taken.add(tuple(r))
        lengths = dict(
            self.conn.execute(
                select(t.documents.c.id, t.documents.c.text).where(
                    t.documents.c.id.in_(set(doc_ids.values()))
                )
            ).all()
        )
        units = {}
        if any(c.get("unit") for c in self.data.codings):
            for r in self.conn.execute(
                select(
                    t.meaning_units.c.id,
                    t.meaning_units.c.document_id,
                    t.meaning_units.c.scheme,
                    t.meaning_units.c.idx,
                ).where(t.meaning_units.c.document_id.in_(set(doc_ids.values())))
            ):
                units[(r.document_id, r.scheme, r.idx)] = r.id
        ids = self.ids_of("coding")
        rows = []
        for c in self.data.codings:
            doc_id = doc_ids[c["document"]]
            key = (doc_id, c["start"], c["end"], code_ids[c["code"]], coder_ids[c["coder"]])
            if c["guid"] in guids or key in taken:
                self.report.skipped(
                    "codings already in the project", "same GUID, or same range, code and coder"
                )
                self.result.count("codings", existed=True)
                continue
            taken.add(key)
            self.check_coding(c, len(lengths[doc_id]))
            if c.get("status", "final") not in ("final", "suggested", "accepted", "rejected"):
                raise InvalidInput(f"coding {c['guid']} has unknown status {c['status']!r}")
            unit = c.get("unit")
            guid = c["guid"]
            guids.add(guid)
            rows.append(
                {
                    "document_id": doc_id,
                    "start": c["start"],
                    "end": c["end"],
                    "code_id": key[3],
                    "coder_id": key[4],
                    "meaning_unit_id": units.get((doc_id, unit[0], unit[1])) if unit else None,
                    "valence": c.get("valence"),
                    "strength": c.get("strength"),
                    "memo": c.get("memo") or None,
                    "score": c.get("score"),
                    "status": c.get("status") or "final",
                    "guid": guid,
                    "selection_guid": c.get("selection_guid"),
                    "created_at": c.get("created_at") or self.stamp,
                    "updated_at": self.stamp,
                }
            )
            self.result.count("codings")
        for i in range(0, len(rows), _CHUNK):
            self.conn.execute(t.codings.insert(), rows[i : i + _CHUNK])
        if rows:
            wanted = {r["guid"] for r in rows}
            for r in self.conn.execute(select(t.codings.c.id, t.codings.c.guid)):
                if r.guid in wanted:
                    ids[r.guid] = r.id
        for c in self.data.codings:  # codings that were already there still resolve
            if c["guid"] not in ids:
                row = self.conn.execute(
                    select(t.codings.c.id).where(t.codings.c.guid == c["guid"])
                ).first()
                if row is not None:
                    ids[c["guid"]] = row.id


@dataclass
class _Named:
    id: int
    name: str
    content_hash: str
