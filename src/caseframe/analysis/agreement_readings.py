"""Plain-language readings of agreement figures, and the methods sentence for a report.

Every sentence is built from the figures it sits beside (value, unit set, unit count, reason),
so the words cannot contradict the numbers: a figure that is undefined is called undefined with
its reason, a figure on another unit set says so, and a difference between two coefficients is
stated with both values rather than explained by a cause the data may not show.
"""

from __future__ import annotations

from typing import Any

from caseframe.analysis.agreement_stats import krippendorff_band, landis_koch

RARE = 0.10  # below this share of units a code counts as rare for the reading
LABELS = {
    "percent_agreement": "percent agreement",
    "cohen_kappa": "Cohen's kappa",
    "fleiss_kappa": "Fleiss' kappa",
    "krippendorff_alpha": "Krippendorff's alpha",
    "gwet_ac1": "Gwet's AC1",
    "u_alpha": "unitized alpha",
}


def undefined_reason(
    name: str, units: int, share: float | None, n_coders: int, unit_words: str
) -> str:
    """Why a coefficient has no value: no units, no variation, or not for this many coders."""
    if name == "cohen_kappa" and n_coders != 2:
        return f"Cohen's kappa compares two coders; {n_coders} are selected (read Fleiss' kappa)"
    if units == 0:
        return f"no {unit_words}"
    if share is not None and share <= 0:
        return f"no coder applied the code to any of the {units} {unit_words}: no variation"
    if share is not None and share >= 1:
        return f"every coder applied the code to all {units} {unit_words}: no variation"
    return "no variation to correct for chance"


def _fmt(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.2f}"


def _kappa_name(stats: dict[str, dict[str, Any]]) -> str:
    return "cohen_kappa" if stats["cohen_kappa"]["value"] is not None else "fleiss_kappa"


def reading(
    stats: dict[str, dict[str, Any]],
    ci: dict[str, Any],
    prevalence: dict[str, float],
    n_coders: int,
) -> str:
    """One row of figures in words: alpha first, then kappa and AC1 where they add something."""
    alpha = stats["krippendorff_alpha"]
    pa = stats["percent_agreement"]
    ac1 = stats["gwet_ac1"]
    kname = "cohen_kappa" if n_coders == 2 else "fleiss_kappa"
    kappa = stats[kname]
    pairs = "units" if n_coders == 2 else "coder pairs over the units"
    if alpha["value"] is None:
        text = f"Alpha is undefined: {alpha['reason']}"
        if kappa["value"] is None:
            text += "; so is kappa"
        if pa["value"] is not None:
            text += f". Coders agree on {pa['value']:.0%} of {pairs} ({pa['units']} units)"
        return text + "."
    interval = ci.get("krippendorff_alpha")
    span = f" (95% CI {interval[0]:.2f} to {interval[1]:.2f})" if interval else ""
    text = (
        f"alpha = {alpha['value']:.2f}{span} on {alpha['units']} units: "
        f"{landis_koch(alpha['value'])} agreement on Landis & Koch's bands, "
        f"{krippendorff_band(alpha['value'])} by Krippendorff's thresholds (.800 / .667)."
    )
    label = LABELS[kname]
    if kappa["value"] is None:
        text += f" {label} is undefined: {kappa['reason']}."
    elif kappa["units"] != alpha["units"]:
        text += (
            f" {label} = {kappa['value']:.2f} is on the {kappa['units']} units every coder coded."
        )
    elif abs(kappa["value"] - alpha["value"]) > 0.1 and kname == "cohen_kappa" and prevalence:
        rates = " and ".join(f"{v:.0%}" for v in prevalence.values())
        text += (
            f" Cohen's kappa = {kappa['value']:.2f}: it takes each coder's own rate of use "
            f"({rates}) as chance, alpha one pooled rate."
        )
    if not prevalence or ac1["value"] is None:
        return text
    low, high = min(prevalence.values()), max(prevalence.values())
    if (high < RARE or low > 1 - RARE) and ac1["value"] - alpha["value"] > 0.2:
        text += (
            f" The code is {'rare' if high < RARE else 'near-universal'} "
            f"({low:.1%}-{high:.1%} of units), which holds kappa and alpha down: "
            f"coders agree on {pa['value']:.0%} of {pairs} and AC1 = {ac1['value']:.2f}."
        )
    return text


def character_reading(row: dict[str, Any], n_coders: int) -> str:
    """The character-level row in words (kappa on characters for two coders, uα for any)."""
    parts = []
    kappa, ua = row.get("cohen_kappa"), row.get("u_alpha")
    stats = row.get("statistics", {})
    if n_coders == 2:
        if kappa is None:
            reason = stats.get("cohen_kappa", {}).get("reason") or "no variation"
            parts.append(f"kappa on characters is undefined: {reason}")
        else:
            parts.append(
                f"kappa on {row['units']:,} characters = {kappa:.2f} "
                f"({landis_koch(kappa)} on Landis & Koch's bands)"
            )
    if ua is None:
        reason = stats.get("u_alpha", {}).get("reason") or "no variation"
        parts.append(f"unitized alpha is undefined: {reason}")
    else:
        parts.append(f"unitized alpha = {ua:.2f} ({krippendorff_band(ua)})")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "."


def _names(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else "".join(names)


def agreement_methods_sentence(summary: dict[str, Any] | None) -> str:
    """What the agreement figures cover, for a report's methods paragraph: which coders (and
    which were left out), which units under which convention, which codes, and the figures."""
    if not summary:
        return ""
    coders = list(summary.get("coders") or [])
    left_out = summary.get("not_counted") or {}
    who = f"{len(coders)} independent coders ({_names(coders)})"
    if not summary.get("units"):
        reason = summary.get("error") or "they coded no unit in common"
        return f"Agreement between {who} could not be computed: {reason}."
    schemes = ", ".join(summary.get("schemes") or []) or "meaning units"
    codes = summary.get("codes", 0)
    text = (
        f"Agreement was computed between {who} on the {summary['units']:,} meaning units "
        f"({schemes}) that two or more of them coded, each of {codes} code"
        f"{'s' if codes != 1 else ''} judged as applied or not per unit"
    )
    unused = summary.get("codes_not_applied") or []
    if unused:
        text += (
            f" ({len(unused)} further code{'s' if len(unused) != 1 else ''} that no selected "
            "coder applied to a shared unit left out)"
        )
    alpha, ci = summary.get("krippendorff_alpha"), summary.get("krippendorff_alpha_ci")
    text += (
        f". Pooled over codes, Krippendorff's alpha = {_fmt(alpha)}"
        + (f" (95% CI {ci[0]:.2f} to {ci[1]:.2f})" if ci else "")
        + f" and Gwet's AC1 = {_fmt(summary.get('gwet_ac1'))} on those units"
    )
    kind = "Cohen's" if summary.get("kappa_kind") == "cohen" else "Fleiss'"
    complete = summary.get("units_complete")
    if complete == summary["units"]:
        text += f", {kind} kappa = {_fmt(summary.get('kappa'))} on the same units"
    else:
        text += (
            f"; {kind} kappa = {_fmt(summary.get('kappa'))} on the {complete or 0:,} units "
            "every coder coded"
        )
    text += "."
    if left_out:
        listed = "; ".join(f"{name} ({role})" for name, role in left_out.items())
        text += f" Not counted as independent coders: {listed}."
    return text
