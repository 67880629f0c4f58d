"""Optional: suggestions from a language model behind an OpenAI-compatible chat endpoint (a local
Ollama, llama.cpp server or vLLM; the `llm` extra brings httpx).

The prompt is built from the codebook (code, definition, keywords, examples) and a few units the
project's coders coded with each code. Every answer must be JSON that the `Answer` schema accepts:
`{"codes": ["code", ...]}`, or with a confidence per code, `{"codes": [{"code": "...",
"confidence": 0.8}]}`, naming codebook codes only. A malformed answer is asked again (saying what
was wrong), and a failed request (timeout, connection error, HTTP 429 or 5xx) is retried, within
`retries`; after that the whole batch fails with an error naming the unit, and nothing is
returned. Each unit's model name (as the server reports it), prompt version, attempts and
seconds are kept in `unit_details_`, and stored with every suggestion.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from caseframe.errors import CaseframeError, InvalidInput
from caseframe.suggest.base import CodeSpec, SuggestionMethod, register

PROMPT_VERSION = "codebook-shots-2"
SYSTEM = (
    "You code qualitative data. Apply every code from the codebook whose definition fits the "
    "text, or none. Answer with JSON only, in the form "
    '{"codes": [{"code": "<code>", "confidence": <0 to 1>}]}, or {"codes": []} when no code fits.'
)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")
_SPACES = re.compile(r"[ \t]{2,}")


class CodeChoice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    code: str
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)


class Answer(BaseModel):
    """The JSON a model must answer with; a bare code name counts as confidence 1."""

    model_config = ConfigDict(extra="ignore")
    codes: list[CodeChoice | str]

    def choices(self) -> list[CodeChoice]:
        return [c if isinstance(c, CodeChoice) else CodeChoice(code=c) for c in self.codes]


class EndpointError(CaseframeError):
    """The language-model endpoint could not be reached or gave an unusable answer."""

    http_status = 502


class _Malformed(Exception):
    """One unusable answer: why (told to the model on the next try) and the error to raise."""

    def __init__(self, why: str, error: InvalidInput):
        super().__init__(why)
        self.why = why
        self.error = error


@register("llm")
@dataclass
class LLMMethod(SuggestionMethod):
    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "local"
    api_key: str | None = None
    timeout: float = 60.0  # seconds per request
    retries: int = 2  # further tries per unit after a malformed answer or a failed request
    backoff: float = 0.5  # seconds before a retry of a failed request, doubling each time
    shots_per_code: int = 2
    json_mode: bool = True  # ask for response_format json_object (servers that lack it ignore it)
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
                line += " Examples: " + " | ".join(_plain(x)[:200] for x in shots)
            lines.append(line)
        self.codebook_prompt_ = "Codebook:\n" + "\n".join(lines)
        self.prompt_version_ = PROMPT_VERSION
        # a code the model names is suggested, whatever confidence it gives (the score)
        self.thresholds_ = np.full(len(specs), 1e-6)

    # -- one request --------------------------------------------------------------------------

    def _body(self, text: str, complaint: str | None) -> dict[str, Any]:
        # the text stays last in the message, after any complaint about the previous answer
        again = (
            f"Your last answer could not be used: {complaint}. Answer with the JSON only.\n\n"
            if complaint
            else ""
        )
        user = f"{again}{self.codebook_prompt_}\n\nText:\n{_plain(text)}"
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
        body: dict[str, Any] = {"model": self.model, "temperature": 0, "messages": messages}
        if self.json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    def _post(self, client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        response = client.post("/chat/completions", json=body, headers=headers)
        response.raise_for_status()
        return response.json()

    def _parse(self, answer: Any, unit: int) -> tuple[list[CodeChoice], str]:
        """(choices, model name) from a chat-completion answer, or _Malformed."""
        bad = InvalidInput(
            f"malformed answer from the language model for unit {unit + 1}",
            where=self.base_url,
            hint='the model must answer {"codes": [...]}; nothing was stored',
        )
        try:
            content = answer["choices"][0]["message"]["content"]
            parsed = Answer.model_validate(json.loads(_FENCE.sub("", content.strip())))
        except (KeyError, IndexError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise _Malformed(f"it was not JSON ({type(exc).__name__})", bad) from None
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise _Malformed(f"{where}: {first['msg']}", bad) from None
        known = {s.code for s in self.specs_}
        choices = parsed.choices()
        unknown = [c.code for c in choices if c.code not in known]
        if unknown:
            raise _Malformed(
                "these are not codebook codes: " + ", ".join(unknown[:5]),
                InvalidInput(
                    f"the language model named codes not in the codebook for unit {unit + 1}: "
                    + ", ".join(unknown[:5]),
                    where=self.base_url,
                    hint="nothing was stored; try a stronger model or a clearer codebook",
                ),
            )
        model = answer.get("model") if isinstance(answer, dict) else None
        return choices, str(model or self.model)

    def _ask(self, client: httpx.Client, text: str, unit: int) -> tuple[list[CodeChoice], dict]:
        """One unit, with retries; returns the choices and what to record beside them."""
        start = time.perf_counter()
        complaint: str | None = None
        failure: Exception | None = None
        for attempt in range(1, self.retries + 2):
            try:
                answer = self._post(client, self._body(text, complaint))
            except httpx.HTTPStatusError as exc:
                status = exc.response.status_code
                failure = EndpointError(
                    f"the endpoint answered HTTP {status} for unit {unit + 1}",
                    where=self.base_url,
                    hint="check the model name and the server's log; nothing was stored",
                )
                if status != 429 and status < 500:
                    raise failure from None
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            except (httpx.TransportError, ValueError) as exc:
                failure = EndpointError(
                    f"cannot use the language-model endpoint ({type(exc).__name__}) for unit "
                    f"{unit + 1}",
                    where=self.base_url,
                    hint="start the server, fix --base-url or raise the timeout; nothing was "
                    "stored",
                )
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            try:
                choices, model = self._parse(answer, unit)
            except _Malformed as bad:
                complaint, failure = bad.why, bad.error
                continue
            return choices, {
                "model": model,
                "prompt_version": self.prompt_version_,
                "attempts": attempt,
                "seconds": round(time.perf_counter() - start, 3),
            }
        assert failure is not None
        raise failure

    def decide(self, P: np.ndarray) -> np.ndarray:
        """The codes the model named: no cardinality rules learned from a few coded units."""
        if self.thresholds_ is None:
            raise InvalidInput("method 'llm' is not fitted", hint="call fit() first")
        return (P >= self.thresholds_).astype(np.int8)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.thresholds_ is None:
            raise InvalidInput("method 'llm' is not fitted", hint="call fit() first")
        index = {s.code: j for j, s in enumerate(self.specs_)}
        out = np.zeros((len(texts), len(self.specs_)))
        details: list[dict[str, Any]] = []
        with httpx.Client(base_url=self.base_url, timeout=self.timeout) as client:
            for i, text in enumerate(texts):
                choices, detail = self._ask(client, text, i)
                for choice in choices:
                    j = index[choice.code]
                    out[i, j] = max(out[i, j], choice.confidence)
                details.append(detail)
        self.unit_details_ = details
        return out


def _plain(text: str) -> str:
    """The unit as the model reads it: blanked speaker labels and runs of spaces squeezed."""
    return _SPACES.sub(" ", text).strip()
