"""Confidentiality on the project: scan the store, apply a reviewed list, import pseudonymised.

Detection, propagation, scrubbing and planning are in `caseframe.privacy` (store-independent),
the SQL in `caseframe.store.queries.privacy`; this mixin reads, calls them and writes. Rules:

- the key file (real values) never lives inside the project folder, and neither does a review
  list, so copying, exporting or serving the project never carries them;
- every replacement is decided and checked before anything is written, and the key is saved
  before the store changes, so an error leaves the store as it was and the store never holds a
  pseudonym the key cannot explain;
- an apply is one transaction, with its audit entry (counts only, never a name);
- afterwards the store is compacted (`Store.compact`), because deleted text survives in free
  pages and in the write-ahead log.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.api.base import ProjectBase
from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.store.queries import privacy as pq

if TYPE_CHECKING:
    from caseframe.privacy import KeyFile, RegistryEntry, ReviewItem
    from caseframe.privacy.ner import NerFunction

from caseframe.privacy.settings import KEY_ENV, PASSPHRASE_ENV  # noqa: F401  (re-exported)

_KIND_CATEGORY = {"respondent": "respondent", "site": "site", "service": "site", "region": "place"}
_SPAN_TABLES = ("codings", "speaker_turns", "meaning_units", "timed_segments")

# (file name, proposals) -> import it?  Used by `import --pseudonymise` without --yes.
ConfirmFunction = Callable[[str, list["ReviewItem"]], bool]


@dataclass
class ApplySummary:
    documents: int = 0  # transcripts whose text changed
    replacements: int = 0  # accepted replacements applied (texts and fields)
    codings: int = 0  # codings on changed documents (all remapped)
    fields: int = 0  # other fields changed (names, labels, memos, ...)
    scrubbed: int = 0  # speaker names, authors and logged values changed automatically
    source_paths_cleared: int = 0


class PrivacyMixin(ProjectBase):
    # -- the key file ---------------------------------------------------------------------------

    def check_private_path(self, path: str | Path, what: str = "key file") -> Path:
        """Refuse a path inside the project folder: copying the project would carry it."""
        path = Path(path).expanduser()
        if path.resolve().is_relative_to(self.root.resolve()):
            raise InvalidInput(
                f"the {what} {path} is inside the project folder",
                hint=f"keep the {what} outside the project (it holds real names), "
                f"e.g. in a folder only you can read",
            )
        return path

    def create_key(self, path: str | Path, passphrase: str) -> KeyFile:
        from caseframe.privacy import KeyFile

        return KeyFile.create(self.check_private_path(path), passphrase)

    def open_key(self, path: str | Path, passphrase: str) -> KeyFile:
        from caseframe.privacy import KeyFile

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
        from caseframe.privacy import Registry
        from caseframe.privacy.registry import normalise_value

        staged = Registry()
        entry = staged.add(value, category, pseudonym, variants)
        wanted = (normalise_value(entry.value), entry.category)
        if any((normalise_value(e.value), e.category) == wanted for e in key.registry):
            raise Conflict(f"{entry.value!r} is already in the registry as {entry.category}")
        key.add_names(staged)
        return entry

    def import_names(self, key: KeyFile, path: str | Path) -> int:
        """Add a `value,category[,pseudonym[,variants]]` list to the key; all or nothing."""
        from caseframe.privacy import Registry

        staged = Registry.from_csv(path)
        key.add_names(staged)
        return len(staged)

    def names_from_cases(
        self,
        key: KeyFile,
        attribute: str = "real_name",
        category: str | None = None,
        *,
        actor: str | None = None,
    ) -> list[RegistryEntry]:
        """Move real names held in a case attribute into the key, then delete the attribute.

        Each case's pseudonym is built from its id ("[Respondent A1]", "[Service B2]"), so
        quotes stay attributable the way the study reports them. The key is saved before the
        attribute is deleted; the store is then compacted so the names leave the file.
        """
        from caseframe.privacy import Registry
        from caseframe.privacy.pseudonyms import NUMBERED_PREFIX

        with self.writing(actor) as w:
            found = pq.attribute_values(w.conn, attribute)
            if found is None:
                raise NotFound(f"no case attribute named '{attribute}'")
            attribute_id, rows = found
            staged = Registry()
            for row in rows:
                if not row.value.strip():
                    continue
                cat = category or _KIND_CATEGORY.get((row.kind or "").casefold(), "person")
                label = (
                    None if key.book.lookup(row.value, cat) else f"{NUMBERED_PREFIX[cat]} {row.key}"
                )
                staged.add(row.value, cat, label, where=f"case {row.key}")
            key.add_names(staged)
            pq.delete_attribute(w.conn, attribute_id)
            # the names were audited when the cases were written: take them out of the log too
            scrubbed = self._scrub_unreviewed(w.conn, key.registry, key.book)
            w.audit(
                "names_to_key",
                "attribute",
                attribute_id,
                None,
                {"names": len(staged), "scrubbed": scrubbed},
            )
        self.store.compact()
        return list(staged.entries)

    @staticmethod
    def _scrub_unreviewed(conn, registry, book) -> int:
        """Replace every value the key knows in the fields no one reviews line by line
        (speakers, authors, the audit log, metadata); returns how many values changed."""
        from caseframe.privacy.corpus import Scrubber
        from caseframe.privacy.propagate import Vocabulary
        from caseframe.privacy.targets import AUTO_FIELDS

        scrub = Scrubber(registry, book, Vocabulary(r.text for r in pq.documents(conn)))
        auto = scrub.fields(pq.column_values(conn, tb, col) for tb, col in AUTO_FIELDS)
        for (table, column, pk), value in auto.items():
            pq.set_value(conn, table, column, pk, value)
        return len(auto)

    # -- scanning -------------------------------------------------------------------------------

    def privacy_targets(
        self, documents: Sequence[str] | None = None, fields: bool = True
    ) -> dict[str, str]:
        """{target: text}: transcripts by name, then the other fields that can name someone."""
        from caseframe.privacy.targets import FIELDS, field_ref

        with self.store.read() as conn:
            out = {row.name: row.text for row in pq.documents(conn, documents)}
            if fields:
                for table, column in FIELDS:
                    for _t, _c, pk, value in pq.column_values(conn, table, column):
                        if isinstance(value, str) and value.strip():
                            out[field_ref(table, column, pk)] = value
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

        The key's registry is looked for in any case; every name the key's book holds, and
        every name a pattern or NER found in any text, is looked for in all of them under the
        case and dictionary-word rules of `caseframe.privacy.propagate`. Field targets that are
        names (document, case, code, set and coder names, memo titles) are also read with "_",
        "-" and camel case as spaces.
        """
        from caseframe.privacy import propose
        from caseframe.privacy.corpus import scan_corpus
        from caseframe.privacy.targets import is_identifier

        patterns = patterns if isinstance(patterns, bool) else list(patterns)
        identifiers = {ref for ref in texts if is_identifier(ref)}
        scans = scan_corpus(
            texts, key.registry, key.book, identifiers=identifiers, patterns=patterns, ner=ner
        )
        return propose(scans, key.book)

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
        from caseframe.privacy import write_review

        path = self.check_private_path(path, "review list")
        write_review(path, items)
        return path

    # -- applying ---------------------------------------------------------------------------------

    def apply_privacy_review(
        self,
        key: KeyFile,
        review: str | Path | Sequence[ReviewItem],
        *,
        actor: str | None = None,
    ) -> ApplySummary:
        """Apply the accepted rows to texts, codings, turns, units and fields; then compact.

        Everything is planned and checked first (offsets, pseudonyms, duplicate codings, names
        that must stay unique); the key is saved; then the store changes in one transaction.
        """
        from caseframe.privacy import accepted_by_document, read_review
        from caseframe.privacy.plan import (
            check_distinct_names,
            check_distinct_texts,
            plan_field,
            renamed_identifiers,
        )
        from caseframe.privacy.targets import parse_ref

        items = read_review(review) if isinstance(review, str | Path) else list(review)
        accepted = accepted_by_document(items)
        book = key.book.copy()
        summary = ApplySummary()
        with self.writing(actor) as w:
            docs = {r.name: r for r in pq.documents(w.conn)}
            plans = [
                self._plan_document(w.conn, docs[name], dets, book)
                for name, dets in accepted.items()
                if name in docs
            ]
            check_distinct_texts(plans, pq.content_hashes(w.conn))
            fields = {}  # (table, column, pk) -> new value
            for ref, dets in accepted.items():
                if ref not in docs:
                    target = parse_ref(ref)
                    fields[target] = plan_field(ref, pq.field_value(w.conn, *target), dets, book)
            for (table, column, scope), renamed in renamed_identifiers(fields).items():
                current = pq.scoped_values(w.conn, table, column, scope)
                check_distinct_names(table, current, renamed)
            key.book = book
            key.save()  # before the store changes: no pseudonym the key cannot explain
            for plan in plans:
                pq.rewrite_document(w.conn, plan.id, plan.text, plan.hash, plan.words)
                for table, moved in plan.spans.items():
                    pq.move_spans(w.conn, table, moved)
            for (table, column, pk), value in fields.items():
                pq.set_value(w.conn, table, column, pk, value)
            scrubbed = self._scrub_unreviewed(w.conn, key.registry, book)
            summary.documents, summary.fields, summary.scrubbed = len(plans), len(fields), scrubbed
            summary.replacements = sum(len(d) for d in accepted.values())
            summary.codings = sum(len(p.spans["codings"]) for p in plans)
            summary.source_paths_cleared = pq.clear_source_paths(w.conn)
            w.audit("pseudonymise", "project", None, None, asdict(summary))
        self.store.compact()
        return summary

    def _plan_document(self, conn, doc, dets, book):
        from caseframe.privacy.plan import plan_document

        spans = {table: pq.spans(conn, table, doc.id) for table in _SPAN_TABLES}
        keys = pq.coding_keys(conn, doc.id)
        return plan_document(doc.id, doc.name, doc.text, dets, book, spans, keys)

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
        actor: str | None = None,
    ) -> list[Any]:
        """Import files with names replaced before anything is written to the store.

        Each file's text is scanned with the key (registry, names the book knows, patterns,
        optional NER). With `confirm` None every proposal is accepted; otherwise
        `confirm(file name, proposals)` decides per file, and a refused file is not imported.
        The file name gets the same replacements; the key is saved before the document is
        stored; the document keeps no source path.
        """
        from caseframe.api.documents import ImportResult
        from caseframe.errors import CaseframeError
        from caseframe.ingest import read_document
        from caseframe.util.csvfile import read_csv_rows

        case_of = {}
        if mapping:
            _header, rows = read_csv_rows(mapping, required=("file", "case"))
            case_of = {row["file"]: row["case"] for _line, row in rows}
        results = []
        with tempfile.TemporaryDirectory(prefix="caseframe-import-") as tmp:
            for i, raw_path in enumerate(paths):
                path = Path(raw_path)
                target_case = case_of.get(path.name) or case_of.get(path.stem) or case
                try:
                    read = read_document(path)
                    new_text, new_name, offsets = self._pseudonymise_file(
                        key, read.text, path.name, confirm, ner
                    )
                except CaseframeError as exc:
                    result = ImportResult(str(path), error=exc.line())
                else:
                    link = Path(tmp) / str(i) / new_name
                    link.parent.mkdir()
                    link.symlink_to(path.resolve())

                    def text_filter(text_in: str, _name: str, original=read.text, new=new_text):
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
                        self._finish_import(result, read, offsets, key, scheme, window, actor)
                results.append(result)
                if on_progress:
                    on_progress(result)
        return results

    def _pseudonymise_file(self, key, text_in, file_name, confirm, ner):
        from caseframe.privacy.incoming import pseudonymised_file

        items = self.scan_texts(key, {file_name: text_in}, ner=ner)
        if confirm is not None and items and not confirm(file_name, items):
            raise InvalidInput(
                f"{file_name}: not imported, the proposed replacements were refused",
                hint="add or correct names in the key's registry and import it again",
            )
        return pseudonymised_file(key, text_in, file_name, items)

    def _finish_import(self, result, read, offsets, key, scheme, window, actor) -> None:
        """Keep the original's speaker turns, moved and renamed (`moved_turns`); rebuild the
        meaning units on them; clear the source path (it pointed at the temporary link)."""
        from caseframe.ingest import segment
        from caseframe.privacy.incoming import moved_turns

        turns = moved_turns(key, read.text, read.turns, offsets)
        with self.writing(actor) as w:
            doc = pq.document_by_name(w.conn, result.document)
            units = segment(doc.text, turns, scheme, window)
            rows = [(tr.index, tr.speaker, tr.start, tr.end) for tr in turns]
            pq.replace_turns_and_units(w.conn, doc.id, rows, scheme, units)
            counts = {"turns": len(turns), "units": len(units)}
            w.audit("import_pseudonymised", "document", doc.id, None, counts)
        result.turns, result.units = len(turns), len(units)

    # -- compaction -------------------------------------------------------------------------------

    def compact_store(self) -> None:
        """Make deleted text unrecoverable from the store's files (see `Store.compact`)."""
        self.store.compact()
