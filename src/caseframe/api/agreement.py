"""Inter-coder agreement on the project's codings: figures per code, multi-class, characters,
the disagreement list, coder roles and the summary for a report.

The statistics are in :mod:`caseframe.analysis.agreement` (meaning units, one stated unit set
per statistic) and :mod:`caseframe.analysis.agreement_characters`; the selection rules (coders,
units, overlap, code groups) in :mod:`caseframe.api.agreement_input`; the consensus coder and
the consensus meeting in :mod:`caseframe.api.consensus` (composed in here).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from caseframe.api.agreement_input import DATASET_CONSENSUS, SCHEMES, default_coders, read_matrix
from caseframe.api.consensus import ConsensusMixin
from caseframe.api.kept import kept
from caseframe.errors import InvalidInput
from caseframe.store.lookup import coder_row
from caseframe.store.queries import agreement as q

if TYPE_CHECKING:
    import pandas as pd

    from caseframe.analysis.agreement import AgreementReport
    from caseframe.analysis.agreement_matrix import CodingMatrix

SCHEME_ORDER = SCHEMES
ROLES = q.ROLES
__all__ = ["AgreementMixin", "DATASET_CONSENSUS", "SCHEME_ORDER", "write_unit_list"]


class AgreementMixin(ConsensusMixin):
    # -- the matrix and the figures ---------------------------------------------------------

    def agreement_matrix(
        self,
        coders: Sequence[str] | None = None,
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
        scheme: str | None = None,
        exact: bool = False,
        with_text: bool = False,
    ) -> CodingMatrix:
        """units x coders x codes from the store (rules in caseframe.api.agreement_input)."""
        with self.store.read() as conn:
            return read_matrix(conn, coders, codes, documents, scheme, exact, with_text).matrix

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
        """Agreement per code and overall on meaning units (binary per code), with CIs; each
        statistic states its unit set (`statistics[name]`: value, units, convention, reason)."""
        from caseframe.analysis.agreement import per_code_agreement

        with self.store.read() as conn:
            built = read_matrix(conn, coders, codes, documents, scheme, exact, False)
        report = per_code_agreement(built.matrix, bootstrap, seed, confidence)
        report.overall["unit"] = "meaning-unit"
        report.overall["schemes"] = built.schemes
        report.overall["not_counted"] = built.not_counted
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
        count absence as a value). Percent agreement, AC1 and alpha are on the units two or
        more coders rated; Fleiss' kappa on the units every coder rated.
        """
        from caseframe.analysis.agreement_multiclass import multiclass

        matrix = self.agreement_matrix(coders, codes, documents, scheme, exact)
        return multiclass(matrix)

    def character_agreement(
        self,
        coders: Sequence[str] | None = None,
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
        exact: bool = False,
    ) -> dict[str, Any]:
        """Agreement on characters, per code: kappa (two coders) and Krippendorff's uα (any
        number), on the characters of the documents every chosen coder coded.

        Pooled figures treat the documents as one continuum. When no coder's codes overlap in
        a document, the chosen codes also form one semantic domain and the domain-level uα,
        |uα and |cuα are given (as ATLAS.ti reports them).
        """
        from caseframe.analysis.agreement_characters import UNITS, character_rows, domain_alpha
        from caseframe.api.agreement_input import character_input

        with self.store.read() as conn:
            data = character_input(conn, coders, codes, documents, exact)
        names, docs = data["coders"], data["docs"]
        rows = character_rows(docs, data["spans"], data["labels"], names)
        total = rows["characters"]
        return {
            "unit": "character",
            "coders": names,
            "documents": [d[1] for d in docs],
            "per_code": rows["per_code"],
            "overall": {
                "unit": "character",
                "characters": total,
                "coders": names,
                "not_counted": data["not_counted"],
                "convention": "complete",
                "units": UNITS,
                "codes_not_applied": rows["codes_not_applied"],
                **domain_alpha(docs, rows["offsets"], total, data["spans"], data["labels"], names),
            },
        }

    # -- disagreements ----------------------------------------------------------------------

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
        from caseframe.analysis.agreement_consensus import disagreements, unit_list

        with self.store.read() as conn:
            built = read_matrix(conn, coders, codes, documents, scheme, exact, True)
        return unit_list(built.units, built.matrix, disagreements(built.matrix))

    def export_disagreements(self, out: str | Path, fmt: str | None = None, **selection) -> Path:
        """The disagreement list as CSV or XLSX (by the file's extension unless `fmt`)."""
        return write_unit_list(self.agreement_disagreements(**selection), out, fmt, "disagreements")

    # -- coders and roles -------------------------------------------------------------------

    def agreement_coders(self) -> list[dict[str, Any]]:
        """Coders with work: name, kind, role, codings, and whether agreement counts them by
        default (independent human coders)."""
        with self.store.read() as conn:
            rows = q.coders_with_work(conn, kind=None)
            _, ids, _ = default_coders(conn)
        return [{**r, "counted": r["id"] in ids} for r in rows]

    def set_coder_role(self, coder: str, role: str, *, actor: str | None = None) -> str:
        """Mark a coder independent, reference or consensus; returns the previous role.
        Reference and consensus coders take part in agreement only when named."""
        from caseframe.util.names import check_choice

        check_choice("coder role", role, ROLES)
        with self.writing(actor) as w:
            row = coder_row(w.conn, coder)
            before = q.role_of(w.conn, row.id)
            q.set_role(w.conn, row.id, role)
            w.audit("set-role", "coder", row.id, {"role": before}, {"role": role})
        return before

    # -- summary for the report and the web workspace ---------------------------------------

    def agreement_summary(
        self,
        bootstrap: int = 1000,
        coders: Sequence[str] | None = None,
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
    ) -> dict[str, Any] | None:
        """None with fewer than two independent human coders (when no coders are named); else
        coders, units and the pooled alpha, kappa and AC1 over the codes, with `text`: the
        sentence for a methods paragraph (`agreement_methods_sentence`)."""
        found = self.agreement_overview(bootstrap, coders, codes, documents)
        return None if found is None else found["summary"]

    def agreement_overview(
        self,
        bootstrap: int = 1000,
        coders: Sequence[str] | None = None,
        codes: Sequence[str | int] | None = None,
        documents: Sequence[str | int] | None = None,
        *,
        if_cached: bool = False,
    ) -> dict[str, Any] | None:
        """{"summary": agreement_summary's dict, "report": the AgreementReport it came from (None
        when there are no figures)} from one read and one computation; None as in
        agreement_summary. Results are kept per selection until the project changes (its change
        stamp), so a page asking again, or a second page, does not recompute the bootstrap.
        `if_cached`: only a kept result, else None (nothing is computed)."""

        def clean(values):
            return None if values is None else tuple(str(v) for v in values)

        def compute():
            with self.store.read() as conn:
                return _overview(conn, bootstrap, coders, codes, documents)

        key = ("agreement", bootstrap, clean(coders), clean(codes), clean(documents))
        return kept(self, key, compute, if_cached=if_cached)

    def agreement_choices(self) -> dict[str, list]:
        """What an agreement chooser offers: coders (agreement_coders), codes (id, name) and
        document names (by name); kept until the project changes."""

        def compute():
            with self.store.read() as conn:
                documents = q.document_names(conn)
            return {
                "coders": self.agreement_coders(),
                "codes": [{"id": c.id, "name": c.name} for c in self.codes()],
                "documents": documents,
            }

        return kept(self, ("agreement choices",), compute)

    def agreement_methods_sentence(self, **selection: Any) -> str:
        """The methods-paragraph sentence for the default (or given) selection; empty when
        agreement does not apply (fewer than two independent coders)."""
        from caseframe.analysis.agreement_readings import agreement_methods_sentence

        return agreement_methods_sentence(self.agreement_summary(bootstrap=0, **selection))


def _overview(conn, bootstrap, coders, codes, documents) -> dict[str, Any] | None:
    from caseframe.analysis.agreement import per_code_agreement
    from caseframe.analysis.agreement_readings import agreement_methods_sentence

    names, _, left_out = default_coders(conn)
    if coders is None and len(names) < 2:
        return None
    try:
        built = read_matrix(conn, coders, codes, documents, None, False, False)
    except InvalidInput as exc:  # e.g. coders with no document in common
        summary = {
            "coders": list(coders) if coders else names,
            "not_counted": left_out if coders is None else {},
            "units": 0,
            "codes": 0,
            "krippendorff_alpha": None,
            "kappa": None,
            "kappa_kind": None,
            "gwet_ac1": None,
            "error": exc.message,
        }
        summary["text"] = agreement_methods_sentence(summary)
        return {"summary": summary, "report": None}
    try:
        report = per_code_agreement(built.matrix, bootstrap=bootstrap)
    except InvalidInput as exc:
        summary = {"coders": built.matrix.coders, "units": 0, "error": exc.message}
        return {"summary": {**summary, "text": agreement_methods_sentence(summary)}, "report": None}
    o = report.overall
    two = len(built.matrix.coders) == 2
    kappa = "cohen_kappa" if two else "fleiss_kappa"
    summary = {
        "coders": list(built.matrix.coders),
        "not_counted": built.not_counted,
        "units": o["units"],
        "units_complete": o["units_complete"],
        "codes": o["codes"],
        "codes_not_applied": o["codes_not_applied"],
        "schemes": list(built.schemes),
        "krippendorff_alpha": o["krippendorff_alpha"],
        "krippendorff_alpha_ci": o["ci"].get("krippendorff_alpha"),
        "kappa": o[kappa],
        "kappa_kind": "cohen" if two else "fleiss",
        "gwet_ac1": o["gwet_ac1"],
        "percent_agreement": o["percent_agreement"],
        "statistics": o["statistics"],
    }
    summary["text"] = agreement_methods_sentence(summary)
    report.overall["unit"] = "meaning-unit"
    report.overall["schemes"] = built.schemes
    report.overall["not_counted"] = built.not_counted
    return {"summary": summary, "report": report}


def write_unit_list(
    frame: pd.DataFrame, out: str | Path, fmt: str | None = None, sheet: str = "units"
) -> Path:
    """A disagreement or unresolved list as CSV or XLSX (by the extension unless `fmt`)."""
    from caseframe.interop.tables import write_csv, write_xlsx
    from caseframe.util.output import checked_output

    fmt = fmt or (Path(out).suffix.lstrip(".").lower() or "xlsx")
    out = checked_output(out, {"csv", "xlsx"}, fmt)
    if fmt == "csv":
        return write_csv(frame, out)
    widths = {"code": 24, "text": 80, "applied_by": 20, "not_applied_by": 20, "reason": 28}
    widths |= {c: 12 for c in frame.columns if c not in widths}
    return write_xlsx({sheet: frame}, out, widths=widths, freeze_header=True)
