"""Index build, reuse of embeddings, add and remove, atomic generations (fake embedder)."""
import json
import shutil

import pytest

from indexer.build import add_files, build_index, remove_reports
from indexer.errors import IndexerError, IndexMismatch, CorruptIndex
from indexer.store import current_generation, read_current
from tests.conftest import CORPUS, DOC_HAIZHU


def test_build_writes_a_complete_generation(fake_index):
    data = read_current(fake_index)
    assert data.manifest["counts"]["reports"] == 5
    assert data.manifest["model"]["name"] == "fake-hashing"
    assert len(data.chunks) == len(data.vectors) == len(data.tokens) > 100
    assert "商圈微法庭" in data.manifest["domain_terms"]
    assert set(data.manifest["files"]) >= {"chunks.jsonl", "vectors.npy", "dense.faiss", "reports.jsonl"}


def test_rebuilding_an_unchanged_corpus_embeds_nothing(fake_index, fake_embedder):
    summary = build_index(CORPUS, fake_index, fake_embedder)
    assert summary.embedded == 0 and summary.reused == summary.chunks > 0


def test_add_embeds_only_the_new_report(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted(CORPUS.glob("*.txt"))[:4]:
        shutil.copy(path, corpus)
    root = tmp_path / "index"
    build_index(corpus, root, fake_embedder)
    summary = add_files(root, [CORPUS / f"{DOC_HAIZHU}.txt"], fake_embedder)
    assert [a["doc_id"] for a in summary.added] == [DOC_HAIZHU]
    assert summary.embedded == summary.added[0]["chunks"] and summary.reused > 0
    again = add_files(root, [CORPUS / f"{DOC_HAIZHU}.txt"], fake_embedder)
    assert again.added == [] and "same content" in again.skipped[0]["reason"]


def test_remove_drops_a_report_and_unknown_ids_change_nothing(fake_index, fake_embedder):
    before = current_generation(fake_index)
    with pytest.raises(IndexerError, match="no report with the id"):
        remove_reports(fake_index, ["nope"], fake_embedder)
    assert current_generation(fake_index) == before
    remove_reports(fake_index, [DOC_HAIZHU], fake_embedder)
    data = read_current(fake_index)
    assert DOC_HAIZHU not in data.reports and all(c.doc_id != DOC_HAIZHU for c in data.chunks)


def test_unreadable_files_are_skipped_with_a_reason(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / f"{DOC_HAIZHU}.txt", corpus)
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    summary = build_index(corpus, tmp_path / "index", fake_embedder)
    assert summary.reports == 1
    assert {s["file"] for s in summary.skipped} == {"empty.txt", "image.txt"}
    assert all(s["reason"].endswith(".") for s in summary.skipped)


def test_an_index_of_another_model_is_refused(fake_index, embedder):
    with pytest.raises(IndexMismatch, match="fake-hashing"):
        add_files(fake_index, [CORPUS / f"{DOC_HAIZHU}.txt"], embedder)


def test_a_corrupted_file_is_detected(fake_index):
    folder = current_generation(fake_index)
    path = folder / "chunks.jsonl"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CorruptIndex, match="checksum"):
        read_current(fake_index)


def test_the_cli_builds_and_reports_stats(tmp_path, capsys, monkeypatch):
    from indexer.__main__ import main

    root = tmp_path / "index"
    assert main(["--index", str(root), "--model", "fake-hashing", "build", "--corpus", str(CORPUS)]) == 0
    assert "5 reports" in capsys.readouterr().out
    assert main(["--index", str(root), "stats"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert {r["issuer"] for r in stats["reports"]} == {"粤海街道", "天水郡街道", "翠苑街道", "坦洲镇", "海珠区"}
    assert main(["--index", str(tmp_path / "none"), "stats"]) == 1
    assert "no index" in capsys.readouterr().err


def test_a_corpus_with_nothing_readable_is_an_error_that_names_the_files(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "scan.txt").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF")
    with pytest.raises(IndexerError, match=r"nothing to index.*scan\.txt"):
        build_index(corpus, tmp_path / "index", fake_embedder)
    assert current_generation(tmp_path / "index") is None


def test_removing_every_report_is_refused_and_the_index_kept(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / f"{DOC_HAIZHU}.txt", corpus)
    build_index(corpus, tmp_path / "index", fake_embedder)
    before = current_generation(tmp_path / "index")
    with pytest.raises(IndexerError, match="nothing to index"):
        remove_reports(tmp_path / "index", [DOC_HAIZHU], fake_embedder)
    assert current_generation(tmp_path / "index") == before
