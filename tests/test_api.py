"""The JSON API through the HTTP client, and once over real HTTP."""
import csv
import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import CORPUS, DOC_HAIZHU, DOC_YUEHAI, booted_workers, free_port, gunicorn_workers, still_running

ROOT = Path(__file__).resolve().parent.parent


def test_healthz_counts(client):
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["reports"] == 5 and body["chunks"] > 100
    assert body["model"] == "e5-small-bundled"


def test_search_result_shape(client):
    body = client.get("/api/search", query_string={"q": "商圈微法庭", "k": 3}).get_json()
    first = body["results"][0]
    assert first["doc_id"] == DOC_YUEHAI and "商圈微法庭" in first["text"]
    assert set(first) >= {"chunk_id", "doc_id", "title", "issuer", "level", "region", "year", "section", "text", "score", "highlights"}
    assert first["issuer"] == "粤海街道" and first["region"] == "广东省 深圳市 南山区" and first["year"] == 2024
    assert body["facets"]["issuer"]["粤海街道"] >= 1


def test_search_filters_by_region_at_any_level(client):
    body = client.get("/api/search", query_string={"q": "普法", "region": "广州市", "k": 10}).get_json()
    assert body["results"] and {r["doc_id"] for r in body["results"]} == {DOC_HAIZHU}


@pytest.mark.parametrize(
    "params, code",
    [
        ({}, "bad_parameter"), ({"q": ""}, "bad_parameter"), ({"q": "   "}, "bad_parameter"),
        ({"q": "法" * 501}, "bad_parameter"), ({"q": "法治", "k": 0}, "bad_parameter"),
        ({"q": "法治", "k": 101}, "bad_parameter"), ({"q": "法治", "k": "ten"}, "bad_parameter"),
        ({"q": "法治", "year": "abc"}, "bad_parameter"), ({"q": "法治", "mode": "magic"}, "bad_parameter"),
        ({"q": "法治", "region": "火星"}, "unknown_filter_value"), ({"q": "法治", "level": "省"}, "unknown_filter_value"),
        ({"q": "法治", "section": "附录"}, "unknown_filter_value"),
    ],
)
def test_bad_search_parameters_are_400_with_a_sentence(client, params, code):
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"].endswith((".", "。"))


def test_reports_list_and_one_report(client):
    reports = client.get("/api/reports").get_json()["reports"]
    assert {r["issuer"] for r in reports} == {"粤海街道", "天水郡街道", "翠苑街道", "坦洲镇", "海珠区"}
    tanzhou = next(r for r in reports if r["issuer"] == "坦洲镇")
    assert tanzhou["region"] == "广东省 中山市" and tanzhou["level"] == "镇" and tanzhou["chunks"] > 10
    body = client.get(f"/api/reports/{DOC_HAIZHU}").get_json()
    assert body["text"].startswith("廣州市海珠區(qū)人民政府")
    assert body["outline"][1]["heading"].startswith("一、")
    assert client.get("/api/reports/nope").status_code == 404
    assert client.get("/api/reports/nope").get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    "body, status",
    [
        (None, 400), ("not json", 400), ([], 400), ({"question": 5}, 400), ({"question": ""}, 400),
        ({"question": "法治", "history": "x"}, 400), ({"question": "法治", "filters": {"planet": "x"}}, 400),
        ({"question": "法治", "filters": {"region": "火星"}}, 400),
    ],
)
def test_bad_ask_bodies_are_400(client, body, status):
    if isinstance(body, str):
        response = client.post("/api/ask", data=body, content_type="application/json")
    elif body is None:
        response = client.post("/api/ask")
    else:
        response = client.post("/api/ask", json=body)
    assert response.status_code == status and "message" in response.get_json()["error"]


def test_ask_which_shape(client):
    body = client.post("/api/ask", json={"question": "哪些地方推行“容缺受理”?"}).get_json()
    assert body["kind"] == "which"
    assert [g["issuer"] for g in body["groups"]] and {g["issuer"] for g in body["groups"]} == {"粤海街道", "坦洲镇"}
    numbers = [citation["n"] for citation in body["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))
    assert [int(n) for n in re.findall(r"\[(\d+)\]", body["answer"])] == numbers  # each cited once, in order
    cited_by_group = {g["doc_id"]: {c["n"] for c in g["citations"]} for g in body["groups"]}
    for citation in body["citations"]:
        assert set(citation) >= {"n", "chunk_id", "doc_id", "section", "quote", "start", "end"}
        assert citation["n"] in cited_by_group[citation["doc_id"]] and "容缺受理" in citation["quote"]


def test_ask_with_filters(client):
    body = client.post("/api/ask", json={"question": "哪些地方推行“容缺受理”?", "filters": {"region": "中山市"}}).get_json()
    assert {g["issuer"] for g in body["groups"]} == {"坦洲镇"}


def test_csv_export(client):
    response = client.get("/api/ask.csv", query_string={"question": "哪些地方落实“谁执法谁普法”普法责任制?"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:7] == ["issuer", "region", "year", "level", "quote", "section", "doc_id"]
    # 坦洲镇 writes 「严格落实“谁执法谁普法”」 only under 三、下一步工作设想: a plan, not done.
    assert {r[0] for r in rows[1:]} == {"翠苑街道", "海珠区"}


def test_unknown_paths_and_methods_are_json_errors(client):
    assert client.get("/api/nothing").status_code == 404
    assert client.delete("/api/search").status_code == 405
    assert client.get("/api/nothing").get_json()["error"]["code"] == "not_found"
    # A report id of "/0" (found by tests/test_fuzz.py): a JSON 404, not a 308 to /api/reports/0.
    for path in ("/api/reports/%2F0", "/api/reports//0"):
        response = client.get(path)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_the_real_service_over_http(built_index, tmp_path):
    port = free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log = tmp_path / "service.log"  # a file, not a pipe: a stuck worker must not hang the test
    with log.open("wb") as stderr_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "--index", str(built_index), "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr_file,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                health = json.load(urllib.request.urlopen(base + "/healthz", timeout=2))
                break
            except OSError:
                assert process.poll() is None, log.read_text(encoding="utf-8", errors="replace")
                time.sleep(0.3)
        assert health["status"] == "ok"
        request = urllib.request.Request(
            base + "/api/ask", data=json.dumps({"question": "哪些街道设立了商圈微法庭？"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        body = json.load(urllib.request.urlopen(request, timeout=30))
        assert [g["issuer"] for g in body["groups"]] == ["粤海街道"]
        assert health["answers"] == "process"  # the worker's answers are computed in its answer process
        assert list((built_index / "answers").glob("*/*.pickle"))  # and shared with the other workers
        answer_processes = [int(pid) for worker in booted_workers(log.read_text(encoding="utf-8"))
                            for pid in Path(f"/proc/{worker}/task/{worker}/children").read_text().split()]
        assert answer_processes and all(os.getpriority(os.PRIO_PROCESS, pid) == 10 for pid in answer_processes)
    finally:
        process.terminate()
        process.wait(timeout=20)
    stderr = log.read_text(encoding="utf-8", errors="replace")
    workers, stuck = gunicorn_workers(stderr)
    assert workers and not stuck, f"workers {stuck} did not exit after SIGTERM:\n{stderr}"
    assert not [pid for pid in answer_processes if still_running(pid, seconds=15)], "an answer process outlived its worker"


def test_cli_ask_prints_the_answer(built_index):
    result = subprocess.run(
        [sys.executable, "-m", "service", "--index", str(built_index), "ask", "翠苑街道行政诉讼败诉率是多少？", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "57%" in json.loads(result.stdout)["answer"]


def test_a_browser_gets_an_html_404_for_a_missing_page(client):
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert client.get("/api/no-such", headers={"Accept": "text/html"}).mimetype == "application/json"


@pytest.fixture(scope="module")
def gunicorn_base(tmp_path_factory):
    """Gunicorn started as the Procfile starts it (gunicorn.conf.py), over a fake-embedder index; its base URL."""
    from indexer.build import build_index
    from indexer.embed import HashingEmbedder

    folder = tmp_path_factory.mktemp("gunicorn")
    build_index(CORPUS, folder / "index", HashingEmbedder())
    port = free_port()
    env = {**os.environ, "PORT": str(port), "WEB_CONCURRENCY": "1", "FAZHI_THREADS": "2",
           "FAZHI_INDEX_DIR": str(folder / "index"), "FAZHI_CORPUS_DIR": str(CORPUS), "FAZHI_MODEL": "fake-hashing"}
    log = folder / "gunicorn.log"  # a file, not a pipe: a stuck worker must not hang the test
    with log.open("wb") as stderr_file:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py", "service:create_app()"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr_file,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text(encoding="utf-8", errors="replace"))
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
    stderr = log.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in stderr, stderr
    workers, stuck = gunicorn_workers(stderr)
    assert workers and not stuck, f"workers {stuck} did not exit after SIGTERM:\n{stderr}"


@pytest.mark.parametrize(
    "path, name, value, status, code",
    [
        ("/api/search", "q", "a" * 6000, 400, "bad_parameter"),  # 6 kB: read by gunicorn, refused by the app
        ("/api/search", "q", "法" * 600, 400, "bad_parameter"),  # 5.4 kB encoded: over gunicorn's default 4094
        ("/api/search", "q", "法" * 6000, 414, "uri_too_long"),  # 54 kB: over gunicorn's ceiling of 8190
        ("/api/ask.csv", "question", "a" * 10_000, 414, "uri_too_long"),
        ("/api/ask.csv", "question", "法" * 10_000, 414, "uri_too_long"),
    ],
    ids=["search-6000-latin", "search-600-chinese", "search-6000-chinese", "csv-10000-latin", "csv-10000-chinese"],
)
def test_over_long_get_parameters_are_json_errors_over_real_http(gunicorn_base, path, name, value, status, code):
    url = f"{gunicorn_base}{path}?{urllib.parse.urlencode({name: value})}"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=30)
    response = caught.value
    body = response.read().decode("utf-8")
    assert response.code == status and response.headers.get_content_type() == "application/json", body[:300]
    assert "<html" not in body.lower()
    error = json.loads(body)["error"]
    assert error["code"] == code
    assert error["message"][:1].isupper() and error["message"].endswith(".") and len(error["message"].split()) > 5


def test_a_query_of_the_longest_allowed_length_is_answered_over_real_http(gunicorn_base):
    url = f"{gunicorn_base}/api/search?{urllib.parse.urlencode({'q': '法治' * 250, 'mode': 'bm25', 'k': 3})}"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200 and len(json.load(response)["results"]) == 3


def test_raw_chinese_in_the_address_is_a_json_error_over_real_http(gunicorn_base):
    # curl 'http://…/api/search?q=商圈微法庭' sends the UTF-8 bytes unencoded; gunicorn refuses
    # the request line before the app sees it, and the client must still get a JSON sentence.
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(gunicorn_base)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall("GET /api/search?q=商圈微法庭 HTTP/1.1\r\nHost: x\r\n\r\n".encode("utf-8"))
        raw = b""
        while chunk := sock.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400") and b"application/json" in head, raw[:300]
    error = json.loads(body)["error"]
    assert error["code"] == "bad_request_line" and "percent-encode" in error["message"]
