"""Loading what hangs off documents, codes and codings: coder progress, memos, sets,
assessments with their evidence, matrix summaries. Part of store/snapshot_load.py's one load."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from caseframe.store import schema as t
from caseframe.store.snapshot import Loader


def load_attached(loader: Loader) -> None:
    """The steps after codings, in the order their references need."""
    for step in (_coder_documents, _memos, _sets, _assessments, _summaries):
        step(loader)


def _coder_documents(self: Loader) -> None:
    existing = set(
        self.conn.execute(select(t.coder_documents.c.coder_id, t.coder_documents.c.document_id))
    )
    rows = []
    for cd in self.data.coder_documents:
        coder = self.ids_of("coder").get(cd["coder"])
        doc = self.ids_of("document").get(cd["document"])
        if coder is None or doc is None or (coder, doc) in existing:
            continue
        existing.add((coder, doc))
        rows.append({"coder_id": coder, "document_id": doc, "status": cd.get("status", "done")})
    if rows:
        self.conn.execute(t.coder_documents.insert(), rows)


def _memos(self: Loader) -> None:
    guids = {g.upper() for g in self.conn.scalars(select(t.memos.c.guid))}
    rows = []
    for m in self.data.memos:
        if m["guid"] in guids:
            self.result.count("memos", existed=True)
            continue
        target_type, target_id = m["target_type"], None
        if target_type != "project":
            target_id = self.ids_of(target_type).get(m["target"] or "")
            if target_id is None:
                self.report.warn("notes whose target was not imported", "kept as project memos")
                target_type = "project"
        guids.add(m["guid"])
        rows.append(
            {
                "target_type": target_type,
                "target_id": target_id,
                "title": m.get("title"),
                "text": m["text"],
                "author": m.get("author"),
                "guid": m["guid"],
                "created_at": m.get("created_at") or self.stamp,
                "updated_at": self.stamp,
            }
        )
        self.result.count("memos")
    if rows:
        self.conn.execute(t.memos.insert(), rows)


def _sets(self: Loader) -> None:
    rows = self.conn.execute(select(t.sets)).all()
    by_guid = {r.guid.upper(): r.id for r in rows}
    by_name = {r.name: r.id for r in rows}
    members = set(self.conn.execute(select(t.set_members)))
    for s in self.data.sets:
        set_id = by_guid.get(s["guid"]) or by_name.get(s["name"])
        if set_id is None:
            set_id = self.conn.execute(
                t.sets.insert().values(
                    name=s["name"], description=s.get("description") or "", guid=s["guid"]
                )
            ).inserted_primary_key[0]
            self.result.count("sets")
        else:
            self.result.count("sets", existed=True)
        new = []
        for kind, refs in (("document", s.get("documents", [])), ("code", s.get("codes", []))):
            for ref in refs:
                member = self.ids_of(kind).get(ref)
                if member is not None and (set_id, kind, member) not in members:
                    members.add((set_id, kind, member))
                    new.append({"set_id": set_id, "member_type": kind, "member_id": member})
        if new:
            self.conn.execute(t.set_members.insert(), new)


def _assessments(self: Loader) -> None:
    if not self.data.assessments:
        return
    existing = set(
        self.conn.execute(
            select(
                t.assessments.c.case_id,
                t.assessments.c.component_id,
                t.assessments.c.rater_id,
                t.assessments.c.assessed_on,
                t.assessments.c.status,
            )
        )
    )
    for a in self.data.assessments:
        comp = self.component(a["component"], "assessments")
        case = self.ids_of("case").get(a["case"])
        rater = self.ids_of("coder").get(a["rater"])
        if comp is None or case is None or rater is None:
            self.report.lost("assessments", "their case, component or rater is missing")
            continue
        day = date.fromisoformat(a["assessed_on"])
        key = (case, comp, rater, day, a.get("status", "rating"))
        if key in existing:
            self.result.count("assessments", existed=True)
            continue
        existing.add(key)
        aid = self.conn.execute(
            t.assessments.insert().values(
                case_id=case,
                component_id=comp,
                rater_id=rater,
                assessed_on=day,
                rating=a.get("rating"),
                note=a.get("note") or "",
                status=key[4],
                created_at=self.stamp,
                updated_at=self.stamp,
            )
        ).inserted_primary_key[0]
        evidence = [
            {"assessment_id": aid, "coding_id": self.ids_of("coding")[g]}
            for g in a.get("evidence", [])
            if g in self.ids_of("coding")
        ]
        if evidence:
            self.conn.execute(t.assessment_evidence.insert(), evidence)
        self.result.count("assessments")


def _summaries(self: Loader) -> None:
    if not self.data.matrix_summaries:
        return
    existing = set(
        self.conn.execute(select(t.matrix_summaries.c.case_id, t.matrix_summaries.c.code_id))
    )
    for m in self.data.matrix_summaries:
        case, code = self.ids_of("case").get(m["case"]), self.ids_of("code").get(m["code"])
        if case is None or code is None or (case, code) in existing:
            continue
        existing.add((case, code))
        sid = self.conn.execute(
            t.matrix_summaries.insert().values(
                case_id=case,
                code_id=code,
                text=m["text"],
                author=m.get("author"),
                evidence_fingerprint=m["evidence_fingerprint"],
                created_at=self.stamp,
                updated_at=self.stamp,
            )
        ).inserted_primary_key[0]
        links = [
            {"summary_id": sid, "coding_id": self.ids_of("coding")[g]}
            for g in m.get("codings", [])
            if g in self.ids_of("coding")
        ]
        if links:
            self.conn.execute(t.matrix_summary_codings.insert(), links)
        self.result.count("matrix summaries")
