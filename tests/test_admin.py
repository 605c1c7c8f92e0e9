"""Adding and removing reports while serving: auth, limits, safe names, duplicates, concurrency, CLI, gunicorn."""
from __future__ import annotations

import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from indexer.embed import HashingEmbedder
from indexer.store import current_generation, writer_lock
from service import create_app
from service.admin import MAX_DOC_ID_BYTES, safe_doc_id
from tests.conftest import CORPUS, DOC_TANZHOU, ROOT, SHARED, free_port, gunicorn_workers

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROV = SHARED / "ext" / "prov31-gwr"
SHANGHAI_DOCX = PROV / "2025年上海市政府工作报告.docx"
needs_shanghai_docx = pytest.mark.skipif(
    not SHANGHAI_DOCX.is_file(),
    reason=f"../shared is not beside this checkout; the .docx upload tests read {SHANGHAI_DOCX}.")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


def tanzhou_variant(marker: str) -> bytes:
    """Corpus report 003 with one sentence added, so its hash differs and `marker` is searchable."""
    text = (CORPUS / f"{DOC_TANZHOU}.txt").read_text(encoding="utf-8")
    head, sep, tail = text.partition("现将有关工作情况报告如下:")
    assert sep, "corpus/003 changed; pick another anchor sentence"
    return (head + f"坦洲镇设立{marker}。" + sep + tail).encode("utf-8")


@pytest.fixture(scope="module")
def base_index(tmp_path_factory) -> Path:
    from indexer.build import build_index

    root = tmp_path_factory.mktemp("admin-base") / "index"
    build_index(CORPUS, root, HashingEmbedder())
    return root


def _copy_index(base: Path, target: Path) -> Path:
    shutil.copytree(base, target, symlinks=True)
    return target


@pytest.fixture()
def dirs(tmp_path, base_index) -> tuple[Path, Path]:
    index = _copy_index(base_index, tmp_path / "index")
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    return index, corpus


def make_app(index: Path, corpus: Path, **extra):
    config = {"TESTING": True, "INDEX_DIR": str(index), "CORPUS_DIR": str(corpus),
              "EMBEDDER": extra.pop("embedder", HashingEmbedder()), "ADMIN_TOKEN": TOKEN,
              "BUILD_IF_MISSING": False}
    config.update(extra)
    return create_app(config)


@pytest.fixture()
def app(dirs):
    return make_app(*dirs)


@pytest.fixture()
def client(app):
    return app.test_client()


def upload(client, data: bytes, name: str = "report.txt", headers=AUTH, **form):
    return client.post("/api/reports", data={"file": (io.BytesIO(data), name), **form},
                       headers=headers, content_type="multipart/form-data")


def snapshot(index: Path, corpus: Path, outside: Path | None = None) -> tuple:
    """What an admin request may change: the generation in service and every file name around."""
    files = sorted(str(p.relative_to(corpus)) for p in corpus.rglob("*"))
    others = sorted(str(p) for p in outside.rglob("*")) if outside else []
    return current_generation(index).name, files, others


# ------------------------------------------------------------------ auth


@pytest.mark.parametrize("method", ["post", "delete"])
@pytest.mark.parametrize(
    "configured, headers, status, code",
    [
        ("", AUTH, 403, "forbidden"),
        (TOKEN, {}, 401, "unauthorized"),
        (TOKEN, {"Authorization": "Bearer"}, 401, "unauthorized"),
        (TOKEN, {"Authorization": f"Basic {TOKEN}"}, 401, "unauthorized"),
        (TOKEN, {"Authorization": "Bearer wrong-token"}, 403, "forbidden"),
        (TOKEN, {"Authorization": f"Bearer {TOKEN}x"}, 403, "forbidden"),
        (TOKEN, {"Authorization": "Bearer 令牌"}, 403, "forbidden"),
    ],
)
def test_auth_refusals_change_nothing(dirs, method, configured, headers, status, code):
    index, corpus = dirs
    client = make_app(index, corpus, ADMIN_TOKEN=configured).test_client()
    before = snapshot(index, corpus)
    if method == "post":
        response = upload(client, tanzhou_variant("鉴权测试室"), headers=headers)
    else:
        response = client.delete(f"/api/reports/{DOC_TANZHOU}", headers=headers)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"].endswith(".")
    if not configured:
        assert "FAZHI_ADMIN_TOKEN" in error["message"] and "switched off" in error["message"]
    assert snapshot(index, corpus) == before
    assert client.get(f"/api/reports/{DOC_TANZHOU}").status_code == 200


def test_right_token_adds_then_delete_removes(client, dirs):
    index, corpus = dirs
    before_generation = current_generation(index).name
    response = upload(client, tanzhou_variant("量子纠缠调解室"), "坦洲镇2023年法治政府建设报告.txt")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    doc_id = body["doc_id"]
    assert doc_id == "坦洲镇2023年法治政府建设报告"
    assert body["issuer"] == "坦洲镇" and body["year"] == 2023 and body["chunks"] > 10 and body["title"]
    assert urllib.parse.unquote(response.headers["Location"]) == f"/api/reports/{doc_id}"
    assert (corpus / f"{doc_id}.txt").read_bytes() == tanzhou_variant("量子纠缠调解室")
    assert not [p for p in corpus.iterdir() if p.name.startswith(".upload-")]
    assert current_generation(index).name != before_generation

    hits = client.get("/api/search", query_string={"q": "量子纠缠调解室", "k": 3, "mode": "bm25"}).get_json()["results"]
    assert hits[0]["doc_id"] == doc_id and "量子纠缠调解室" in hits[0]["text"]
    assert client.get("/healthz").get_json()["reports"] == 6
    assert client.get(f"/api/reports/{doc_id}").status_code == 200

    response = client.delete(f"/api/reports/{doc_id}", headers=AUTH)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["removed"] == doc_id and response.get_json()["reports"] == 5
    assert client.get(f"/api/reports/{doc_id}").status_code == 404
    hits = client.get("/api/search", query_string={"q": "量子纠缠调解室", "k": 10, "mode": "bm25"}).get_json()["results"]
    assert doc_id not in {h["doc_id"] for h in hits}
    assert not (corpus / f"{doc_id}.txt").exists()
    moved = list((corpus / ".removed").iterdir())
    assert len(moved) == 1 and moved[0].name.endswith(f"{doc_id}.txt")
    again = client.delete(f"/api/reports/{doc_id}", headers=AUTH)
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "not_found"


def test_a_full_rebuild_keeps_an_upload_and_drops_a_removed_report(client, dirs):
    from indexer.build import build_index

    index, corpus = dirs
    assert upload(client, tanzhou_variant("重建保留室"), "kept.txt").status_code == 201
    assert client.delete(f"/api/reports/{DOC_TANZHOU}", headers=AUTH).status_code == 200
    build_index(corpus, index, HashingEmbedder())
    body = client.get("/api/reports").get_json()["reports"]
    assert {r["doc_id"] for r in body} >= {"kept"} and DOC_TANZHOU not in {r["doc_id"] for r in body}


@needs_shanghai_docx
def test_a_docx_upload_is_indexed(client):
    response = upload(client, SHANGHAI_DOCX.read_bytes(), SHANGHAI_DOCX.name)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["format"] == "docx" and body["file"] == "2025年上海市政府工作报告.docx"
    assert body["issuer"] == "上海市" and body["year"] == 2024  # the 2025 work report reviews 2024
    hits = client.get("/api/search", query_string={"q": "上海", "issuer": "上海市", "k": 3}).get_json()["results"]
    assert hits and {h["doc_id"] for h in hits} == {body["doc_id"]}


# ------------------------------------------------------------------ limits and content


def test_size_limit_is_413_json(dirs):
    index, corpus = dirs
    client = make_app(index, corpus, MAX_UPLOAD_BYTES=4000).test_client()
    before = snapshot(index, corpus)
    response = upload(client, tanzhou_variant("超大文件室"))  # ~12 kB, over the 4 kB limit
    assert response.status_code == 413
    assert response.get_json()["error"]["message"].startswith("The upload is larger")
    # far over the limit: refused by the request size check before the form is parsed
    response = upload(client, b"x" * (200 * 1024))
    assert response.status_code == 413 and "error" in response.get_json()
    assert snapshot(index, corpus) == before


@pytest.mark.parametrize(
    "data, name, words",
    [
        (PNG, "report.txt", "PNG image"),
        (b"\x7fELF\x02\x01\x01" + bytes(200), "report.docx", "executable"),
        (b"", "empty.txt", "empty"),
        (b"PK\x03\x04" + b"\x00" * 100, "broken.docx", "corrupt"),
        (bytes(range(256)) * 20, "noise.pdf", "binary"),
    ],
)
def test_type_is_checked_by_content(client, dirs, data, name, words):
    index, corpus = dirs
    before = snapshot(index, corpus)
    response = upload(client, data, name)
    assert response.status_code == 415
    error = response.get_json()["error"]
    assert error["code"] == "unsupported_media_type" and words in error["message"]
    assert error["message"].startswith("The uploaded file ") and error["message"].endswith(".")
    assert snapshot(index, corpus) == before


def test_a_fragment_of_text_is_422(client, dirs):
    index, corpus = dirs
    before = snapshot(index, corpus)
    response = upload(client, "（略）\n附件：第1页 共2页。".encode("utf-8"), "short.txt")
    assert response.status_code == 422
    assert response.get_json()["error"]["message"].endswith("a report has at least 200.")
    assert snapshot(index, corpus) == before


def test_missing_file_field_is_400(client):
    response = client.post("/api/reports", data={"doc_id": "x"}, headers=AUTH, content_type="multipart/form-data")
    assert response.status_code == 400 and "'file'" in response.get_json()["error"]["message"]
    assert client.post("/api/reports", json={"file": "x"}, headers=AUTH).status_code == 400


# ------------------------------------------------------------------ names


NASTY_NAMES = [
    "../../etc/passwd.txt", "/etc/cron.d/evil.txt", "..\\..\\windows\\system32\\evil.txt", "C:\\evil.txt",
    "a\x00b.txt", "CON.txt", "nul", "lpt1.md", "x" * 400 + ".txt", "报" * 200 + ".txt", "\u202eevil\u202dtxt.exe",
    "．．／．．／etc／x.txt", "报告/../../x.txt", ".hidden.txt", "..", ".", "", "   ", "a\r\nb.txt",
    "e\u0301\u0301\u0301.txt", "\ufeff\u200b.txt", "%2e%2e%2fx.txt", "~root.txt", "$(rm -rf).txt",
]


@pytest.mark.parametrize("name", NASTY_NAMES)
def test_safe_doc_id_is_a_plain_short_file_name(name):
    doc_id = safe_doc_id(name)
    assert doc_id and not doc_id.startswith(".") and doc_id not in (".", "..")
    assert not set(doc_id) & set("/\\\x00\r\n:*?\"<>|%$ ")
    assert all(ch.isalnum() or ch in "_-." for ch in doc_id)
    assert len((doc_id + ".docx").encode("utf-8")) <= 255 and len(doc_id.encode("utf-8")) <= MAX_DOC_ID_BYTES
    assert doc_id.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "LPT1", "COM1"}
    assert safe_doc_id(doc_id) == doc_id  # stable: the id of the saved file is the id it was saved under


@pytest.mark.parametrize("name", ["../../../escaped.txt", "..\\..\\escaped.txt", "/tmp/escaped.txt",
                                  "报" * 200 + ".txt", "CON.txt", "a\x00b/../c.txt"])
def test_uploads_with_nasty_names_stay_in_the_corpus_folder(client, dirs, tmp_path, name):
    index, corpus = dirs
    outside_before = sorted(p for p in tmp_path.rglob("*") if not p.is_relative_to(corpus) and not p.is_relative_to(index))
    response = upload(client, tanzhou_variant(f"命名测试{len(name)}号室"), name)
    assert response.status_code == 201, response.get_json()
    saved = corpus / response.get_json()["file"]
    assert saved.is_file() and saved.parent == corpus
    outside_after = sorted(p for p in tmp_path.rglob("*") if not p.is_relative_to(corpus) and not p.is_relative_to(index))
    assert outside_after == outside_before
    assert not Path("/tmp/escaped.txt").exists()


@pytest.mark.parametrize("doc_id", ["../x", "a/b", "a b", "CON", ".x", "x" * 200, "a.b"])
def test_a_bad_doc_id_field_is_400(client, dirs, doc_id):
    index, corpus = dirs
    before = snapshot(index, corpus)
    response = upload(client, tanzhou_variant("编号测试室"), "ok.txt", doc_id=doc_id)
    assert response.status_code == 400 and "doc_id" in response.get_json()["error"]["message"]
    assert snapshot(index, corpus) == before


def test_a_given_doc_id_is_used(client, dirs):
    response = upload(client, tanzhou_variant("指定编号室"), "whatever.txt", doc_id="tanzhou-2023-b")
    assert response.status_code == 201 and response.get_json()["doc_id"] == "tanzhou-2023-b"
    assert (dirs[1] / "tanzhou-2023-b.txt").is_file()


# ------------------------------------------------------------------ duplicates


def test_same_content_is_409_naming_the_indexed_report(client, dirs):
    index, corpus = dirs
    before = snapshot(index, corpus)
    response = upload(client, (CORPUS / f"{DOC_TANZHOU}.txt").read_bytes(), "copy-of-tanzhou.txt")
    assert response.status_code == 409
    assert DOC_TANZHOU in response.get_json()["error"]["message"]
    assert snapshot(index, corpus) == before


def test_same_id_other_content_is_409_and_nothing_is_replaced(client, dirs):
    index, corpus = dirs
    before = snapshot(index, corpus)
    response = upload(client, tanzhou_variant("同名测试室"), f"{DOC_TANZHOU}.txt")
    assert response.status_code == 409 and DOC_TANZHOU in response.get_json()["error"]["message"]
    assert snapshot(index, corpus) == before
    assert (corpus / f"{DOC_TANZHOU}.txt").read_bytes() == (CORPUS / f"{DOC_TANZHOU}.txt").read_bytes()


def test_a_second_upload_of_the_same_file_is_409(client):
    data = tanzhou_variant("重复上传室")
    first = upload(client, data, "first.txt")
    assert first.status_code == 201
    second = upload(client, data, "second.txt")
    assert second.status_code == 409 and "first" in second.get_json()["error"]["message"]
    assert client.get("/healthz").get_json()["reports"] == 6


# ------------------------------------------------------------------ concurrency


def test_concurrent_uploads_lose_no_report(dirs):
    index, corpus = dirs
    # Each waits for the others' rebuilds: on a loaded machine four take longer than the 30 s a
    # client waits by default (then a 503 with a sentence). This test is about losing nothing.
    app = make_app(index, corpus, WRITER_WAIT_SECONDS=600)
    results = {}

    def send(i: int):
        results[i] = upload(app.test_client(), tanzhou_variant(f"并发{i}号调解室"), f"concurrent-{i}.txt")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    assert sorted(r.status_code for r in results.values()) == [201] * 4
    listed = {r["doc_id"] for r in app.test_client().get("/api/reports").get_json()["reports"]}
    assert listed >= {f"concurrent-{i}" for i in range(4)} and len(listed) == 9
    assert {p.name for p in corpus.glob("concurrent-*.txt")} == {f"concurrent-{i}.txt" for i in range(4)}


def test_an_upload_that_waits_too_long_for_another_writer_is_told_to_retry(dirs):
    index, corpus = dirs
    app = make_app(index, corpus, WRITER_WAIT_SECONDS=0.5)
    before = snapshot(index, corpus)
    held, release = threading.Event(), threading.Event()

    def other_writer():  # a CLI add, say: another thread, so the lock is not re-entered
        with writer_lock(index):
            held.set()
            release.wait(30)

    thread = threading.Thread(target=other_writer)
    thread.start()
    held.wait(10)
    try:
        response = upload(app.test_client(), tanzhou_variant("等待调解室"), "waiting.txt")
    finally:
        release.set()
        thread.join(30)
    assert response.status_code == 503
    assert "try again later" in response.get_json()["error"]["message"]
    assert snapshot(index, corpus) == before  # nothing half-written, nothing lost
    assert upload(app.test_client(), tanzhou_variant("等待调解室"), "waiting.txt").status_code == 201


class SlowEmbedder(HashingEmbedder):
    """The fake embedder, slowed down so an upload lasts long enough to search during it."""

    def embed_passages(self, texts, batch_size=32, show_progress=False):
        time.sleep(0.3)
        return super().embed_passages(texts, batch_size, show_progress)


def test_searches_are_answered_from_the_old_generation_during_an_upload(dirs):
    index, corpus = dirs
    app = make_app(index, corpus, embedder=SlowEmbedder())
    old = app.test_client().get("/healthz").get_json()["generation"]
    result = {}
    writer = threading.Thread(target=lambda: result.update(r=upload(app.test_client(), tanzhou_variant("慢速上传室"))))
    writer.start()
    seen, statuses = set(), []
    client = app.test_client()
    while writer.is_alive():
        response = client.get("/api/search", query_string={"q": "行政复议", "k": 5})
        statuses.append(response.status_code)
        seen.add(client.get("/healthz").get_json()["generation"])
    writer.join()
    assert result["r"].status_code == 201
    assert len(statuses) >= 3 and set(statuses) == {200}
    assert old in seen
    assert client.get("/healthz").get_json()["generation"] != old


# ------------------------------------------------------------------ the CLI against a serving index


def _cli(index: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "indexer", "--index", str(index), "--model", "fake-hashing", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


@needs_shanghai_docx
def test_cli_add_and_remove_are_seen_without_restart(client, dirs):
    index, _ = dirs
    assert client.get("/healthz").get_json()["reports"] == 5
    result = _cli(index, "add", str(SHANGHAI_DOCX))
    assert result.returncode == 0, result.stderr
    body = client.get("/healthz").get_json()
    assert body["reports"] == 6 and body["generation"] == current_generation(index).name
    hits = client.get("/api/search", query_string={"q": "上海", "issuer": "上海市"}).get_json()["results"]
    assert hits and hits[0]["doc_id"] == "2025年上海市政府工作报告"
    # the service's own upload after a CLI add keeps the CLI's report (it reloads under the lock first)
    assert upload(client, tanzhou_variant("命令行之后室"), "after-cli.txt").status_code == 201
    result = _cli(index, "remove", "2025年上海市政府工作报告")
    assert result.returncode == 0, result.stderr
    listed = {r["doc_id"] for r in client.get("/api/reports").get_json()["reports"]}
    assert "2025年上海市政府工作报告" not in listed and "after-cli" in listed


# ------------------------------------------------------------------ gunicorn with the Procfile's config


def _get(url: str, timeout: float = 10.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_gunicorn_with_the_procfile_config_serves_after_fork(tmp_path, embedder):
    """Two preloaded workers, the real e5 model loaded before fork, queried over loopback."""
    from indexer.build import build_index
    from service.search import Searcher

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = (CORPUS / f"{DOC_TANZHOU}.txt").read_text(encoding="utf-8")
    (corpus / "tanzhou.txt").write_text(text[:2500], encoding="utf-8")
    index = tmp_path / "index"
    build_index(corpus, index, embedder)

    procfile = (ROOT / "Procfile").read_text(encoding="utf-8").strip()
    assert procfile.startswith("web: ")
    command = shlex.split(procfile[len("web: "):])
    assert command[0] == "gunicorn"
    port = free_port()
    env = {**os.environ, "PORT": str(port), "FAZHI_INDEX_DIR": str(index), "FAZHI_CORPUS_DIR": str(corpus),
           "FAZHI_CACHE_DIR": str(ROOT / ".cache")}
    env.pop("FAZHI_MODEL", None)
    log = tmp_path / "gunicorn.log"  # a file, not a pipe: a stuck worker must not hang the test
    with log.open("wb") as stderr_file:
        process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), *command[1:]], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=stderr_file)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 45
        while True:
            try:
                health = _get(base + "/healthz", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(log.read_text() if process.poll() is not None else "no answer")
                time.sleep(0.3)
        assert health["model"] == "e5-small-bundled" and health["reports"] == 1
        # The one report is in every result, so check the ranking itself: the workers' query vectors,
        # made after fork, must rank the passages as the same model does in this process.
        expected = Searcher.load(current_generation(index), embedder).search("行政执法", k=3, mode="dense")
        assert len({hit.chunk.chunk_id for hit in expected}) == 3
        query = urllib.parse.quote("行政执法")
        for _ in range(12):  # enough requests that both workers are likely to answer some
            results = _get(f"{base}/api/search?q={query}&mode=dense&k=3")["results"]
            assert [r["chunk_id"] for r in results] == [hit.chunk.chunk_id for hit in expected]
            assert [r["score"] for r in results] == pytest.approx([hit.score for hit in expected], abs=1e-3)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    stderr = log.read_text(encoding="utf-8", errors="replace")
    workers, stuck = gunicorn_workers(stderr)
    assert not stuck, f"workers {stuck} did not exit after SIGTERM:\n{stderr}"
    assert len(workers) >= 2, stderr
    assert "Traceback" not in stderr and "SIGABRT" not in stderr and "terminate called" not in stderr, stderr

