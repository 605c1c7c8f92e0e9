"""Random input at every endpoint: never a 5xx, never slower than 5 s, always a JSON error for the API."""
from __future__ import annotations

import io
import json
import shutil
import time
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.embed import HashingEmbedder
from service import create_app
from tests.conftest import CORPUS

TOKEN = "fuzz-token"
LIMIT_SECONDS = 5.0
FUZZ = settings(max_examples=50, deadline=LIMIT_SECONDS * 1000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# Text that mixes what the service sees in real use with what it should survive.
UNICODE = st.text(st.characters(codec="utf-8"), max_size=80)
CHINESE = st.sampled_from(["行政复议", "容缺受理", "商圈微法庭", "哪些地方推行“容缺受理”?", "海珠区", "2023", "法治",
                           "翠苑街道做了什么", "'; DROP TABLE--", "<script>alert(1)</script>", "%00", "\x00", "法" * 600])
TEXT = st.one_of(UNICODE, CHINESE, st.text(alphabet="0123456789-+.eE", max_size=12))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)
PARAM_NAMES = st.sampled_from(["q", "k", "mode", "issuer", "level", "region", "year", "section", "question", "x"])


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    from indexer.build import build_index

    base = tmp_path_factory.mktemp("fuzz")
    build_index(CORPUS, base / "index", HashingEmbedder())
    corpus = shutil.copytree(CORPUS, base / "corpus")
    return create_app({"TESTING": True, "INDEX_DIR": str(base / "index"), "CORPUS_DIR": str(corpus),
                       "EMBEDDER": HashingEmbedder(), "ADMIN_TOKEN": TOKEN, "MAX_UPLOAD_BYTES": 256 * 1024,
                       "BUILD_IF_MISSING": False})


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def check(response, started: float, api: bool = True) -> None:
    """The properties every answer must have, whatever was sent.

    No 5xx: a 503 is right only while another writer holds the index, and nothing here runs
    beside one, so a 503 would mean a fault (a busy lock left behind, a failed write).
    """
    elapsed = time.monotonic() - started
    status = response.status_code
    assert elapsed < LIMIT_SECONDS, f"took {elapsed:.1f} s"
    if not api:
        assert status < 500, response.get_data(as_text=True)[:500]
        return
    assert 200 <= status < 300 or 400 <= status < 500, response.get_data(as_text=True)[:500]
    if status >= 400:
        assert response.is_json, response.get_data(as_text=True)[:500]
        error = response.get_json()["error"]
        assert error["code"] and error["message"].endswith((".", "。")), error


def query_string(pairs: list[tuple[str, str]]) -> str:
    return urllib.parse.urlencode(pairs, encoding="utf-8", errors="surrogatepass")


@FUZZ
@given(pairs=st.lists(st.tuples(PARAM_NAMES, TEXT), max_size=6))
def test_search(client, pairs):
    started = time.monotonic()
    check(client.get("/api/search?" + query_string(pairs)), started)


@FUZZ
@given(body=JSON)
def test_ask_json(client, body):
    started = time.monotonic()
    check(client.post("/api/ask", json=body), started)


@FUZZ
@given(question=TEXT, history=JSON, filters=JSON)
def test_ask_shaped(client, question, history, filters):
    started = time.monotonic()
    response = client.post("/api/ask", json={"question": question, "history": history, "filters": filters})
    check(response, started)


@FUZZ
@given(raw=st.binary(max_size=300), content_type=st.sampled_from(
    ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", ""]))
def test_ask_not_json(client, raw, content_type):
    started = time.monotonic()
    check(client.post("/api/ask", data=raw, content_type=content_type or None), started)


@FUZZ
@given(pairs=st.lists(st.tuples(PARAM_NAMES, TEXT), max_size=4), body=JSON)
def test_ask_csv(client, pairs, body):
    started = time.monotonic()
    response = client.get("/api/ask.csv?" + query_string(pairs))
    check(response, started)
    if response.status_code == 200:
        assert response.get_data(as_text=True).startswith("\ufeff")
    started = time.monotonic()
    check(client.post("/api/ask.csv", json=body), started)


@FUZZ
@given(doc_id=TEXT, token=st.sampled_from(["", "Bearer wrong", "Bearer " + TOKEN, "Basic x"]))
def test_report_ids(client, doc_id, token):
    path = urllib.parse.quote(doc_id, safe="", errors="surrogatepass") or "%20"
    started = time.monotonic()
    check(client.get(f"/api/reports/{path}"), started)
    started = time.monotonic()
    check(client.get(f"/reports/{path}"), started, api=False)
    headers = {"Authorization": token} if token else {}
    started = time.monotonic()
    response = client.delete(f"/api/reports/{path}", headers=headers)
    check(response, started)
    assert response.status_code in (401, 403, 404, 405)


@FUZZ
@given(data=st.one_of(st.binary(max_size=2048), st.sampled_from([b"\x89PNG\r\n\x1a\n" + bytes(64), b"PK\x03\x04" + bytes(64),
                                                                  b"%PDF-1.4\n" + bytes(64), b"<html><body>", b"\xef\xbb\xbf"])),
       name=TEXT, doc_id=st.one_of(st.none(), TEXT))
def test_upload_random_files(client, app, data, name, doc_id):
    form = {"file": (io.BytesIO(data), name)}
    if doc_id is not None:
        form["doc_id"] = doc_id
    started = time.monotonic()
    response = client.post("/api/reports", data=form, headers={"Authorization": "Bearer " + TOKEN},
                           content_type="multipart/form-data")
    check(response, started)
    assert response.status_code in (400, 409, 413, 415, 422), response.get_json()


@FUZZ
@given(path=st.text(st.characters(codec="utf-8", exclude_characters="?#"), max_size=60))
def test_any_path(client, path):
    started = time.monotonic()
    response = client.get("/" + urllib.parse.quote(path, safe="/", errors="surrogatepass"))
    check(response, started, api=False)


def test_the_index_survived_the_fuzzing(client):
    """Run last in the module: nothing above changed the index or broke the app."""
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["reports"] == 5
    assert json.loads(client.get("/api/reports").get_data())["reports"]
