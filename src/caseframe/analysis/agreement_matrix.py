"""The input of every agreement figure: which coder applied which code to which unit.

``applied[unit, coder, code]`` and ``seen[unit, coder]``: a unit a coder did not see (did not
code) is missing data, not "code not applied".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from caseframe.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class UnitInfo:
    id: str
    document: str | None = None
    text: str | None = None


@dataclass
class CodingMatrix:
    """units x coders x codes: ``applied`` (bool) and ``seen`` (units x coders, bool)."""

    units: list[UnitInfo]
    coders: list[str]
    codes: list[str]
    applied: np.ndarray
    seen: np.ndarray

    def __post_init__(self) -> None:
        self.applied = np.asarray(self.applied, dtype=bool)
        self.seen = np.asarray(self.seen, dtype=bool)
        shape = (len(self.units), len(self.coders), len(self.codes))
        if self.applied.shape != shape or self.seen.shape != shape[:2]:
            raise InvalidInput(
                f"coding matrix shapes do not match: applied {self.applied.shape}, "
                f"seen {self.seen.shape}, expected {shape} and {shape[:2]}"
            )
        if (self.applied & ~self.seen[:, :, None]).any():
            raise InvalidInput(
                "a coder applied a code to a unit marked as not seen",
                hint="mark every unit a coder coded as seen",
            )

    def select(
        self, coders: Sequence[str] | None = None, codes: Sequence[str] | None = None
    ) -> CodingMatrix:
        """The same matrix restricted to some coders and/or codes (NotFound for unknown names)."""
        ci = _indices(self.coders, coders, "coder")
        ki = _indices(self.codes, codes, "code")
        return CodingMatrix(
            self.units,
            [self.coders[i] for i in ci],
            [self.codes[i] for i in ki],
            self.applied[:, ci][:, :, ki],
            self.seen[:, ci],
        )


def _indices(names: list[str], wanted: Sequence[str] | None, kind: str) -> list[int]:
    if wanted is None:
        return list(range(len(names)))
    position = {n: i for i, n in enumerate(names)}
    unknown = [w for w in wanted if w not in position]
    if unknown:
        raise NotFound(
            f"unknown {kind}{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            hint=f"available {kind}s: {', '.join(names) or 'none'}",
        )
    return [position[w] for w in dict.fromkeys(wanted)]


def check_agreement_input(matrix: CodingMatrix) -> None:
    """Agreement needs two coders who saw at least one unit in common."""
    if len(matrix.coders) < 2:
        raise InvalidInput(
            f"agreement needs at least two coders; got {len(matrix.coders)}"
            + (f" ({matrix.coders[0]})" if matrix.coders else ""),
            hint="choose two or more coders who coded the same units",
        )
    if not len(matrix.codes):
        raise InvalidInput("no codes to compare", hint="choose at least one code")
    if not (matrix.seen.sum(axis=1) >= 2).any():
        raise InvalidInput(
            f"coders {', '.join(matrix.coders)} have no unit (document) in common",
            hint="agreement can only be computed on units that two or more coders coded",
        )


indices = _indices  # the selection check other agreement modules share
