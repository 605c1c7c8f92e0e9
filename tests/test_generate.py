"""Optional LLM answers: only cited sentences survive; failures fall back to the extractive answer."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from service.generate import Generator, keep_cited_sentences


def test_sentences_without_a_valid_citation_are_dropped():
    text = "粤海街道推行容缺受理[1]。这是编造的内容。坦洲镇也推行[2]。引用不存在的[9]。"
    assert keep_cited_sentences(text, 2) == "粤海街道推行容缺受理[1]。坦洲镇也推行[2]。"


class _Endpoint(BaseHTTPRequestHandler):
    reply = "两地推行容缺受理[1][2]。另有一个没有依据的说法。"
    seen: list = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        _Endpoint.seen.append(json.loads(self.rfile.read(length)))
        body = json.dumps({"choices": [{"message": {"content": _Endpoint.reply}}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture()
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_generated_answer_keeps_only_cited_sentences(answerer, endpoint):
    extractive = answerer.answer("哪些地方推行“容缺受理”?")
    generated = Generator(endpoint, "local-model").rewrite(extractive)
    assert generated.generated and generated.answer == "两地推行容缺受理[1][2]。"
    prompt = _Endpoint.seen[-1]["messages"][1]["content"]
    assert all(c.quote in prompt for c in extractive.citations)


def test_an_unreachable_endpoint_falls_back_and_says_so(answerer):
    extractive = answerer.answer("哪些地方推行“容缺受理”?")
    result = Generator("http://127.0.0.1:9/v1", "none", timeout=1).rewrite(extractive)
    assert not result.generated and result.answer == extractive.answer
    assert "摘录式" in result.notes[0]
