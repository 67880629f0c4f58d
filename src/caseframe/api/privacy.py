"""Confidentiality on the project: scan the store, apply a reviewed list, import pseudonymised.

The detection, pseudonym and key-file logic is in `caseframe.privacy` (store-independent); this
mixin feeds it the project's texts and writes the results back. Rules it keeps:

- the key file (real values) never lives inside the project folder, and neither does a review
  list, so copying, exporting or serving the project never carries them;
- every replacement is decided and checked in memory first and the key is saved before the
  store changes, so an error leaves the store as it was and a crash never leaves pseudonyms the
  key cannot explain;
- a document's text, codings, speaker turns and meaning units change in one transaction;
- afterwards the SQLite file is vacuumed and its WAL truncated, because deleted text survives in
  free pages and in the log.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, text, update

from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.privacy import (
    NAME_CATEGORIES,
    Detection,
    KeyFile,
    Registry,
    RegistryEntry,
    ReviewItem,
    accepted_by_document,
    propose,
    pseudonymise,
    read_review,
    scan,
    write_review,
)
from caseframe.privacy.ner import NerFunction
from caseframe.privacy.pseudonyms import NUMBERED_PREFIX
from caseframe.privacy.registry import normalise_value
from caseframe.store import schema as t
from caseframe.store.core import now

KEY_ENV = "CASEFRAME_KEY"
PASSPHRASE_ENV = "CASEFRAME_KEY_PASSPHRASE"

# Free-text fields besides the transcripts that can hold a name; each row is a review target
# named "<table>.<column>#<primary key>".
FIELD_TARGETS: tuple[tuple[Table, str], ...] = (
    (t.documents, "name"),
    (t.documents, "description"),
    (t.cases, "label"),
    (t.cases, "description"),
    (t.case_attributes, "value"),
    (t.memos, "title"),
    (t.memos, "text"),
    (t.codings, "memo"),
    (t.codes, "description"),
    (t.matrix_summaries, "text"),
    (t.assessments, "note"),
    (t.project, "description"),
)
# Structured text no one reviews line by line: scrubbed automatically of every value the key
# knows (and of pattern identifiers) after a review is applied.
AUTO_TEXT: tuple[tuple[Table, str], ...] = (
    (t.speaker_turns, "speaker"),
    (t.meaning_units, "speaker"),
)
AUTO_JSON: tuple[tuple[Table, str], ...] = (
    (t.audit_log, "before"),
    (t.audit_log, "after"),
    (t.codes, "meta"),
    (t.documents, "meta"),
    (t.settings, "value"),
    (t.project, "settings"),
)
_FIELD_REF = re.compile(r"^(?P<table>[a-z_]+)\.(?P<column>[a-z_]+)#(?P<pk>[0-9A-Za-z_:.\-]+)$")
_OPAQUE_SETTINGS = {"web.session_secret"}  # random tokens, not text: never rewritten
_PARK = 1_000_000_000  # offset shift that parks codings while they move (fits 32-bit ints)
_KIND_CATEGORY = {"respondent": "respondent", "site": "site", "service": "site", "region": "place"}

# (file name, proposals) -> import it?  Used by `import --pseudonymise` without --yes.
ConfirmFunction = Callable[[str, list[ReviewItem]], bool]


@dataclass
class ApplySummary:
    documents: int = 0  # transcripts whose text changed
    replacements: int = 0  # accepted replacements applied (texts and fields)
    codings: int = 0  # codings on changed documents (all remapped)
    fields: int = 0  # other fields changed (names, labels, memos, ...)
    scrubbed: int = 0  # speaker names and logged values changed automatically
    source_paths_cleared: int = 0


@dataclass
class _DocPlan:
    id: int
    old_hash: str
    text: str
    hash: str
    words: int
    codings: list[tuple[int, int, int]]  # (id, start, end)
    turns: list[tuple[int, int, int]]
    units: list[tuple[int, int, int]]


class PrivacyMixin:
    store: Any
    root: Path

    # -- the key file ---------------------------------------------------------------------------

    def check_private_path(self, path: str | Path, what: str = "key file") -> Path:
        """Refuse a path inside the project folder: copying the project would carry it."""
        path = Path(path).expanduser()
        resolved = path.resolve()
        if resolved.is_relative_to(self.root.resolve()):
            raise InvalidInput(
                f"the {what} {path} is inside the project folder",
                hint=f"keep the {what} outside the project (it holds real names), "
                f"e.g. in a folder only you can read",
            )
        return path

    def create_key(self, path: str | Path, passphrase: str) -> KeyFile:
        return KeyFile.create(self.check_private_path(path), passphrase)

    def open_key(self, path: str | Path, passphrase: str) -> KeyFile:
        return KeyFile.open(self.check_private_path(path), passphrase)

    def register_name(
        self,
        key: KeyFile,
        value: str,
        category: str,
        pseudonym: str | None = None,
        variants: Iterable[str] = (),
    ) -> RegistryEntry:
        """Add a name to the key's registry (never the store) and fix its pseudonym."""
        staged = Registry()
        entry = staged.add(value, category, pseudonym, variants)
        if any(
            normalise_value(e.value) == normalise_value(entry.value)
            and e.category == entry.category
            for e in key.registry
        ):
            raise Conflict(f"{entry.value!r} is already in the registry as {entry.category}")
        book = key.book.copy()
        book.register(staged)  # a label clash fails here, before anything changes
        key.registry.entries.append(entry)
        key.registry._compiled = None
        key.book = book
        key.save()
        return entry

    def import_names(self, key: KeyFile, path: str | Path) -> int:
        """Add a `value,category[,pseudonym[,variants]]` list to the key; all or nothing."""
        staged = Registry.from_csv(path)
        book = key.book.copy()
        book.register(staged)
        key.registry.entries.extend(staged.entries)
        key.registry._compiled = None
        key.book = book
        key.save()
        return len(staged)

    def names_from_cases(
        self, key: KeyFile, attribute: str = "real_name", category: str | None = None
    ) -> list[RegistryEntry]:
        """Move real names held in a case attribute into the key, then delete the attribute.

        Each case's pseudonym is built from its id ("[Respondent A1]", "[Service B2]"), so
        quotes stay attributable the way the study reports them. The key is saved before the
        attribute is deleted; the store is then compacted so the names leave the file.
        """
        with self.store.read() as conn:
            attr = conn.execute(
                select(t.attributes).where(t.attributes.c.name == attribute)
            ).first()
            if attr is None:
                raise NotFound(f"no case attribute named '{attribute}'")
            rows = conn.execute(
                select(t.cases.c.key, t.cases.c.kind, t.case_attributes.c.value)
                .join(t.case_attributes, t.case_attributes.c.case_id == t.cases.c.id)
                .where(t.case_attributes.c.attribute_id == attr.id)
                .order_by(t.cases.c.key)
            ).all()
        staged = Registry()
        for row in rows:
            if not row.value.strip():
                continue
            cat = category or _KIND_CATEGORY.get((row.kind or "").casefold(), "person")
            known = key.book.lookup(row.value, cat)
            label = None if known else f"{NUMBERED_PREFIX[cat]} {row.key}"
            staged.add(row.value, cat, label, where=f"case {row.key}")
        book = key.book.copy()
        book.register(staged)
        key.registry.entries.extend(staged.entries)
        key.registry._compiled = None
        key.book = book
        key.save()
        with self.store.transaction() as conn:
            conn.execute(
                delete(t.case_attributes).where(t.case_attributes.c.attribute_id == attr.id)
            )
            conn.execute(delete(t.attributes).where(t.attributes.c.id == attr.id))
        self.compact_store()
        return list(staged.entries)

    # -- scanning -------------------------------------------------------------------------------

    def privacy_targets(
        self, documents: Sequence[str] | None = None, fields: bool = True
    ) -> dict[str, str]:
        """{target: text}: transcripts by name, then the other free-text fields."""
        from caseframe.store.lookup import document_row

        out: dict[str, str] = {}
        with self.store.read() as conn:
            if documents:
                rows = [document_row(conn, d) for d in documents]
            else:
                rows = conn.execute(select(t.documents).order_by(t.documents.c.name)).all()
            for row in rows:
                out[row.name] = row.text
            if fields:
                for table, column in FIELD_TARGETS:
                    pk = list(table.primary_key.columns)
                    for row in conn.execute(select(*pk, table.c[column]).order_by(*pk)):
                        value = row[-1]
                        if value and value.strip():
                            ref = ":".join(str(v) for v in row[:-1])
                            out[f"{table.name}.{column}#{ref}"] = value
        return out

    def scan_texts(
        self,
        key: KeyFile,
        texts: dict[str, str],
        *,
        patterns: bool | Iterable[str] = True,
        ner: NerFunction | None = None,
    ) -> list[ReviewItem]:
        """Proposals for {target: text}, consistent across all of them.

        Besides the key's registry, every name the key's book already holds is looked for,
        and so is every name a pattern or NER found in any of the texts (a name cued once,
        "Dr Lind", is then found bare in every other document and memo).
        """
        patterns = patterns if isinstance(patterns, bool) else list(patterns)
        registry = _known_names(key)
        scans = {ref: scan(txt, registry, patterns, ner) for ref, txt in texts.items()}
        extra = _found_names(scans, registry)
        if len(extra) > len(registry):
            known = {normalise_value(e.value) for e in key.registry}
            scans = {
                ref: [_mark_propagated(d, known) for d in scan(txt, extra, patterns, ner)]
                for ref, txt in texts.items()
            }
        return propose({ref: d for ref, d in scans.items() if d}, key.book)

    def privacy_scan(
        self,
        key: KeyFile,
        documents: Sequence[str] | None = None,
        *,
        fields: bool = True,
        patterns: bool | Iterable[str] = True,
        ner: NerFunction | None = None,
    ) -> list[ReviewItem]:
        return self.scan_texts(
            key, self.privacy_targets(documents, fields), patterns=patterns, ner=ner
        )

    def write_privacy_review(self, path: str | Path, items: Iterable[ReviewItem]) -> Path:
        path = self.check_private_path(path, "review list")
        write_review(path, items)
        return path

    # -- applying ---------------------------------------------------------------------------------

    def apply_privacy_review(
        self, key: KeyFile, review: str | Path | Sequence[ReviewItem]
    ) -> ApplySummary:
        """Apply the accepted rows: texts, codings, turns, units, fields; then compact.

        Everything is planned and checked first (offsets, pseudonyms, duplicate codings,
        document names); the key is saved; then each document is one transaction, and the
        fields and automatic scrubbing one more.
        """
        items = read_review(review) if isinstance(review, (str, Path)) else list(review)
        accepted = accepted_by_document(items)
        summary = ApplySummary()
        book = key.book.copy()
        with self.store.read() as conn:
            docs = {
                r.name: r
                for r in conn.execute(
                    select(
                        t.documents.c.id,
                        t.documents.c.name,
                        t.documents.c.text,
                        t.documents.c.content_hash,
                    )
                )
            }
            fields = _read_fields(conn, [r for r in accepted if r not in docs])
            plans: list[_DocPlan] = []
            for name, dets in accepted.items():
                if name in docs:
                    plan = _plan_document(conn, docs[name], dets, book)
                    plans.append(plan)
                    summary.replacements += len(dets)
                    summary.codings += len(plan.codings)
            _check_hashes(conn, plans)
            field_updates = {}
            for ref, dets in accepted.items():
                if ref in docs:
                    continue
                try:
                    new, _offsets, _r = pseudonymise(fields[ref], dets, book)
                except (Conflict, InvalidInput) as exc:
                    raise type(exc)(f"{ref}: {exc.message}", hint=exc.hint) from None
                field_updates[ref] = new
                summary.replacements += len(dets)
            _check_document_names(conn, field_updates)
            scrub = _Scrubber(key.registry, book)
            auto = _auto_updates(conn, scrub)
        summary.documents, summary.fields, summary.scrubbed = (
            len(plans),
            len(field_updates),
            len(auto),
        )
        key.book = book
        key.save()
        for plan in plans:
            self._write_document_plan(plan)
        with self.store.transaction() as conn:
            for ref, value in field_updates.items():
                table, column, where = _field_where(ref)
                conn.execute(update(table).where(*where).values({column: value}))
            for (table, column, pk), value in auto.items():
                conn.execute(update(table).where(*_pk_where(table, pk)).values({column: value}))
            summary.source_paths_cleared = conn.execute(
                update(t.documents)
                .where(t.documents.c.source_path.is_not(None))
                .values(source_path=None)
            ).rowcount
        self.compact_store()
        return summary

    def _write_document_plan(self, plan: _DocPlan) -> None:
        with self.store.transaction() as conn:
            current = conn.scalar(
                select(t.documents.c.content_hash).where(t.documents.c.id == plan.id)
            )
            if current != plan.old_hash:
                raise Conflict(
                    "a document changed while the review was applied",
                    hint="scan again and apply the new list",
                )
            conn.execute(
                update(t.documents)
                .where(t.documents.c.id == plan.id)
                .values(
                    text=plan.text,
                    content_hash=plan.hash,
                    word_count=plan.words,
                    pseudonymised=True,
                    source_path=None,
                    updated_at=now(),
                )
            )
            # Codings are unique on their offsets: move them out of the way first so that
            # one coding's new range never clashes with another's old one mid-update.
            if plan.codings:
                _move(conn, t.codings, [(i, s + _PARK, e + _PARK) for i, s, e in plan.codings])
                _move(conn, t.codings, plan.codings)
            _move(conn, t.speaker_turns, plan.turns)
            _move(conn, t.meaning_units, plan.units)

    # -- importing ------------------------------------------------------------------------------

    def import_pseudonymised(
        self,
        paths: Sequence[str | Path],
        key: KeyFile,
        *,
        confirm: ConfirmFunction | None = None,
        ner: NerFunction | None = None,
        case: str | None = None,
        mapping: str | Path | None = None,
        scheme: str = "turn",
        window: int = 3,
        on_progress: Callable[[Any], None] | None = None,
    ) -> list[Any]:
        """Import files with names replaced before anything is written to the store.

        Each file's text is scanned with the key (registry, names the book knows, patterns,
        optional NER). With `confirm` None every proposal is accepted; otherwise
        `confirm(file name, proposals)` decides per file, and a refused file is not imported.
        The file name gets the same replacements; the key is saved before the document is
        stored; the document keeps no source path.
        """
        from caseframe.api.documents import ImportResult, _read_mapping
        from caseframe.errors import CaseframeError
        from caseframe.ingest import read_document

        case_of = _read_mapping(mapping) if mapping else {}
        results = []
        with tempfile.TemporaryDirectory(prefix="caseframe-import-") as tmp:
            for i, raw_path in enumerate(paths):
                path = Path(raw_path)
                target_case = case_of.get(path.name) or case_of.get(path.stem) or case
                try:
                    read = read_document(path)
                    original = read.text
                    new_text, new_name, offsets = self._pseudonymise_file(
                        key, original, path.name, confirm, ner
                    )
                except CaseframeError as exc:
                    result = ImportResult(str(path), error=exc.line())
                else:
                    link = Path(tmp) / str(i) / new_name
                    link.parent.mkdir()
                    link.symlink_to(path.resolve())

                    def text_filter(text_in: str, _name: str, original=original, new=new_text):
                        if text_in != original:  # the file changed under us
                            raise Conflict("the file changed while it was imported")
                        return new

                    result = self.import_documents(
                        [link],
                        case=target_case,
                        scheme=scheme,
                        window=window,
                        text_filter=text_filter,
                    )[0]
                    result.path = str(path)
                    if result.ok:
                        self._finish_import(result, read, offsets, key, scheme, window)
                results.append(result)
                if on_progress:
                    on_progress(result)
        return results

    def _pseudonymise_file(
        self,
        key: KeyFile,
        text_in: str,
        file_name: str,
        confirm: ConfirmFunction | None,
        ner: NerFunction | None,
    ) -> tuple[str, str, Any]:
        items = self.scan_texts(key, {file_name: text_in}, ner=ner)
        if confirm is not None and items and not confirm(file_name, items):
            raise InvalidInput(
                f"{file_name}: not imported, the proposed replacements were refused",
                hint="add or correct names in the key's registry and import it again",
            )
        book = key.book.copy()
        dets = accepted_by_document(items).get(file_name, [])
        new_text, offsets, _r = pseudonymise(text_in, dets, book)
        new_name = _scrub_name(file_name, _Scrubber(key.registry, book))
        key.book = book
        key.save()
        return new_text, new_name, offsets

    def _finish_import(self, result, read, offsets, key: KeyFile, scheme: str, window: int):
        """Keep the speaker turns found in the original text (a pseudonym label such as
        "[Manager A3]:" is not recognised as a speaker by the turn detector), with their
        offsets moved and their speaker names replaced; rebuild the meaning units on them;
        clear the source path (it pointed at the temporary link)."""
        from caseframe.api.documents import _insert_units
        from caseframe.ingest import detect_turns, segment
        from caseframe.model import SpeakerTurn

        scrub = _Scrubber(key.registry, key.book)
        turns = [
            SpeakerTurn(i, scrub(tr.speaker), *offsets.map_span(tr.start, tr.end))
            for i, tr in enumerate(read.turns or detect_turns(read.text))
        ]
        with self.store.transaction() as conn:
            doc = conn.execute(
                select(t.documents.c.id, t.documents.c.text).where(
                    t.documents.c.name == result.document
                )
            ).one()
            conn.execute(
                update(t.documents)
                .where(t.documents.c.id == doc.id)
                .values(source_path=None, pseudonymised=True)
            )
            conn.execute(delete(t.speaker_turns).where(t.speaker_turns.c.document_id == doc.id))
            conn.execute(delete(t.meaning_units).where(t.meaning_units.c.document_id == doc.id))
            if turns:
                conn.execute(
                    t.speaker_turns.insert(),
                    [
                        {
                            "document_id": doc.id,
                            "idx": tr.index,
                            "speaker": tr.speaker,
                            "start": tr.start,
                            "end": tr.end,
                        }
                        for tr in turns
                    ],
                )
            units = segment(doc.text, turns, scheme, window)
            _insert_units(conn, doc.id, scheme, units)
        result.turns, result.units = len(turns), len(units)

    # -- compaction -------------------------------------------------------------------------------

    def compact_store(self) -> None:
        """Make deleted text unrecoverable from the store's files.

        SQLite: checkpoint and truncate the WAL, VACUUM (rewrites every page, so free pages
        with old text are gone), truncate the WAL again. PostgreSQL: VACUUM FULL rewrites the
        tables; its write-ahead log and any backups are outside caseframe's reach.
        """
        if self.store.dialect == "sqlite":
            raw = self.store.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                cursor.execute("VACUUM")
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                cursor.close()
            finally:
                raw.close()
            self.store.engine.dispose()  # idle pooled connections keep no old pages
        elif self.store.dialect == "postgresql":
            with self.store.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                tables = {tb.name for tb, _c in FIELD_TARGETS + AUTO_TEXT + AUTO_JSON}
                tables |= {"codings", "documents"}
                conn.execute(text("VACUUM FULL " + ", ".join(sorted(tables))))


# -- helpers ------------------------------------------------------------------------------------


def _known_names(key: KeyFile) -> Registry:
    """The key's registry plus every name its book already holds (found earlier by a
    pattern or NER), each with its assigned pseudonym."""
    registry = Registry(entries=list(key.registry.entries))
    listed = {(normalise_value(e.value), e.category) for e in key.registry}
    for a in key.book.assignments():
        if a.category in NAME_CATEGORIES and (normalise_value(a.value), a.category) not in listed:
            registry.add(a.value, a.category, a.pseudonym)
    return registry


def _move(conn, table: Table, spans: list[tuple[int, int, int]]) -> None:
    if spans:
        conn.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(start=bindparam("new_start"), end=bindparam("new_end")),
            [{"row_id": i, "new_start": s, "new_end": e} for i, s, e in spans],
        )


def _found_names(scans: dict[str, list[Detection]], registry: Registry) -> Registry:
    extra = Registry(entries=list(registry.entries))
    seen = {normalise_value(e.value) for e in registry}
    for dets in scans.values():
        for d in dets:
            if d.category in NAME_CATEGORIES and d.source != "registry":
                norm = normalise_value(d.value or d.text)
                if norm and norm not in seen and (d.value or d.text)[:1].isupper():
                    seen.add(norm)
                    extra.add(d.value or d.text, d.category)
    return extra


def _mark_propagated(d: Detection, known: set[str]) -> Detection:
    if d.source == "registry" and normalise_value(d.value) not in known:
        return dataclasses.replace(d, source="propagated:project")
    return d


def _plan_document(conn, doc, dets: list[Detection], book) -> _DocPlan:
    from caseframe.ingest import content_hash, word_count

    try:
        new_text, offsets, _r = pseudonymise(doc.text, dets, book)
    except (Conflict, InvalidInput) as exc:
        raise type(exc)(f"document '{doc.name}': {exc.message}", hint=exc.hint) from None

    def spans(table: Table) -> list[tuple[int, int, int]]:
        rows = conn.execute(
            select(table.c.id, table.c.start, table.c.end).where(table.c.document_id == doc.id)
        )
        return [(r.id, *offsets.map_span(r.start, r.end)) for r in rows]

    codings = spans(t.codings)
    seen: dict[tuple, int] = {}
    for row in conn.execute(
        select(t.codings.c.id, t.codings.c.code_id, t.codings.c.coder_id).where(
            t.codings.c.document_id == doc.id
        )
    ):
        start, end = next((s, e) for i, s, e in codings if i == row.id)
        other = seen.setdefault((start, end, row.code_id, row.coder_id), row.id)
        if other != row.id:
            raise Conflict(
                f"document '{doc.name}': codings {other} and {row.id} would cover the same "
                f"text with the same code and coder after pseudonymising",
                hint="delete one of them, then apply again",
            )
    return _DocPlan(
        doc.id,
        doc.content_hash,
        new_text,
        content_hash(new_text),
        word_count(new_text),
        codings,
        spans(t.speaker_turns),
        spans(t.meaning_units),
    )


def _check_hashes(conn, plans: list[_DocPlan]) -> None:
    changing = {p.id for p in plans}
    taken = {
        r.content_hash: r.name
        for r in conn.execute(
            select(t.documents.c.id, t.documents.c.name, t.documents.c.content_hash)
        )
        if r.id not in changing
    }
    for p in plans:
        if p.hash in taken:
            raise Conflict(
                f"after pseudonymising, a document would have the same text as '{taken[p.hash]}'",
                hint="the two transcripts differ only in names; delete one of them",
            )
        taken[p.hash] = str(p.id)


def _field_where(ref: str) -> tuple[Table, str, list]:
    m = _FIELD_REF.match(ref)
    pairs = {(tb.name, c): tb for tb, c in FIELD_TARGETS}
    if not m or (m["table"], m["column"]) not in pairs:
        raise NotFound(
            f"no document or field '{ref}' in the project",
            hint="the review list must come from 'caseframe privacy scan' on this project",
        )
    table = pairs[(m["table"], m["column"])]
    return table, m["column"], _pk_where(table, tuple(m["pk"].split(":")))


def _pk_where(table: Table, pk: tuple) -> list:
    cols = list(table.primary_key.columns)
    if len(cols) != len(pk):
        raise NotFound(f"bad row reference {pk!r} for {table.name}")
    return [
        c == (int(v) if c.type.python_type is int else v) for c, v in zip(cols, pk, strict=True)
    ]


def _read_fields(conn, refs: list[str]) -> dict[str, str]:
    out = {}
    for ref in refs:
        table, column, where = _field_where(ref)
        row = conn.execute(select(table.c[column]).where(*where)).first()
        if row is None or row[0] is None:
            raise NotFound(f"no document or field '{ref}' in the project")
        out[ref] = row[0]
    return out


def _check_document_names(conn, updates: dict[str, str]) -> None:
    renamed = {}
    for ref, value in updates.items():
        if ref.startswith("documents.name#"):
            renamed[int(ref.split("#", 1)[1])] = value
    if not renamed:
        return
    names = {r.id: r.name for r in conn.execute(select(t.documents.c.id, t.documents.c.name))}
    names.update(renamed)
    seen: dict[str, int] = {}
    for doc_id, name in names.items():
        if name in seen:
            raise Conflict(
                f"two documents would both be named '{name}' after pseudonymising",
                hint="reject one of the name replacements or rename a document",
            )
        seen[name] = doc_id


class _Scrubber:
    """Replace every known value and pattern identifier in a short string, via the book."""

    def __init__(self, registry: Registry, book):
        self.book = book
        self.registry = Registry(entries=list(registry.entries))
        listed = {(normalise_value(e.value), e.category) for e in registry}
        for a in book.assignments():
            if (
                a.category in NAME_CATEGORIES
                and (normalise_value(a.value), a.category) not in listed
            ):
                self.registry.add(a.value, a.category, a.pseudonym)

    def __call__(self, value: str) -> str:
        dets = scan(value, self.registry, True, None, propagate=False)
        return pseudonymise(value, dets, self.book)[0] if dets else value

    def json(self, value: Any) -> Any:
        if isinstance(value, str):
            return self(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {self(k) if isinstance(k, str) else k: self.json(v) for k, v in value.items()}
        return value


def _auto_updates(conn, scrub: _Scrubber) -> dict[tuple[Table, str, tuple], Any]:
    out: dict[tuple[Table, str, tuple], Any] = {}
    for table, column in AUTO_TEXT + AUTO_JSON:
        pk = list(table.primary_key.columns)
        for row in conn.execute(select(*pk, table.c[column])):
            value = row[-1]
            if value is None or (table is t.settings and row[0] in _OPAQUE_SETTINGS):
                continue
            new = scrub.json(value) if (table, column) in AUTO_JSON else scrub(value)
            if new != value:
                out[(table, column, tuple(row[:-1]))] = new
    return out


def _scrub_name(name: str, scrub: _Scrubber) -> str:
    """A file name with known names replaced; "_" and "-" count as spaces for matching."""
    spaced = name.translate(str.maketrans("_-", "  "))
    dets = scan(spaced, scrub.registry, True, None, propagate=False)
    if not dets:
        return name
    new, _o, _r = pseudonymise(
        name, [dataclasses.replace(d, text=name[d.start : d.end]) for d in dets], scrub.book
    )
    return new.replace("/", "-").replace(os.sep, "-")
