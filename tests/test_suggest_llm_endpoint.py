"""The `llm` method against a fake OpenAI-compatible endpoint: a FastAPI app served by uvicorn on
a free loopback port, answering well, malformed, slowly or with errors depending on the text.
Checks the prompt (codebook definitions and the project's own coded examples), the schema check,
retries within limits, and the model name, prompt version and time kept per unit."""

from __future__ import annotations

import json
import time
from collections import Counter

import numpy as np
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from caseframe.api import Project
from caseframe.errors import InvalidInput
from caseframe.suggest import get_method
from caseframe.suggest.base import CodeSpec
from caseframe.suggest.llm import PROMPT_VERSION, EndpointError
from support import served

BOOK = [
    CodeSpec("funding", "Money, budgets and grants for the service.", keywords=("budget",)),
    CodeSpec("supervision", "Guidance and supervision of staff."),
]
CALLS: Counter[str] = Counter()
PROMPTS: list[dict] = []


def _answer(content: str, model: str = "fake-7b-q4") -> dict:
    return {"model": model, "choices": [{"message": {"role": "assistant", "content": content}}]}


def fake_endpoint() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        PROMPTS.append(body)
        text = body["messages"][-1]["content"].rsplit("Text:\n", 1)[1]
        CALLS[text] += 1
        n = CALLS[text]
        if "slow" in text:
            time.sleep(1.0)
        if "server error once" in text and n == 1:
            return JSONResponse({"error": "overloaded"}, status_code=503)
        if "bad request" in text:
            return JSONResponse({"error": "no such model"}, status_code=400)
        if "garbled once" in text and n == 1:
            return _answer("Sure! The codes are funding and supervision.")
        if "always garbled" in text:
            return _answer('{"codes": [{"code": "funding", "confidence": 7}]}')  # out of range
        codes = []
        if "money" in text or "budget" in text:
            codes.append({"code": "funding", "confidence": 0.9})
        if "supervis" in text:
            codes.append("supervision")  # a bare name counts as confidence 1
        return _answer("```json\n" + json.dumps({"codes": codes}) + "\n```")

    return app


@pytest.fixture(scope="module")
def endpoint():
    with served(fake_endpoint()) as url:
        yield url + "/v1"


def _method(endpoint, **options):
    return get_method("llm", base_url=endpoint, backoff=0.01, **options)


def test_well_formed_answers_with_confidences_and_details(endpoint):
    method = _method(endpoint).fit(
        ["We lost the grant money last spring."], np.array([[1, 0]]), BOOK
    )
    P = method.predict_proba(["The budget ran out.", "Weekly supervision helps.", "Nothing."])
    assert P.tolist() == [[0.9, 0.0], [0.0, 1.0], [0.0, 0.0]]
    assert method.decide(P).tolist() == [[1, 0], [0, 1], [0, 0]]
    details = method.unit_details_
    assert [d["model"] for d in details] == ["fake-7b-q4"] * 3
    assert {d["prompt_version"] for d in details} == {PROMPT_VERSION}
    assert all(d["attempts"] == 1 and 0 <= d["seconds"] < 30 for d in details)
    prompt = PROMPTS[-1]["messages"][-1]["content"]
    assert "funding: Money, budgets and grants for the service. Keywords: budget." in prompt
    assert "We lost the grant money last spring." in prompt  # a coded example of the project's
    assert PROMPTS[-1]["response_format"] == {"type": "json_object"}


def test_a_malformed_answer_is_asked_again_within_the_limit(endpoint):
    method = _method(endpoint).fit([], None, BOOK)
    P = method.predict_proba(["garbled once: about money"])
    assert P[0, 0] == 0.9 and method.unit_details_[0]["attempts"] == 2
    assert "Your last answer could not be used" in PROMPTS[-1]["messages"][-1]["content"]
    before = CALLS["always garbled"]
    with pytest.raises(InvalidInput, match="malformed answer .* unit 2.*nothing was stored"):
        _method(endpoint, retries=1).fit([], None, BOOK).predict(["budget", "always garbled"])
    assert CALLS["always garbled"] - before == 2  # the first try and one retry, no more


def test_failed_requests_are_retried_then_reported(endpoint):
    method = _method(endpoint).fit([], None, BOOK)
    P = method.predict_proba(["server error once: supervision"])
    assert P[0, 1] == 1.0 and method.unit_details_[0]["attempts"] == 2
    with pytest.raises(EndpointError, match="HTTP 400 for unit 1"):
        method.predict(["bad request"])
    assert CALLS["bad request"] == 1  # a client error is not retried
    slow = _method(endpoint, timeout=0.2, retries=1).fit([], None, BOOK)
    timed_out = r"cannot use the language-model endpoint \(ReadTimeout\)"
    with pytest.raises(EndpointError, match=timed_out):
        slow.predict(["slow answer"])


def test_project_stores_model_prompt_version_and_time_per_suggestion(endpoint, tmp_path):
    path = tmp_path / "interview.txt"
    path.write_text(
        "I: How is the service paid for?\n"
        "R: The budget comes from a project grant, and the money ends next year.\n"
        "I: And supervision?\n"
        "R: We have supervision with a psychologist every second week.\n",
        encoding="utf-8",
    )
    project = Project.init(tmp_path / "p")
    try:
        project.import_documents([path])
        for spec in BOOK:
            project.add_code(spec.code, description=spec.definition)
        run = project.suggest(
            "llm", codes=["funding", "supervision"], options={"base_url": endpoint}
        )
        assert run.skipped == {"interviewer": 2} and run.stored == 2
        frame = project.suggestions_frame(reasons=True)
        assert sorted(frame["code"]) == ["funding", "supervision"]
        assert set(frame["model"]) == {"fake-7b-q4"}
        assert set(frame["prompt_version"]) == {PROMPT_VERSION}
        assert frame["seconds"].between(0, 30).all()
        assert frame.set_index("code")["score"].to_dict() == {"funding": 0.9, "supervision": 1.0}
        # the interviewer's turns were never sent
        sent = [b["messages"][-1]["content"].rsplit("Text:\n", 1)[1] for b in PROMPTS[-2:]]
        assert all(not s.startswith(("I:", "How", "And")) for s in sent)
        assert all(not s.startswith("R:") for s in sent)  # labels blanked
    finally:
        project.close()
