"""The LLM method against a tiny OpenAI-compatible server on the loopback interface."""

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from caseframe.errors import CaseframeError, InvalidInput
from caseframe.suggest import get_method
from caseframe.suggest.base import CodeSpec
from caseframe.suggest.llm import EndpointError

BOOK = [
    CodeSpec("funding", "Money, budgets and grants.", keywords=("budget",)),
    CodeSpec("supervision", "Guidance and supervision of staff."),
]
SEEN: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        SEEN.append(body)
        text = body["messages"][-1]["content"].rsplit("Text:\n", 1)[1]
        if "broken" in text:
            content = "I think it is about funding."
        elif "invent" in text:
            content = '{"codes": ["weather"]}'
        elif "fence" in text:
            content = '```json\n{"codes": ["supervision"]}\n```'
        else:
            codes = [c for c in ("funding", "supervision") if c[:4] in text.lower()]
            content = json.dumps({"codes": codes})
        payload = json.dumps({"choices": [{"message": {"content": content}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_valid_answers_become_suggestions(server):
    method = get_method("llm", base_url=server).fit([], None, BOOK)
    got = method.predict(["Our fund ran dry", "Weekly supervision helped", "Nothing", "a fence"])
    assert got.tolist() == [[1, 0], [0, 1], [0, 0], [0, 1]]
    prompt = SEEN[-1]["messages"][-1]["content"]
    assert "funding: Money, budgets and grants. Keywords: budget." in prompt
    assert SEEN[-1]["temperature"] == 0


def test_codings_become_examples_in_the_prompt(server):
    import numpy as np

    method = get_method("llm", base_url=server).fit(
        ["The grant paid for it"], np.array([[1, 0]]), BOOK
    )
    method.predict(["x"])
    assert "The grant paid for it" in SEEN[-1]["messages"][-1]["content"]


def test_malformed_answer_is_a_clear_error(server):
    method = get_method("llm", base_url=server).fit([], None, BOOK)
    with pytest.raises(InvalidInput, match="malformed answer .* unit 2.*nothing was stored"):
        method.predict(["fund", "broken reply"])
    with pytest.raises(InvalidInput, match="not in the codebook for unit 1: weather"):
        method.predict(["invent a code"])


def test_unreachable_endpoint_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    method = get_method("llm", base_url=f"http://127.0.0.1:{port}/v1", timeout=2).fit(
        [], None, BOOK
    )
    with pytest.raises(EndpointError) as err:
        method.predict(["anything"])
    assert isinstance(err.value, CaseframeError)
    assert "cannot use the language-model endpoint" in err.value.line()
