"""Inter-coder agreement on the project's codings, disagreement lists and the consensus coder.

The statistics are in :mod:`caseframe.analysis.agreement` (meaning units) and
:mod:`caseframe.analysis.unitized` (characters); this module turns the store into their input.

Rules (docs/agreement.md explains why):

* units are the meaning units of one scheme per document: ``imported`` if the document has them,
  else ``turn``, ``paragraph``, ``sentences`` (or the scheme asked for);
* a coder applied code c to unit u when one of their codings of c overlaps u by at least half of
  the shorter of the two (the unit or the coding);
* coder k saw unit u when k marked u's document as done (``coder_documents``) or has any coding in
  it; units of documents no chosen coder saw are left out;
* a named category includes its descendants' codings unless ``exact``; with no codes named, every
  code the chosen coders used counts on its own codings;
* by default the human coders take part, except consensus coders (made by :meth:`consensus`, or a
  coder named ``consensus`` as in coded-segment datasets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, delete, func, select

from caseframe.analysis.agreement import (
    RULES,
    AgreementReport,
    CodingMatrix,
    UnitInfo,
    check_agreement_input,
    disagreements,
    per_code_agreement,
)
from caseframe.analysis.agreement import consensus as consensus_rule
from caseframe.analysis.agreement_stats import (
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha_nominal,
    percent_agreement,
    ratings_to_counts,
)
from caseframe.analysis.unitized import character_kappa, unitized_alpha
from caseframe.errors import Conflict, InvalidInput, NotFound
from caseframe.model import CodingStatus
from caseframe.store import schema as t
from caseframe.store.core import new_guid, now
from caseframe.store.lookup import code_row, coder_row, document_row

SCHEME_ORDER = ("imported", "turn", "paragraph", "sentences")
CONSENSUS_KEY = "agreement.consensus"  # settings: {coder name: {from, rule, scheme, pending}}
DATASET_CONSENSUS = "consensus"  # FORMATS.md: the reference coder of a coded-segment dataset
DECISIONS = ("apply", "skip")


@dataclass
class _Built:
    """A CodingMatrix and the store rows behind its axes."""

    matrix: CodingMatrix
    units: pd.DataFrame  # id, document_id, document, start, end, scheme (matrix unit order)
    code_ids: list[int]  # the code each matrix code stands for (root of its group)
    coder_ids: list[int]
    schemes: dict[str, int] = field(default_factory=dict)  # scheme -> documents using it


@dataclass
class ConsensusResult:
    coder: str
    rule: str
    coders: list[str]
    codings: int  # consensus codings written
    decided: int  # (unit, code) decisions the rule settled
    unresolved: pd.DataFrame  # code, unit, document, start, end, text, applied_by, ..., reason


class AgreementMixin:
    store: Any

    # -- building the matrix ------------------------------------------------------------------

    def agreement_matrix(
        self,
        coders: Sequence[str] | None = None,
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
        scheme: str | None = None,
        exact: bool = False,
        with_text: bool = False,
    ) -> CodingMatrix:
        """units x coders x codes from the store (rules in the module docstring)."""
        return self._agreement_build(coders, codes, documents, scheme, exact, with_text).matrix

    def _agreement_build(
        self,
        coders: Sequence[str] | None,
        codes: Sequence[str | int] | None,
        documents: Sequence[str | int] | None,
        scheme: str | None,
        exact: bool,
        with_text: bool,
    ) -> _Built:
        if scheme is not None and scheme not in SCHEME_ORDER:
            raise InvalidInput(
                f"unknown unit scheme '{scheme}'", hint=f"use one of {', '.join(SCHEME_ORDER)}"
            )
        with self.store.read() as conn:
            coder_names, coder_ids = _choose_coders(conn, coders)
            doc_ids = (
                None
                if documents is None
                else list(dict.fromkeys(document_row(conn, d).id for d in documents))
            )
            docseen = _seen_documents(conn, coder_ids, doc_ids)  # doc id -> bool[coders]
            if not docseen:
                raise InvalidInput(
                    f"coders {', '.join(coder_names)} have coded none of the "
                    f"{'chosen ' if documents else ''}documents",
                    hint="mark documents as coded (import-coded does) or add codings",
                )
            tree = _code_tree(conn)
            groups = _code_groups(conn, tree, codes, exact, coder_ids, list(docseen))
            units, schemes = _units(conn, list(docseen), scheme)
            pairs = _overlaps(conn, coder_ids, groups, units, doc_ids)
            texts = _texts(conn, units) if with_text else None
        n_u, n_k, n_c = len(units), len(coder_ids), len(groups)
        applied = np.zeros((n_u, n_k, n_c), dtype=bool)
        applied[pairs[:, 0], pairs[:, 1], pairs[:, 2]] = True
        doc_pos = {d: i for i, d in enumerate(docseen)}
        seen_by_doc = np.array(list(docseen.values()), dtype=bool).reshape(-1, n_k)
        seen = seen_by_doc[units["document_id"].map(doc_pos).to_numpy()]
        labels = _code_labels(tree, [g[0] for g in groups])
        unit_info = [
            UnitInfo(str(uid), doc, None if texts is None else texts[i])
            for i, (uid, doc) in enumerate(
                zip(units["id"].tolist(), units["document"].tolist(), strict=True)
            )
        ]
        matrix = CodingMatrix(unit_info, coder_names, labels, applied, seen)
        return _Built(matrix, units, [g[0] for g in groups], coder_ids, schemes)

    # -- figures ------------------------------------------------------------------------------

    def agreement(
        self,
        coders: Sequence[str] | None = None,
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
        scheme: str | None = None,
        exact: bool = False,
        bootstrap: int = 1000,
        seed: int = 0,
        confidence: float = 0.95,
    ) -> AgreementReport:
        """Agreement per code and overall on meaning units (binary per code), with CIs."""
        built = self._agreement_build(coders, codes, documents, scheme, exact, False)
        report = per_code_agreement(built.matrix, bootstrap, seed, confidence)
        report.overall["unit"] = "meaning-unit"
        report.overall["schemes"] = built.schemes
        return report

    def multiclass_agreement(
        self,
        codes: Sequence[str | int] | None = None,
        coders: Sequence[str] | None = None,
        documents: Sequence[str | int] | None = None,
        scheme: str | None = None,
        exact: bool = False,
    ) -> dict[str, Any]:
        """The chosen codes as mutually exclusive values of one nominal variable.

        Each coder's value for a unit is the one code they applied to it; a unit where a coder
        applied none of the codes, or several, is missing for that coder (add a "none" code to
        count absence as a value).
        """
        matrix = self.agreement_matrix(coders, codes, documents, scheme, exact)
        check_agreement_input(matrix)
        if len(matrix.codes) < 2:
            raise InvalidInput(
                "multi-class agreement needs two or more codes", hint="name them with --codes"
            )
        n_applied = matrix.applied.sum(axis=2)  # [U, K]
        value = np.argmax(matrix.applied, axis=2).astype(float)
        value[(n_applied != 1) | ~matrix.seen] = np.nan
        data = value.T  # coders x units
        counts, _ = ratings_to_counts(data, categories=list(range(len(matrix.codes))))
        figures = {
            "percent_agreement": percent_agreement(counts),
            "fleiss_kappa": fleiss_kappa(counts),
            "krippendorff_alpha": krippendorff_alpha_nominal(data),
            "gwet_ac1": gwet_ac1(counts),
        }
        return {
            "codes": list(matrix.codes),
            "coders": list(matrix.coders),
            "units": figures["krippendorff_alpha"].units,
            "multi_coded": int(((n_applied > 1) & matrix.seen).sum()),
            **{k: v.value for k, v in figures.items()},
            "notes": sorted({v.reason for v in figures.values() if v.reason}),
        }

    def character_agreement(
        self,
        coders: Sequence[str] | None = None,
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
        exact: bool = False,
    ) -> dict[str, Any]:
        """Agreement on characters, per code: NVivo-style κ per document (two coders) and
        Krippendorff's uα (any number of coders), on documents every chosen coder saw.

        Pooled figures treat the documents as one continuum. When no coder's codes overlap in
        a document, the chosen codes also form one semantic domain and the domain-level uα,
        |uα and |cuα are given (as ATLAS.ti reports them).
        """
        with self.store.read() as conn:
            coder_names, coder_ids = _choose_coders(conn, coders)
            doc_ids = (
                None
                if documents is None
                else list(dict.fromkeys(document_row(conn, d).id for d in documents))
            )
            docseen = _seen_documents(conn, coder_ids, doc_ids)
            common = [d for d, s in docseen.items() if all(s)]
            if not common:
                raise InvalidInput(
                    f"coders {', '.join(coder_names)} have no document in common",
                    hint="character-level agreement needs documents every chosen coder coded",
                )
            tree = _code_tree(conn)
            groups = _code_groups(conn, tree, codes, exact, coder_ids, common)
            docs = conn.execute(
                select(t.documents.c.id, t.documents.c.name, t.documents.c.text)
                .where(t.documents.c.id.in_(common))
                .order_by(t.documents.c.name)
            ).all()
            rows = conn.execute(
                select(
                    t.codings.c.document_id,
                    t.codings.c.coder_id,
                    t.codings.c.code_id,
                    t.codings.c.start,
                    t.codings.c.end,
                ).where(t.codings.c.coder_id.in_(coder_ids), t.codings.c.document_id.in_(common))
            ).all()
        labels = _code_labels(tree, [g[0] for g in groups])
        spans: dict[tuple[int, int, int], list[tuple[int, int]]] = {}
        member = {cid: [] for g in groups for cid in g}
        for j, g in enumerate(groups):
            for cid in g:
                member[cid].append(j)
        coder_pos = {c: i for i, c in enumerate(coder_ids)}
        for r in rows:
            for j in member.get(r.code_id, []):
                spans.setdefault((r.document_id, coder_pos[r.coder_id], j), []).append(
                    (r.start, r.end)
                )
        two = len(coder_ids) == 2
        offsets, total = {}, 0
        for d in docs:
            offsets[d.id] = total
            total += len(d.text)
        per_code = []
        for j, label in enumerate(labels):
            per_doc, pooled = [], {k: [] for k in range(len(coder_ids))}
            for d in docs:
                merged = {k: _merge(spans.get((d.id, k, j), [])) for k in range(len(coder_ids))}
                for k, s in merged.items():
                    pooled[k].extend((a + offsets[d.id], b + offsets[d.id]) for a, b in s)
                if not any(merged.values()) or not d.text:
                    continue  # nobody used the code here: kappa undefined, nothing to show
                entry: dict[str, Any] = {"document": d.name, "characters": len(d.text)}
                if two:
                    ck = character_kappa(len(d.text), merged[0], merged[1])
                    entry.update(percent_agreement=ck.percent_agreement, cohen_kappa=ck.kappa)
                ua = unitized_alpha(
                    len(d.text),
                    {c: [(a, b, label) for a, b in merged[k]] for k, c in enumerate(coder_names)},
                )
                entry["u_alpha"] = ua.u_alpha
                per_doc.append(entry)
            row: dict[str, Any] = {"code": label, "units": total, "documents": len(per_doc)}
            if two and total:
                ck = character_kappa(total, pooled[0], pooled[1])
                row.update(percent_agreement=ck.percent_agreement, cohen_kappa=ck.kappa)
            else:
                row.update(percent_agreement=None, cohen_kappa=None)
            alpha = (
                unitized_alpha(
                    total,
                    {c: [(a, b, label) for a, b in pooled[k]] for k, c in enumerate(coder_names)},
                )
                if total
                else None
            )
            row.update(
                fleiss_kappa=None,
                krippendorff_alpha=alpha.u_alpha if alpha else None,
                gwet_ac1=None,
                u_alpha=alpha.u_alpha if alpha else None,
                coded={c: int(sum(b - a for a, b in pooled[k])) for k, c in enumerate(coder_names)},
                per_document=per_doc,
            )
            per_code.append(row)
        return {
            "unit": "character",
            "coders": coder_names,
            "documents": [d.name for d in docs],
            "per_code": per_code,
            "overall": {
                "unit": "character",
                "characters": total,
                "coders": coder_names,
                **_domain_alpha(docs, offsets, total, spans, labels, coder_names),
            },
        }

    # -- disagreements ------------------------------------------------------------------------

    def agreement_disagreements(
        self,
        coders: Sequence[str] | None = None,
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
        scheme: str | None = None,
        exact: bool = False,
    ) -> pd.DataFrame:
        """Per code, the units where coders differ: text, who applied it and who did not.

        The empty `decision` column is for a consensus meeting to fill with apply or skip
        (`consensus resolve --file` reads it back)."""
        built = self._agreement_build(coders, codes, documents, scheme, exact, True)
        found = disagreements(built.matrix)
        return _unit_frame(built, found)

    def export_disagreements(self, out: str | Path, fmt: str | None = None, **selection) -> Path:
        """The disagreement list as CSV or XLSX (by the file's extension unless `fmt`)."""
        return write_unit_list(self.agreement_disagreements(**selection), out, fmt, "disagreements")

    # -- consensus ----------------------------------------------------------------------------

    def consensus(
        self,
        coders: Sequence[str] | None = None,
        as_coder: str = "consensus",
        rule: str = "majority",
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
        scheme: str | None = None,
        exact: bool = False,
        replace: bool = False,
    ) -> ConsensusResult:
        """Write the codings of a consensus coder from `coders` by `rule`, in one transaction.

        Settled (unit, code) decisions become codings of `as_coder` spanning the unit; units the
        rule cannot settle are kept as pending for :meth:`resolve_consensus`. The original
        coders' codings are not touched. `replace` first removes `as_coder`'s own codings.
        """
        if rule not in RULES:
            raise InvalidInput(f"unknown consensus rule '{rule}'", hint=f"use {', '.join(RULES)}")
        if coders is not None and len(set(coders)) < 2:
            raise InvalidInput(
                "consensus needs at least two coders", hint="name them with --coders A,B"
            )
        if as_coder in (coders or ()):
            raise InvalidInput(
                f"the consensus coder '{as_coder}' is one of the coders it is built from",
                hint="choose another name with --as",
            )
        built = self._agreement_build(coders, codes, documents, scheme, exact, True)
        if as_coder in built.matrix.coders:
            raise InvalidInput(
                f"the consensus coder '{as_coder}' is one of the coders it is built from",
                hint="choose another name with --as",
            )
        decided, unresolved = consensus_rule(built.matrix, rule=rule)
        unit_pos = {u.id: i for i, u in enumerate(built.matrix.units)}
        code_pos = {c: j for j, c in enumerate(built.matrix.codes)}
        apply = [(unit_pos[u], code_pos[c]) for (u, c), yes in decided.items() if yes]
        pending = [
            {
                "unit": int(x.unit),
                "code": built.code_ids[code_pos[x.code]],
                "document": int(built.units["document_id"].iat[unit_pos[x.unit]]),
                "reason": x.reason,
                "applied_by": list(x.applied_by),
                "not_applied_by": list(x.not_applied_by),
            }
            for x in unresolved
        ]
        units = built.units
        stamp = now()
        with self.store.transaction() as conn:
            coder_id = _consensus_coder(conn, as_coder, replace)
            rows = [
                {
                    "document_id": int(units["document_id"].iat[u]),
                    "start": int(units["start"].iat[u]),
                    "end": int(units["end"].iat[u]),
                    "code_id": built.code_ids[j],
                    "coder_id": coder_id,
                    "meaning_unit_id": int(units["id"].iat[u]),
                    "status": CodingStatus.FINAL.value,
                    "guid": new_guid(),
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for u, j in apply
            ]
            if rows:
                conn.execute(t.codings.insert(), rows)
            open_docs = {p["document"] for p in pending}
            docs = sorted(set(int(d) for d in units["document_id"]))
            conn.execute(delete(t.coder_documents).where(t.coder_documents.c.coder_id == coder_id))
            if docs:
                conn.execute(
                    t.coder_documents.insert(),
                    [
                        {
                            "coder_id": coder_id,
                            "document_id": d,
                            "status": "assigned" if d in open_docs else "done",
                        }
                        for d in docs
                    ],
                )
            registry = _registry(conn)
            registry[as_coder] = {
                "from": list(built.matrix.coders),
                "rule": rule,
                "schemes": built.schemes,
                "pending": pending,
            }
            _save_registry(conn, registry)
        frame = _unit_frame(built, unresolved)
        return ConsensusResult(
            as_coder, rule, list(built.matrix.coders), len(rows), len(decided), frame
        )

    def consensus_pending(self, as_coder: str = "consensus") -> pd.DataFrame:
        """The units a consensus coder still needs a decision on (with text, for a meeting)."""
        with self.store.read() as conn:
            entry = _consensus_entry(conn, as_coder)
            pending = entry["pending"]
            if not pending:
                return _unit_frame_rows([])
            unit_rows = {
                r.id: r
                for r in conn.execute(
                    select(
                        t.meaning_units.c.id,
                        t.meaning_units.c.start,
                        t.meaning_units.c.end,
                        t.documents.c.name,
                        t.documents.c.text,
                    )
                    .join(t.documents, t.documents.c.id == t.meaning_units.c.document_id)
                    .where(t.meaning_units.c.id.in_({p["unit"] for p in pending}))
                )
            }
            tree = _code_tree(conn)
        labels = dict(
            zip(
                {p["code"] for p in pending},
                _code_labels(tree, list({p["code"] for p in pending})),
                strict=True,
            )
        )
        records = []
        for p in pending:
            r = unit_rows.get(p["unit"])
            if r is None:
                continue  # the unit was removed by resegmenting; nothing left to decide
            records.append(
                {
                    "code": labels[p["code"]],
                    "unit": str(p["unit"]),
                    "document": r.name,
                    "start": r.start,
                    "end": r.end,
                    "text": r.text[r.start : r.end],
                    "applied_by": ", ".join(p.get("applied_by", [])),
                    "not_applied_by": ", ".join(p.get("not_applied_by", [])),
                    "reason": p["reason"],
                    "decision": "",
                }
            )
        return _unit_frame_rows(records)

    def resolve_consensus(
        self, unit: int | str, code: str | int, decision: str, as_coder: str = "consensus"
    ) -> str:
        """Settle one (unit, code) for a consensus coder: `apply` writes its coding, `skip`
        records "not applied" (removing its coding if there was one). Returns what changed."""
        with self.store.transaction() as conn:
            return _resolve(conn, as_coder, [(unit, code, decision, None)])[0]

    def resolve_consensus_file(self, path: str | Path, as_coder: str = "consensus") -> int:
        """Decisions from an edited disagreement/pending list (CSV or XLSX with columns unit,
        code, decision = apply|skip; rows with an empty decision are left as they are), all in
        one transaction. Returns how many decisions were recorded."""
        path = Path(path)
        if not path.is_file():
            raise NotFound("file not found", where=str(path))
        if path.suffix.lower() == ".xlsx":
            frame = pd.read_excel(path, dtype=str).fillna("")
        elif path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        else:
            raise InvalidInput("decisions must be a .csv or .xlsx file", where=str(path))
        missing = {"unit", "code", "decision"} - set(frame.columns)
        if missing:
            raise InvalidInput(
                f"missing column{'s' if len(missing) > 1 else ''} {', '.join(sorted(missing))}",
                where=f"{path}:1",
                hint="use the list written by `agreement disagreements` or `consensus`",
            )
        items = [
            (r["unit"], r["code"], r["decision"].strip().lower(), f"{path}:{i + 2}")
            for i, r in frame.iterrows()
            if str(r["decision"]).strip()
        ]
        if not items:
            raise InvalidInput(
                "no decisions in the file",
                where=str(path),
                hint="fill the decision column with apply or skip",
            )
        with self.store.transaction() as conn:
            _resolve(conn, as_coder, items)
        return len(items)

    def consensus_coders(self) -> dict[str, dict[str, Any]]:
        """Consensus coders made in this project: name -> {from, rule, schemes, pending}."""
        with self.store.read() as conn:
            return _registry(conn)

    # -- summary for the report and the web workspace -----------------------------------------

    def agreement_summary(self, bootstrap: int = 1000) -> dict[str, Any] | None:
        """None with fewer than two human coders; else coders, units and the pooled α, κ and
        AC1 over all codes, with a one-sentence `text` for a methods paragraph."""
        with self.store.read() as conn:
            names, _ = _default_coders(conn)
        if len(names) < 2:
            return None
        try:
            built = self._agreement_build(None, None, None, None, False, False)
            report = per_code_agreement(built.matrix, bootstrap=bootstrap)
        except InvalidInput as exc:  # e.g. coders with no document in common
            return {
                "coders": names,
                "units": 0,
                "codes": 0,
                "krippendorff_alpha": None,
                "kappa": None,
                "kappa_kind": None,
                "gwet_ac1": None,
                "text": f"Agreement between {_names(names)} could not be computed: {exc.message}.",
            }
        o = report.overall
        two = len(names) == 2
        kappa = o["cohen_kappa"] if two else o["fleiss_kappa"]
        kind = "Cohen's" if two else "Fleiss'"
        ci = o["ci"].get("krippendorff_alpha")
        schemes = ", ".join(built.schemes)
        text = (
            f"{len(names)} human coders ({_names(names)}) independently coded {o['units']} "
            f"shared meaning units ({schemes}) with {o['codes']} code"
            f"{'s' if o['codes'] != 1 else ''}; pooled over all code decisions, Krippendorff's "
            f"alpha = {_fmt(o['krippendorff_alpha'])}"
            + (f" (95% CI {ci[0]:.2f} to {ci[1]:.2f})" if ci else "")
            + f", {kind} kappa = {_fmt(kappa)} and Gwet's AC1 = {_fmt(o['gwet_ac1'])}."
        )
        return {
            "coders": names,
            "units": o["units"],
            "codes": o["codes"],
            "krippendorff_alpha": o["krippendorff_alpha"],
            "krippendorff_alpha_ci": ci,
            "kappa": kappa,
            "kappa_kind": "cohen" if two else "fleiss",
            "gwet_ac1": o["gwet_ac1"],
            "percent_agreement": o["percent_agreement"],
            "text": text,
        }


# --------------------------------------------------------------------------- store queries


def _registry(conn: Connection) -> dict[str, dict[str, Any]]:
    value = conn.scalar(select(t.settings.c.value).where(t.settings.c.key == CONSENSUS_KEY))
    return dict(value or {})


def _save_registry(conn: Connection, registry: dict[str, Any]) -> None:
    conn.execute(delete(t.settings).where(t.settings.c.key == CONSENSUS_KEY))
    conn.execute(t.settings.insert().values(key=CONSENSUS_KEY, value=registry))


def _default_coders(conn: Connection) -> tuple[list[str], list[int]]:
    """Human coders with work in the project, less consensus coders."""
    skip = set(_registry(conn)) | {DATASET_CONSENSUS}
    active = select(t.codings.c.coder_id).union(select(t.coder_documents.c.coder_id))
    rows = conn.execute(
        select(t.coders.c.id, t.coders.c.name)
        .where(t.coders.c.kind == "human", t.coders.c.id.in_(active))
        .order_by(t.coders.c.name)
    ).all()
    rows = [r for r in rows if r.name not in skip]
    return [r.name for r in rows], [r.id for r in rows]


def _choose_coders(conn: Connection, coders: Sequence[str] | None) -> tuple[list[str], list[int]]:
    if coders is None:
        names, ids = _default_coders(conn)
        if len(names) < 2:
            raise InvalidInput(
                "agreement needs at least two coders; the project has "
                + (f"only one human coder ('{names[0]}')" if names else "no human coder's codings"),
                hint="add a second coder's codings, or name machine coders with --coders",
            )
        return names, ids
    chosen = list(dict.fromkeys(c.strip() for c in coders if c.strip()))
    rows = [coder_row(conn, c) for c in chosen]
    if len(rows) < 2:
        raise InvalidInput(
            "agreement needs at least two coders; you chose "
            + (f"only '{rows[0].name}'" if rows else "none"),
            hint="name two or more coders, e.g. --coders A,B",
        )
    return [r.name for r in rows], [r.id for r in rows]


def _seen_documents(
    conn: Connection, coder_ids: list[int], doc_ids: list[int] | None
) -> dict[int, list[bool]]:
    """document id -> [seen by coder k]: marked done, or coded in; only documents someone saw."""
    done = select(t.coder_documents.c.coder_id, t.coder_documents.c.document_id).where(
        t.coder_documents.c.coder_id.in_(coder_ids), t.coder_documents.c.status == "done"
    )
    coded = (
        select(t.codings.c.coder_id, t.codings.c.document_id)
        .where(t.codings.c.coder_id.in_(coder_ids))
        .distinct()
    )
    pos = {c: i for i, c in enumerate(coder_ids)}
    wanted = None if doc_ids is None else set(doc_ids)
    seen: dict[int, list[bool]] = {}
    for coder_id, doc_id in conn.execute(done.union(coded)):
        if wanted is not None and doc_id not in wanted:
            continue
        seen.setdefault(doc_id, [False] * len(coder_ids))[pos[coder_id]] = True
    return dict(sorted(seen.items()))


def _code_tree(conn: Connection) -> pd.DataFrame:
    frame = pd.DataFrame(
        conn.execute(
            select(t.codes.c.id, t.codes.c.name, t.codes.c.parent_id, t.codes.c.position)
        ).all(),
        columns=["id", "name", "parent_id", "position"],
    )
    frame.index = frame["id"].to_numpy()
    return frame


def _code_order(tree: pd.DataFrame) -> dict[int, int]:
    """code id -> its place in the tree (depth first, by position then id)."""
    children: dict[Any, list] = {}
    for r in tree.sort_values(["position", "id"]).itertuples():
        parent = None if pd.isna(r.parent_id) else int(r.parent_id)
        children.setdefault(parent, []).append(int(r.id))
    order: dict[int, int] = {}
    stack = list(reversed(children.get(None, [])))
    while stack:
        node = stack.pop()
        order[node] = len(order)
        stack.extend(reversed(children.get(node, [])))
    return order


def _code_labels(tree: pd.DataFrame, ids: list[int]) -> list[str]:
    """A code's name, or its path where another code has the same name."""
    counts = tree["name"].value_counts()
    out = []
    for cid in ids:
        name = tree.at[cid, "name"]
        if counts[name] > 1:
            parts, node = [], cid
            while node is not None and not pd.isna(node):
                parts.append(tree.at[int(node), "name"])
                node = tree.at[int(node), "parent_id"]
            name = "/".join(reversed(parts))
        out.append(name)
    return out


def _code_groups(
    conn: Connection,
    tree: pd.DataFrame,
    codes: Sequence[str | int] | None,
    exact: bool,
    coder_ids: list[int],
    doc_ids: list[int],
) -> list[list[int]]:
    """Per matrix code, the code ids whose codings count for it (root first)."""
    if codes is None:
        used = conn.scalars(
            select(t.codings.c.code_id).where(t.codings.c.coder_id.in_(coder_ids)).distinct()
        ).all()
        order = _code_order(tree)
        groups = [[int(c)] for c in sorted(used, key=lambda c: order.get(c, 1 << 30))]
        if not groups:
            raise InvalidInput(
                "the chosen coders have applied no code", hint="code some passages first"
            )
        return groups
    children: dict[int, list[int]] = {}
    for r in tree.itertuples():
        if not pd.isna(r.parent_id):
            children.setdefault(int(r.parent_id), []).append(int(r.id))
    groups, roots = [], set()
    for ref in codes:
        root = int(code_row(conn, ref.strip() if isinstance(ref, str) else ref).id)
        if root in roots:
            continue
        roots.add(root)
        ids, frontier = [root], [root]
        while frontier and not exact:
            frontier = [c for f in frontier for c in children.get(f, [])]
            ids.extend(frontier)
        groups.append(ids)
    if not groups:
        raise InvalidInput("no codes to compare", hint="choose at least one code")
    return groups


def _units(
    conn: Connection, doc_ids: list[int], scheme: str | None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """The meaning units of the chosen scheme per document (first of SCHEME_ORDER if none)."""
    have = conn.execute(
        select(t.meaning_units.c.document_id, t.meaning_units.c.scheme)
        .group_by(t.meaning_units.c.document_id, t.meaning_units.c.scheme)
        .where(
            t.meaning_units.c.scheme.in_([scheme] if scheme else list(SCHEME_ORDER)),
        )
    ).all()
    wanted = set(doc_ids)
    options: dict[int, set[str]] = {}
    for doc_id, s in have:
        if doc_id in wanted:
            options.setdefault(doc_id, set()).add(s)
    chosen = {d: next(s for s in SCHEME_ORDER if s in opts) for d, opts in options.items()}
    if not chosen:
        raise InvalidInput(
            f"the coded documents have no meaning units{f' of scheme {scheme}' if scheme else ''}",
            hint="build them with `caseframe documents segment --units turn`",
        )
    query = (
        select(
            t.meaning_units.c.id,
            t.meaning_units.c.document_id,
            t.meaning_units.c.scheme,
            t.meaning_units.c.start,
            t.meaning_units.c.end,
            t.documents.c.name.label("document"),
        )
        .join(t.documents, t.documents.c.id == t.meaning_units.c.document_id)
        .where(t.meaning_units.c.scheme.in_(set(chosen.values())))
        .order_by(t.documents.c.name, t.meaning_units.c.start, t.meaning_units.c.id)
    )
    frame = pd.DataFrame(
        [tuple(r) for r in conn.execute(query)],
        columns=["id", "document_id", "scheme", "start", "end", "document"],
    )
    keep = frame["document_id"].map(chosen).eq(frame["scheme"])
    frame = frame[keep].reset_index(drop=True)
    schemes = {s: sum(1 for v in chosen.values() if v == s) for s in SCHEME_ORDER}
    return frame, {s: n for s, n in schemes.items() if n}


def _overlaps(
    conn: Connection,
    coder_ids: list[int],
    groups: list[list[int]],
    units: pd.DataFrame,
    doc_ids: list[int] | None,
) -> np.ndarray:
    """(unit index, coder index, code index) for every coding that counts for a unit.

    One query fetches the codings; candidate units come from a sorted search on one global
    axis (document rank x stride + offset), then the half-of-the-shorter rule and the code
    groups are applied with numpy. No per-coding Python loop."""
    c = t.codings
    query = select(c.c.coder_id, c.c.code_id, c.c.document_id, c.c.start, c.c.end).where(
        c.c.coder_id.in_(coder_ids)
    )
    all_codes = {cid for g in groups for cid in g}
    if len(all_codes) <= 500:  # else filtered below (bound parameters are limited)
        query = query.where(c.c.code_id.in_(all_codes))
    if doc_ids is not None and len(doc_ids) <= 500:
        query = query.where(c.c.document_id.in_(doc_ids))
    # tuples first: numpy probes every SQLAlchemy Row for array interfaces, which is slow
    raw = np.array([tuple(r) for r in conn.execute(query)], dtype=np.int64).reshape(-1, 5)
    raw = raw[np.isin(raw[:, 1], list(all_codes))]
    if not len(raw) or units.empty:
        return np.zeros((0, 3), dtype=np.int64)
    docs = pd.Index(pd.unique(units["document_id"]))
    ustart = units["start"].to_numpy(dtype=np.int64)
    uend = units["end"].to_numpy(dtype=np.int64)
    stride = int(max(uend.max(), raw[:, 4].max())) + 1
    ubase = docs.get_indexer(units["document_id"]).astype(np.int64) * stride
    gs, ge = ubase + ustart, ubase + uend
    order = np.argsort(gs, kind="stable")
    gs_sorted, longest = gs[order], int((uend - ustart).max())
    rank = docs.get_indexer(raw[:, 2])
    raw, rank = raw[rank >= 0], rank[rank >= 0]  # codings outside the chosen documents
    cs = rank.astype(np.int64) * stride + raw[:, 3]
    ce = rank.astype(np.int64) * stride + raw[:, 4]
    # a unit can overlap [cs, ce) only if it starts in (cs - longest, ce)
    lo = np.searchsorted(gs_sorted, cs - longest, side="right")
    hi = np.searchsorted(gs_sorted, ce, side="left")
    count = np.maximum(hi - lo, 0)
    which = np.repeat(np.arange(len(raw)), count)
    step = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    unit_index = order[np.repeat(lo, count) + step]
    s1, e1 = cs[which], ce[which]
    s2, e2 = gs[unit_index], ge[unit_index]
    overlap = np.minimum(e1, e2) - np.maximum(s1, s2)
    ok = (overlap > 0) & (2 * overlap >= np.minimum(e1 - s1, e2 - s2))
    which, unit_index = which[ok], unit_index[ok]
    coder_index = pd.Index(coder_ids).get_indexer(raw[which, 0])
    membership = pd.DataFrame(
        [(cid, j) for j, g in enumerate(groups) for cid in g], columns=["code_id", "j"]
    )
    hits = pd.DataFrame({"u": unit_index, "k": coder_index, "code_id": raw[which, 1]}).merge(
        membership, on="code_id"
    )
    return hits[["u", "k", "j"]].to_numpy(dtype=np.int64).reshape(-1, 3)


def _texts(conn: Connection, units: pd.DataFrame) -> list[str]:
    docs = dict(
        conn.execute(
            select(t.documents.c.id, t.documents.c.text).where(
                t.documents.c.id.in_(set(int(d) for d in units["document_id"]))
            )
        ).all()
    )
    return [
        docs[d][s:e]
        for d, s, e in zip(units["document_id"], units["start"], units["end"], strict=True)
    ]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans of one coder joined (unitized alpha needs non-overlapping units)."""
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and a < out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _domain_alpha(docs, offsets, total, spans, labels, coder_names) -> dict[str, Any]:
    """uα, |uα, |cuα over all chosen codes when they form one semantic domain."""
    if len(labels) < 2 or not total:
        return {"domain": None, "domain_note": "one code: see u_alpha per code"}
    layout: dict[str, list[tuple[int, int, str]]] = {c: [] for c in coder_names}
    for d in docs:
        for k, coder in enumerate(coder_names):
            own = sorted(
                (a, b, j) for j in range(len(labels)) for a, b in spans.get((d.id, k, j), [])
            )
            for (_, e1, _), (s2, _, _) in zip(own, own[1:], strict=False):
                if s2 < e1:
                    return {
                        "domain": None,
                        "domain_note": f"{coder}'s codes overlap in {d.name}, so the codes are "
                        "not one semantic domain; |cuα is not computed",
                    }
            layout[coder].extend(
                (a + offsets[d.id], b + offsets[d.id], labels[j]) for a, b, j in own
            )
    result = unitized_alpha(total, layout)
    return {
        "domain": {
            "u_alpha": result.u_alpha,
            "binary_u_alpha": result.binary_u_alpha,
            "cu_alpha": result.cu_alpha,
            "per_value": result.per_value,
            "cu_coverage": result.cu_coverage,
            "reasons": result.reasons,
        },
        "domain_note": "the chosen codes never overlap within a coder's coding: one domain",
    }


# --------------------------------------------------------------------------- consensus helpers

_UNIT_COLUMNS = [
    "code",
    "unit",
    "document",
    "start",
    "end",
    "text",
    "applied_by",
    "not_applied_by",
    "reason",
    "decision",
]


def _unit_frame_rows(records: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(records, columns=_UNIT_COLUMNS)


def _unit_frame(built: _Built, items: list) -> pd.DataFrame:
    pos = {u.id: i for i, u in enumerate(built.matrix.units)}
    units = built.units
    records = []
    for x in items:
        i = pos[x.unit]
        records.append(
            {
                "code": x.code,
                "unit": x.unit,
                "document": x.document,
                "start": int(units["start"].iat[i]),
                "end": int(units["end"].iat[i]),
                "text": x.text,
                "applied_by": ", ".join(x.applied_by),
                "not_applied_by": ", ".join(x.not_applied_by),
                "reason": getattr(x, "reason", "coders disagree"),
                "decision": "",
            }
        )
    return _unit_frame_rows(records)


def write_unit_list(
    frame: pd.DataFrame, out: str | Path, fmt: str | None = None, sheet: str = "units"
) -> Path:
    """A disagreement or unresolved list as CSV or XLSX (by the extension unless `fmt`)."""
    from caseframe.util.output import checked_output

    fmt = fmt or (Path(out).suffix.lstrip(".").lower() or "xlsx")
    out = checked_output(out, {"csv", "xlsx"}, fmt)
    if fmt == "csv":
        frame.to_csv(out, index=False)
        return out
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False, sheet_name=sheet)
        ws = writer.sheets[sheet]
        ws.freeze_panes = "A2"
        widths = {"code": 24, "text": 80, "applied_by": 20, "not_applied_by": 20, "reason": 28}
        for i, col in enumerate(frame.columns):
            letter = ws.cell(row=1, column=i + 1).column_letter
            ws.column_dimensions[letter].width = widths.get(col, 12)
    return out


def _consensus_coder(conn: Connection, name: str, replace: bool) -> int:
    row = conn.execute(select(t.coders).where(t.coders.c.name == name)).first()
    if row is None:
        return coder_row(conn, name, create=True, kind="human").id
    if row.kind != "human":
        raise Conflict(f"'{name}' is a machine coder", hint="choose another name with --as")
    if name not in _registry(conn):
        if conn.scalar(select(func.count()).where(t.codings.c.coder_id == row.id)):
            raise Conflict(
                f"'{name}' is a coder with codings of their own",
                hint="choose another name for the consensus coder with --as",
            )
    elif not replace:
        count = conn.scalar(select(func.count()).where(t.codings.c.coder_id == row.id))
        if count:
            raise Conflict(
                f"consensus coder '{name}' already has {count} codings",
                hint="pass --replace to build it again, or choose another name with --as",
            )
    conn.execute(delete(t.codings).where(t.codings.c.coder_id == row.id))
    return row.id


def _consensus_entry(conn: Connection, name: str) -> dict[str, Any]:
    registry = _registry(conn)
    if name not in registry:
        raise NotFound(
            f"no consensus coder '{name}'",
            hint="make one with `caseframe consensus --coders A,B --as NAME`"
            + (f"; known: {', '.join(sorted(registry))}" if registry else ""),
        )
    return registry[name]


def _resolve(conn: Connection, name: str, items: list[tuple[Any, Any, str, str | None]]) -> list:
    """Apply decisions (unit, code, apply|skip, where) for consensus coder `name`."""
    registry = _registry(conn)
    entry = _consensus_entry(conn, name)
    coder_id = coder_row(conn, name).id
    pending = {(p["unit"], p["code"]): p for p in entry["pending"]}
    changes: list[str] = []
    touched: set[int] = set()
    for unit, code, decision, where in items:
        decision = str(decision).strip().lower()
        if decision not in DECISIONS:
            raise InvalidInput(
                f"unknown decision '{decision}'", where=where, hint="use apply or skip"
            )
        try:
            unit_id = int(str(unit).strip())
        except ValueError:
            raise InvalidInput(f"unit '{unit}' is not a unit id", where=where) from None
        mu = conn.execute(select(t.meaning_units).where(t.meaning_units.c.id == unit_id)).first()
        if mu is None:
            raise NotFound(f"unknown meaning unit {unit_id}", where=where)
        code_id = code_row(conn, code.strip() if isinstance(code, str) else code).id
        same = and_(
            t.codings.c.document_id == mu.document_id,
            t.codings.c.start == mu.start,
            t.codings.c.end == mu.end,
            t.codings.c.code_id == code_id,
            t.codings.c.coder_id == coder_id,
        )
        existing = conn.scalar(select(t.codings.c.id).where(same))
        if decision == "apply" and existing is None:
            stamp = now()
            conn.execute(
                t.codings.insert().values(
                    document_id=mu.document_id,
                    start=mu.start,
                    end=mu.end,
                    code_id=code_id,
                    coder_id=coder_id,
                    meaning_unit_id=mu.id,
                    status=CodingStatus.FINAL.value,
                    guid=new_guid(),
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
            changes.append("applied")
        elif decision == "skip" and existing is not None:
            conn.execute(delete(t.codings).where(t.codings.c.id == existing))
            changes.append("removed")
        else:
            changes.append("unchanged")
        pending.pop((unit_id, code_id), None)
        touched.add(mu.document_id)
    # a document with no pending unit left is now fully coded by the consensus coder
    settled = touched - {p["document"] for p in pending.values()}
    if settled:
        conn.execute(
            t.coder_documents.update()
            .where(
                t.coder_documents.c.coder_id == coder_id,
                t.coder_documents.c.document_id.in_(settled),
            )
            .values(status="done")
        )
    entry["pending"] = list(pending.values())
    registry[name] = entry
    _save_registry(conn, registry)
    return changes


def _names(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.2f}"
