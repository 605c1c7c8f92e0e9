"""A sentence-transformers model named by local path works end to end, and the index remembers it."""
import pytest

from indexer.build import build_index
from indexer.e5_convert import ensure_converted
from indexer.embed import load_embedder
from indexer.errors import IndexMismatch
from indexer.store import current_generation
from service.search import Searcher
from tests.conftest import CORPUS, DOC_HAIZHU, MODEL_CACHE


@pytest.fixture(scope="module")
def by_path():
    path = ensure_converted(MODEL_CACHE)
    return load_embedder(str(path), MODEL_CACHE)


def test_a_model_named_by_path_uses_its_own_prompts(by_path, embedder):
    assert by_path.name == str(ensure_converted(MODEL_CACHE))
    assert by_path.dim == 384
    query = by_path.embed_queries(["宪法主题公园"])[0]
    assert float(query @ embedder.embed_queries(["宪法主题公园"])[0]) > 0.999


def test_an_index_built_with_it_is_searchable_and_refused_by_another_model(tmp_path, by_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / f"{DOC_HAIZHU}.txt").write_bytes((CORPUS / f"{DOC_HAIZHU}.txt").read_bytes())
    root = tmp_path / "index"
    build_index(corpus, root, by_path)
    searcher = Searcher.load(current_generation(root), by_path)
    assert searcher.search("宪法主题公园", k=1, mode="dense")[0].chunk.doc_id == DOC_HAIZHU
    with pytest.raises(IndexMismatch, match="fake-hashing"):
        Searcher.load(current_generation(root), fake_embedder)
