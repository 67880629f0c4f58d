"""How far to trust a code's suggestions, in words a coder reads beside Accept and Reject.

Once people have reviewed enough of a code's suggestions, their decisions say it best ("8 in 10
accepted so far"); before that, the code's cross-validated κ on the project's own codings does;
with neither (zero-shot, no codings of the code) it is said to be unmeasured.
"""

from __future__ import annotations

import math

MIN_REVIEWED = 5  # decisions before the acceptance rate is the measure


def _grade(value: float, good: float, fair: float) -> str:
    return "well" if value >= good else "fairly well" if value >= fair else "poorly"


def reliability_words(accepted: int, rejected: int, code_kappa: float | None) -> str:
    """E.g. "this code is suggested well: 8 in 10 accepted so far (12 of 15)"."""
    reviewed = accepted + rejected
    if reviewed >= MIN_REVIEWED:
        share = accepted / reviewed
        return (
            f"this code is suggested {_grade(share, 0.7, 0.4)}: {round(10 * share)} in 10 "
            f"accepted so far ({accepted} of {reviewed})"
        )
    so_far = f"; {reviewed} reviewed so far" if reviewed else ""
    if code_kappa is not None and not math.isnan(code_kappa):
        return (
            f"this code is suggested {_grade(code_kappa, 0.6, 0.4)}: κ {code_kappa:.2f} against "
            f"your own codings (cross-validated){so_far}"
        )
    return f"not yet measured: no codings of this code to check the method against{so_far}"
