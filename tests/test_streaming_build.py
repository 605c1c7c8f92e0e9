"""Streaming builds (indexer/streaming/): the same generation as build_index, resumable after a crash."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import faiss
import numpy as np
import pytest

from indexer import streaming
from indexer.bm25 import BM25Index
from indexer.build import build_index
from indexer.dense import build_dense
from indexer.embed import HashingEmbedder
from indexer.errors import IndexerError
from indexer.store import current_generation
from indexer.streaming import RayEmbedding, stream_build
from indexer.streaming.workfolder import BUILDS, JOURNAL_FILE, Journal, work_folder
from indexer.tokenize import Tokenizer
from tests.conftest import CORPUS, DOC_HAIZHU, ROOT

SEED_REPORTS = sorted(CORPUS.glob("*.txt"))


class Interrupted(Exception):
    """Raised by a progress callback to stop a build mid-way, as a crash would."""


class CountingEmbedder(HashingEmbedder):
    """The fake embedder, counting the passages it is asked to embed."""

    def __init__(self):
        super().__init__()
        self.texts = 0

    def embed_passages(self, texts, batch_size: int = 32, show_progress: bool = False):
        self.texts += len(texts)
        return super().embed_passages(texts, batch_size, show_progress)


def interrupting(label: str, after: int):
    """A progress callable that raises Interrupted when the `label` loop asks for item number `after`."""
    def progress(items, name, _total):
        for position, item in enumerate(items):
            if name == label and position == after:
                raise Interrupted(f"{label} stopped after {after}")
            yield item
    return progress


def copy_corpus(folder: Path, reports=SEED_REPORTS) -> Path:
    folder.mkdir(parents=True)
    for path in reports:
        shutil.copy(path, folder)
    return folder


def generation_contents(root: Path) -> dict[str, bytes | dict]:
    """Every file of the current generation; the manifest parsed, without its build time."""
    folder = current_generation(root)
    contents: dict[str, bytes | dict] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            contents[path.relative_to(folder).as_posix()] = path.read_bytes()
    manifest = json.loads(contents.pop("manifest.json"))
    manifest.pop("created")
    contents["manifest.json"] = manifest
    return contents


def assert_same_generation(root_a: Path, root_b: Path) -> None:
    a, b = generation_contents(root_a), generation_contents(root_b)
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name] == b[name], f"{name} differs"


# ----------------------------------------------------------------------------- same output


def test_a_streaming_build_writes_the_generation_build_index_writes(tmp_path, fake_embedder):
    from service.search import Searcher

    in_memory = build_index(CORPUS, tmp_path / "memory", fake_embedder)
    streamed = stream_build(CORPUS, tmp_path / "stream", fake_embedder)
    memory_folder, stream_folder = current_generation(tmp_path / "memory"), current_generation(tmp_path / "stream")

    rows = [json.loads(line) for line in (stream_folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    expected = [json.loads(line) for line in (memory_folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["chunk_id"], r["text"], r["hash"]) for r in rows] == [(r["chunk_id"], r["text"], r["hash"]) for r in expected]
    assert (stream_folder / "tokens.jsonl").read_bytes() == (memory_folder / "tokens.jsonl").read_bytes()
    assert np.array_equal(np.load(stream_folder / "vectors.npy"), np.load(memory_folder / "vectors.npy"))
    for name in ("data", "indices", "indptr"):
        ours, theirs = np.load(stream_folder / f"bm25/bm25.{name}.npy"), np.load(memory_folder / f"bm25/bm25.{name}.npy")
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
    for name in ("sentences.offsets.npy", "sentences.npy", "sentences.hashes.npy"):
        assert np.array_equal(np.load(stream_folder / name), np.load(memory_folder / name))
    assert_same_generation(tmp_path / "memory", tmp_path / "stream")  # every other file too, byte for byte

    assert (streamed.reports, streamed.sections, streamed.chunks, streamed.embedded) == (
        in_memory.reports, in_memory.sections, in_memory.chunks, in_memory.embedded)
    searcher = Searcher.load(stream_folder, fake_embedder)
    assert searcher.search("商圈微法庭", k=1)[0].chunk.doc_id == Searcher.load(
        memory_folder, fake_embedder).search("商圈微法庭", k=1)[0].chunk.doc_id
    assert not (tmp_path / "stream" / BUILDS).exists()  # a finished build leaves no work folder


def test_a_streamed_rebuild_reuses_every_vector_of_the_current_generation(fake_index):
    before = generation_contents(fake_index)
    embedder = CountingEmbedder()
    summary = stream_build(CORPUS, fake_index, embedder)
    assert summary.embedded == 0 and summary.reused == summary.chunks > 0
    assert embedder.texts == 0  # the sentences were all reused as well
    after = generation_contents(fake_index)
    assert after["vectors.npy"] == before["vectors.npy"] and after["sentences.npy"] == before["sentences.npy"]


def test_bm25_streamed_is_bit_identical_to_build(tmp_path):
    tokenizer = Tokenizer()
    lines = [line for path in SEED_REPORTS for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    documents = [tokenizer.tokens(line) for line in lines] + [[]] + [tokenizer.tokens(lines[0])] * 3
    whole = BM25Index.build(documents, k1=1.2, b=0.7, epsilon=0.3)
    (tmp_path / "tokens.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents),
                                           encoding="utf-8")
    for streamed in (BM25Index.build_streamed(iter(documents), k1=1.2, b=0.7, epsilon=0.3, block_docs=7),
                     BM25Index.build_from_jsonl(tmp_path / "tokens.jsonl", k1=1.2, b=0.7, epsilon=0.3)):
        assert streamed.vocab == whole.vocab and streamed.avgdl == whole.avgdl and streamed.shape == whole.shape
        for name in ("data", "indices", "indptr"):
            ours, theirs = getattr(streamed, name), getattr(whole, name)
            assert ours.dtype == theirs.dtype and ours.tobytes() == theirs.tobytes(), name
    with pytest.raises(ValueError, match="at least one document"):
        BM25Index.build_streamed(iter([]))


def test_build_dense_uses_a_memmap_as_it_is_and_adds_ivf_vectors_in_batches(tmp_path, monkeypatch):
    vectors = np.random.default_rng(5).standard_normal((2000, 16)).astype(np.float32)
    np.save(tmp_path / "vectors.npy", vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    mapped = np.load(tmp_path / "vectors.npy", mmap_mode="r")
    assert np.shares_memory(build_dense(mapped).vectors, mapped)  # flat: no copy of the map
    at_once = faiss.serialize_index(build_dense(mapped, exact_limit=100).index)
    monkeypatch.setattr("indexer.dense.ADD_BATCH", 300)
    in_batches = build_dense(mapped, exact_limit=100)
    assert np.shares_memory(in_batches.vectors, mapped) and in_batches.params["kind"] == "ivf"
    assert bytes(faiss.serialize_index(in_batches.index)) == bytes(at_once)


# ----------------------------------------------------------------------------- resuming


@pytest.fixture()
def previous_index(tmp_path, fake_embedder) -> Path:
    """An index of two of the seed reports: current while a build of all five is interrupted."""
    corpus = copy_corpus(tmp_path / "two", SEED_REPORTS[:2])
    root = tmp_path / "index"
    build_index(corpus, root, fake_embedder)
    return root


@pytest.mark.parametrize("label, after", [
    ("reading", 2), ("embedding", 2), ("embedding sentences", 3), ("tokenising", 50),
])
def test_an_interrupted_build_keeps_the_index_current_and_resumes_where_it_stopped(
        tmp_path, previous_index, monkeypatch, label, after):
    corpus = copy_corpus(tmp_path / "corpus")
    reference = Path(shutil.copytree(previous_index, tmp_path / "reference", symlinks=True))
    clean = CountingEmbedder()
    stream_build(corpus, reference, clean)

    processed = []
    original = streaming.reading.process_report
    monkeypatch.setattr(streaming.reading, "process_report",
                        lambda doc_id, source: processed.append(doc_id) or original(doc_id, source))
    before = current_generation(previous_index)
    first = CountingEmbedder()
    with pytest.raises(Interrupted):
        stream_build(corpus, previous_index, first, interrupting(label, after), checkpoint_seconds=3600)
    assert current_generation(previous_index) == before  # still serving the previous generation
    assert (work_folder(previous_index, corpus) / JOURNAL_FILE).is_file()
    read_first = len(processed)

    rerun = CountingEmbedder()
    summary = stream_build(corpus, previous_index, rerun)
    assert summary.resumed and "resumed" in "\n".join(summary.lines())
    assert first.texts + rerun.texts == clean.texts  # nothing embedded twice
    if label == "reading":
        assert read_first == after and len(processed) - read_first == len(SEED_REPORTS) - after
    else:
        assert len(processed) == len(SEED_REPORTS) and 0 < first.texts and rerun.texts < clean.texts
    assert_same_generation(previous_index, reference)
    assert not (previous_index / BUILDS).exists()


def test_a_build_killed_with_sigkill_resumes_and_equals_a_clean_build(tmp_path, previous_index):
    corpus = copy_corpus(tmp_path / "corpus")
    reference = Path(shutil.copytree(previous_index, tmp_path / "reference", symlinks=True))
    clean = CountingEmbedder()
    stream_build(corpus, reference, clean)
    script = textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from indexer.embed import HashingEmbedder
        from indexer.streaming import stream_build

        class Slow(HashingEmbedder):
            def embed_passages(self, texts, batch_size=32, show_progress=False):
                time.sleep(0.3)
                return super().embed_passages(texts, batch_size, show_progress)

        stream_build(Path(sys.argv[1]), Path(sys.argv[2]), Slow(), checkpoint_seconds=0)
    """)
    before = current_generation(previous_index)
    journal_path = work_folder(previous_index, corpus) / JOURNAL_FILE
    process = subprocess.Popen([sys.executable, "-c", script, str(corpus), str(previous_index)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            journal = Journal.load(journal_path) if journal_path.is_file() else None
            if journal is not None and journal.chunk_vectors.rows > 0:
                break
            assert process.poll() is None, "the build ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("the build wrote no vectors in 60 s")
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert current_generation(previous_index) == before

    rerun = CountingEmbedder()
    summary = stream_build(corpus, previous_index, rerun)
    assert summary.resumed and rerun.texts < clean.texts
    assert_same_generation(previous_index, reference)


def test_a_changed_corpus_is_built_afresh_not_resumed(tmp_path, previous_index, fake_embedder):
    corpus = copy_corpus(tmp_path / "corpus", SEED_REPORTS[:4])
    with pytest.raises(Interrupted):
        stream_build(corpus, previous_index, fake_embedder, interrupting("embedding", 1), checkpoint_seconds=3600)
    shutil.copy(CORPUS / f"{DOC_HAIZHU}.txt", corpus)
    summary = stream_build(corpus, previous_index, fake_embedder)
    assert not summary.resumed and summary.reports == 5
    build_index(corpus, tmp_path / "reference", fake_embedder)
    assert generation_contents(previous_index)["chunks.jsonl"] == generation_contents(tmp_path / "reference")["chunks.jsonl"]


# ----------------------------------------------------------------------------- bad input


def test_unreadable_files_are_skipped_with_their_reason(tmp_path, fake_embedder):
    corpus = copy_corpus(tmp_path / "corpus", [CORPUS / f"{DOC_HAIZHU}.txt"])
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    shutil.copy(CORPUS / f"{DOC_HAIZHU}.txt", corpus / "copy.txt")
    streamed = stream_build(corpus, tmp_path / "stream", fake_embedder)
    in_memory = build_index(corpus, tmp_path / "memory", fake_embedder)
    assert streamed.reports == 1
    assert {s["file"] for s in streamed.skipped} == {"empty.txt", "image.txt", "copy.txt"}
    assert streamed.skipped == in_memory.skipped and all(s["reason"].endswith(".") for s in streamed.skipped)
    assert_same_generation(tmp_path / "stream", tmp_path / "memory")


def test_a_corpus_with_nothing_readable_is_an_error_that_leaves_no_work_behind(tmp_path, previous_index, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "scan.txt").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    before = current_generation(previous_index)
    with pytest.raises(IndexerError, match=r"nothing to index.*scan\.txt"):
        stream_build(corpus, previous_index, fake_embedder)
    assert current_generation(previous_index) == before and not (previous_index / BUILDS).exists()
    with pytest.raises(IndexerError, match="does not exist"):
        stream_build(tmp_path / "nowhere", previous_index, fake_embedder)


# ----------------------------------------------------------------------------- Ray and the CLI


@pytest.fixture()
def fake_ray(monkeypatch):
    """distributed_embed.embed_texts replaced by the fake embedder; the calls it got are recorded."""
    calls = []

    def embed_texts(texts, model_name, cache_dir, target, workdir):
        calls.append({"texts": len(texts), "model": model_name, "target": target, "workdir": Path(workdir)})
        return HashingEmbedder().embed_passages(texts)

    monkeypatch.setattr("indexer.distributed_embed.embed_texts", embed_texts)
    return calls


def test_with_a_ray_target_batches_go_to_distributed_embed(tmp_path, fake_ray, fake_embedder):
    from indexer.distributed_embed import RayTarget

    target = RayTarget(workers=2)
    summary = stream_build(CORPUS, tmp_path / "ray", fake_embedder, ray=RayEmbedding(target, "fake-hashing", tmp_path))
    build_index(CORPUS, tmp_path / "local", fake_embedder)
    assert_same_generation(tmp_path / "ray", tmp_path / "local")
    assert len(fake_ray) == 2  # one batch of passages, one of sentences: both fit in RAY_BATCH texts
    assert fake_ray[0]["texts"] == summary.chunks and all(c["target"] is target for c in fake_ray)
    assert all(c["workdir"].is_relative_to(tmp_path / "ray" / BUILDS) for c in fake_ray)


def test_the_cli_streams_when_asked_and_when_embedding_on_ray(tmp_path, capsys, fake_ray):
    from indexer.__main__ import main

    root = tmp_path / "index"
    assert main(["--index", str(root), "--model", "fake-hashing", "build", "--corpus", str(CORPUS), "--stream"]) == 0
    assert "5 reports" in capsys.readouterr().out and not fake_ray
    assert main(["--index", str(tmp_path / "on-ray"), "--model", "fake-hashing", "build", "--corpus", str(CORPUS),
                 "--workers", "2"]) == 0
    assert "5 reports" in capsys.readouterr().out
    assert [(c["model"], c["target"].workers) for c in fake_ray] == [("fake-hashing", 2)] * 2
    with pytest.raises(SystemExit):
        main(["--index", str(root), "build", "--workers", "2", "--ray", "auto"])
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_large_corpus_streams_by_default_and_a_small_one_builds_in_memory(tmp_path, fake_embedder, monkeypatch):
    from indexer import build_choice
    from indexer.__main__ import _parser, _streams

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    assert 0 < build_choice.corpus_bytes(corpus) < build_choice.STREAM_FROM_BYTES
    assert not build_choice.streams_by_default(corpus)
    args = _parser().parse_args(["build", "--corpus", str(corpus)])
    assert not _streams(args) and _streams(_parser().parse_args(["build", "--corpus", str(corpus), "--stream"]))

    monkeypatch.setattr(build_choice, "STREAM_FROM_BYTES", 1000)  # the seed corpus is now "large"
    assert build_choice.streams_by_default(corpus) and _streams(args)
    assert not _streams(_parser().parse_args(["build", "--corpus", str(corpus), "--in-memory"]))
    calls = []

    def spy(*args, **kwargs):
        calls.append(args[0])
        return stream_build(*args, **kwargs)

    monkeypatch.setattr(streaming, "stream_build", spy)
    summary = build_choice.build_corpus(corpus, tmp_path / "index", fake_embedder)
    assert calls == [corpus]  # it streamed
    assert summary.reports == 5 and current_generation(tmp_path / "index") is not None
    assert build_choice.build_corpus(corpus, tmp_path / "index2", fake_embedder, stream=False).reports == 5
    assert calls == [corpus]  # asked for in memory: it did not stream
