"""The one interface every suggestion method implements, and the registry that names them.

A method is scikit-learn shaped: `fit(texts, Y, codebook)` with Y a 0/1 matrix (units × codes, in
codebook order), `predict_proba(texts)` with a score in [0, 1] per code, and `predict(texts)`
applying the per-code thresholds in `thresholds_`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from caseframe.errors import InvalidInput, NotFound
from caseframe.util.extras import missing_extra
from caseframe.util.names import closest

if TYPE_CHECKING:
    import numpy as np


class CodebookLike(Protocol):
    code: str
    definition: str
    examples: Sequence[str]


@dataclass(frozen=True)
class CodeSpec:
    """What a method knows about one code (from a framework component or a codebook row)."""

    code: str
    definition: str = ""
    examples: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    name: str = ""  # a human-readable label, if the code is an id like "O10"

    @classmethod
    def of(cls, entry: Any) -> CodeSpec:
        if isinstance(entry, CodeSpec):
            return entry
        if isinstance(entry, str):
            return cls(entry)
        code = getattr(entry, "code", None) or getattr(entry, "key", None)  # framework Component
        if code is None:
            raise InvalidInput(
                f"codebook entry {entry!r} has no code", hint="give every code a name"
            )
        return cls(
            code=str(code),
            definition=getattr(entry, "definition", "") or "",
            examples=tuple(getattr(entry, "examples", ()) or ()),
            keywords=tuple(getattr(entry, "keywords", ()) or ()),
            name=getattr(entry, "name", "") or "",
        )


def as_specs(codebook: Sequence[Any]) -> list[CodeSpec]:
    specs = [CodeSpec.of(e) for e in codebook]
    if not specs:
        raise InvalidInput(
            "the codebook has no codes", hint="add codes before asking for suggestions"
        )
    return specs


@dataclass
class SuggestionMethod:
    """Base class: subclasses set `name` and implement `_fit` and `predict_proba`."""

    name: str = field(default="", init=False)
    thresholds_: np.ndarray | None = field(default=None, init=False, repr=False)
    codes_: list[str] = field(default_factory=list, init=False, repr=False)
    # learned label cardinality: every unit gets ≥1 code / exactly one code
    at_least_one_: bool = field(default=False, init=False, repr=False)
    single_label_: bool = field(default=False, init=False, repr=False)
    # single-label choice: "max" (most probable code) or "ratio" (score relative to threshold,
    # which favours rarer codes and usually raises κ)
    single_label_rule_: str = field(default="max", init=False, repr=False)
    # codes that (almost) never share a unit with another code, e.g. "did not answer"
    exclusive_: np.ndarray | None = field(default=None, init=False, repr=False)
    # Cohen's κ per code of the method's decisions against the training codings, out of fold
    # (nan where a code could not be measured); the project offers a code only above a floor
    code_kappa_: np.ndarray | None = field(default=None, init=False, repr=False)
    # per unit of the last predict_proba call, what a method records beside its scores (the
    # language model's name, prompt version and seconds); None for methods with nothing to add
    unit_details_: list[dict[str, Any]] | None = field(default=None, init=False, repr=False)

    def fit(
        self, texts: Sequence[str], Y: np.ndarray | None, codebook: Sequence[Any]
    ) -> SuggestionMethod:
        import numpy as np

        specs = as_specs(codebook)
        texts = list(texts)
        if Y is None:
            Y = np.zeros((len(texts), len(specs)), dtype=np.int8)
        Y = np.asarray(Y)
        if Y.ndim != 2 or Y.shape != (len(texts), len(specs)):
            raise InvalidInput(
                f"Y has shape {Y.shape}; expected ({len(texts)}, {len(specs)}) "
                "(one row per text, one column per code)"
            )
        self.codes_ = [s.code for s in specs]
        if len(texts):
            per_unit = Y.sum(axis=1)
            coded = per_unit > 0
            self.at_least_one_ = bool(coded.mean() >= 0.98)
            # exactly one code on (nearly) every unit; with a single code this would force it
            # onto every unit, so it needs two codes or more
            self.single_label_ = bool(self.at_least_one_ and per_unit.max() == 1 and Y.shape[1] > 1)
            pos = Y > 0
            alone = (pos & (per_unit == 1)[:, None]).sum(axis=0)
            self.exclusive_ = (pos.sum(axis=0) >= 5) & (alone >= 0.95 * pos.sum(axis=0))
        self._fit(texts, (Y > 0).astype(np.int8), specs)
        return self

    def _fit(self, texts: list[str], Y: np.ndarray, specs: list[CodeSpec]) -> None:
        raise NotImplementedError

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.decide(self.predict_proba(texts))

    def explain(
        self, texts: Sequence[str], pairs: Sequence[tuple[int, int]], top: int = 3
    ) -> list[list[tuple[int, int, str]]]:
        """For each (unit index, code index) pair, the phrases of the unit that drove the score
        most, as (start, end, phrase) offsets into that unit's text. Methods that cannot say
        return no phrases."""
        return [[] for _ in pairs]

    def decide(self, P: np.ndarray) -> np.ndarray:
        """0/1 decisions from scores: per-code thresholds, then the learned cardinality rules."""
        import numpy as np

        if self.thresholds_ is None:
            raise InvalidInput(f"method '{self.name}' is not fitted", hint="call fit() first")
        out = (P >= self.thresholds_).astype(np.int8)
        if P.shape[0] and P.shape[1]:
            top = P.argmax(axis=1)
            rows = np.arange(P.shape[0])
            if self.single_label_:
                if self.single_label_rule_ == "ratio":
                    top = (P / np.maximum(self.thresholds_, 1e-9)).argmax(axis=1)
                out[:] = 0
                out[rows, top] = 1
                return out
            if self.exclusive_ is not None and self.exclusive_.any() and not self.single_label_:
                # an exclusive code wins only when it is the unit's best score; else it yields
                excl = self.exclusive_
                top_excl = excl[top] & (out[rows, top] == 1)
                out[top_excl] = 0
                out[rows[top_excl], top[top_excl]] = 1
                out[np.ix_(~top_excl, excl)] = 0
            if self.at_least_one_:
                empty = out.sum(axis=1) == 0
                out[rows[empty], top[empty]] = 1
        return out


# Each method by name: where its class lives ("module:attribute") and the extra that brings its
# libraries (None: part of the plain install). Only the asked-for module is imported, so a plain
# install runs `definitions` without httpx, and base.py never imports the method modules (which
# import base): no cycle.
METHODS: dict[str, tuple[str, str | None]] = {
    "baseline": ("caseframe.suggest.supervised:BaselineMethod", None),
    "definitions": ("caseframe.suggest.definitions:DefinitionsMethod", None),
    "embeddings": ("caseframe.suggest.embeddings:EmbeddingsMethod", "embeddings"),
    "llm": ("caseframe.suggest.llm:LLMMethod", "llm"),
    "supervised": ("caseframe.suggest.supervised:SupervisedMethod", None),
}
_LOADED: dict[str, type[SuggestionMethod]] = {}


def register(name: str) -> Callable[[type[SuggestionMethod]], type[SuggestionMethod]]:
    """Mark a class as the method `name` (a method outside caseframe registers itself this way
    when its module is imported)."""

    def deco(cls: type[SuggestionMethod]) -> type[SuggestionMethod]:
        _LOADED[name] = cls
        return cls

    return deco


def available_methods() -> list[str]:
    """Every method name, whether or not its extra is installed (nothing is imported)."""
    return sorted(set(METHODS) | set(_LOADED))


def method_class(name: str) -> type[SuggestionMethod]:
    """The class of method `name`, importing its module now; a missing extra is one line."""
    if name in _LOADED:
        return _LOADED[name]
    if name not in METHODS:
        names = available_methods()
        near = closest(name, names)
        guess = ("did you mean " + " or ".join(f"'{n}'" for n in near) + "? ") if near else ""
        raise NotFound(
            f"no suggestion method '{name}'", hint=f"{guess}choose one of: {', '.join(names)}"
        )
    target, extra = METHODS[name]
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if extra is None or (exc.name or "").startswith("caseframe"):
            raise
        raise missing_extra(f"the '{name}' suggestion method", extra, exc.name) from None
    cls = getattr(module, attr)
    _LOADED.setdefault(name, cls)
    return cls


def get_method(name: str, **options: Any) -> SuggestionMethod:
    cls = method_class(name)
    try:
        return cls(**options)
    except TypeError as exc:
        raise InvalidInput(f"bad option for method '{name}': {exc}") from None
