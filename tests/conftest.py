"""Shared fixtures: the real corpus indexed once with the real bundled embedder, and fakes."""
from __future__ import annotations

import os
import re
import shutil
import socket
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
MODEL_CACHE = ROOT / ".cache" / "models"

DOC_YUEHAI = "000_dc284aa856a2efc0"
DOC_TIANSHUIJUN = "001_853fd82f221bc387"
DOC_CUIYUAN = "002_95bdc2d1cb62a6be"
DOC_TANZHOU = "003_b47a481025290089"
DOC_HAIZHU = "004_1125619140e8c921"


def assert_quotes_verbatim(searcher, citations) -> None:
    """Every citation quotes its report exactly: report_text[start:end] == quote, never empty."""
    for citation in citations:
        original = searcher.reports[citation.doc_id]["original"]
        assert citation.quote and original[citation.start:citation.end] == citation.quote


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def still_running(pid: int, seconds: float) -> bool:
    """True if process `pid` is alive (not a zombie) after waiting up to `seconds` for it to end."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/status").read_text().split("State:")[1].split()[0]
        except (OSError, IndexError):
            return False
        if state in ("Z", "X"):
            return False
        time.sleep(0.2)
    return True


def booted_workers(log: str) -> list[int]:
    """The worker pids a gunicorn log booted."""
    return [int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", log)]


def gunicorn_workers(log: str) -> tuple[list[int], list[int]]:
    """The worker pids a gunicorn log booted, and those still running 15 s later (killed, then named)."""
    workers = booted_workers(log)
    stuck = [pid for pid in workers if still_running(pid, seconds=15)]
    for pid in stuck:
        os.kill(pid, 9)
    return workers, stuck


@pytest.fixture(scope="session")
def embedder():
    """The real bundled multilingual-e5-small, served through sentence-transformers."""
    from indexer.embed import load_embedder

    return load_embedder(None, MODEL_CACHE)


@pytest.fixture(scope="session")
def fake_embedder():
    from indexer.embed import HashingEmbedder

    return HashingEmbedder()


@pytest.fixture(scope="session")
def built_index(tmp_path_factory, embedder) -> Path:
    """An index directory of corpus/ built once per test session with the real embedder."""
    from indexer.build import build_index

    root = tmp_path_factory.mktemp("real") / "index"
    build_index(CORPUS, root, embedder)
    return root


@pytest.fixture(scope="session")
def searcher(built_index, embedder):
    from indexer.store import current_generation
    from service.search import Searcher

    return Searcher.load(current_generation(built_index), embedder)


@pytest.fixture(scope="session")
def answerer(searcher):
    from service.answer import Answerer

    return Answerer(searcher)


@pytest.fixture(scope="session")
def app(built_index, embedder, tmp_path_factory):
    """The Flask app over the real index; the corpus folder is a copy, so tests may not harm corpus/."""
    from service import create_app

    corpus = tmp_path_factory.mktemp("corpus-copy") / "corpus"
    shutil.copytree(CORPUS, corpus)
    app = create_app(
        {"TESTING": True, "INDEX_DIR": str(built_index), "CORPUS_DIR": str(corpus), "EMBEDDER": embedder}
    )
    return app


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def fake_index(tmp_path, fake_embedder) -> Path:
    """A small index of corpus/ built with the fake embedder (fast; for plumbing tests)."""
    from indexer.build import build_index

    root = tmp_path / "index"
    build_index(CORPUS, root, fake_embedder)
    return root
