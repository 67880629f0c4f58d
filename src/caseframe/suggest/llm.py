"""Optional: suggestions from a language model behind an OpenAI-compatible chat endpoint.

The prompt is built from the codebook (code, definition, examples, keywords, and a few coded units
when there are human codings). Every answer must be JSON `{"codes": [...]}` naming only codebook
codes; anything else is an error that names the unit, and nothing is returned for the batch.
Never required: the default methods run offline.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
import numpy as np

from caseframe.errors import CaseframeError, InvalidInput
from caseframe.suggest.base import CodeSpec, SuggestionMethod, register

SYSTEM = (
    "You code qualitative data. Apply every code from the codebook whose definition fits the "
    'text, or none. Answer with JSON only, in the form {"codes": ["code", ...]}.'
)


class EndpointError(CaseframeError):
    """The language-model endpoint could not be reached or gave an unusable answer."""

    http_status = 502


@register("llm")
@dataclass
class LLMMethod(SuggestionMethod):
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "local"
    api_key: str | None = None
    timeout: float = 60.0
    shots_per_code: int = 2
    name: str = field(default="llm", init=False)

    def _fit(self, texts: list[str], Y: np.ndarray, specs: list[CodeSpec]) -> None:
        self.specs_ = specs
        lines = []
        for j, s in enumerate(specs):
            line = f"- {s.code}: {s.definition or s.name or '(no definition)'}"
            if s.keywords:
                line += f" Keywords: {', '.join(s.keywords)}."
            shots = list(s.examples[: self.shots_per_code])
            if len(texts):
                shots += [texts[i] for i in np.flatnonzero(Y[:, j])[: self.shots_per_code]]
            if shots:
                line += " Examples: " + " | ".join(x[:200] for x in shots)
            lines.append(line)
        self.codebook_prompt_ = "Codebook:\n" + "\n".join(lines)
        self.thresholds_ = np.full(len(specs), 0.5)

    def _ask(self, client: httpx.Client, text: str) -> dict:
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"{self.codebook_prompt_}\n\nText:\n{text}"},
            ],
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            response = client.post("/chat/completions", json=body, headers=headers)
            response.raise_for_status()
            return response.json()
        except httpx.HTTPStatusError as exc:
            raise EndpointError(
                f"the endpoint answered HTTP {exc.response.status_code}",
                where=self.base_url,
                hint="check the model name and the server's log",
            ) from None
        except (httpx.TransportError, ValueError) as exc:
            raise EndpointError(
                f"cannot use the language-model endpoint ({type(exc).__name__})",
                where=self.base_url,
                hint="start the server or fix --base-url; nothing was stored",
            ) from None

    def _codes(self, answer: dict, unit: int) -> set[str]:
        known = {s.code for s in self.specs_}
        try:
            content = answer["choices"][0]["message"]["content"].strip()
            if content.startswith("```"):
                content = content.strip("`").removeprefix("json").strip()
            codes = json.loads(content)["codes"]
            if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
                raise TypeError
        except (KeyError, IndexError, TypeError, AttributeError, json.JSONDecodeError):
            raise InvalidInput(
                f"malformed answer from the language model for unit {unit + 1}",
                where=self.base_url,
                hint='the model must answer {"codes": [...]}; nothing was stored',
            ) from None
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise InvalidInput(
                f"the language model named codes not in the codebook for unit {unit + 1}: "
                + ", ".join(unknown[:5]),
                where=self.base_url,
                hint="nothing was stored; try a stronger model or a clearer codebook",
            )
        return set(codes)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.thresholds_ is None:
            raise InvalidInput("method 'llm' is not fitted", hint="call fit() first")
        index = {s.code: j for j, s in enumerate(self.specs_)}
        out = np.zeros((len(texts), len(self.specs_)))
        with httpx.Client(base_url=self.base_url, timeout=self.timeout) as client:
            for i, text in enumerate(texts):
                for code in self._codes(self._ask(client, text), i):
                    out[i, index[code]] = 1.0
        return out
