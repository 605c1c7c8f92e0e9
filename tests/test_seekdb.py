"""seekdb as a search store, against a real seekdb server: loading, BM25, vectors, filters, outages."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from indexer.normalize import normalize
from indexer.store import current_generation, open_generation
from indexer.tokenize import Tokenizer
from tests.conftest import CORPUS, DOC_YUEHAI

# The seekdb server ships in the pylibseekdb wheel; it is found, not imported.
for package in ("pylibseekdb", "pymysql"):
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed, so there is no seekdb to test against; "
                    "install pylibseekdb==1.4.0.post1 and PyMySQL from requirements.txt.", allow_module_level=True)

from indexer.seekdb import (  # after the skip, since it needs pymysql
    EngineUnavailable,
    SeekdbConfig,
    SeekdbStore,
    Where,
    fulltext_word,
    start_local_engine,
)

pytestmark = pytest.mark.slow
HOSTILE = "' OR 1=1 --"


@pytest.fixture(scope="module")
def generation(tmp_path_factory) -> Path:
    """A generation of corpus/ built with the fast fake embedder (64-dimensional vectors)."""
    from indexer.build import build_index
    from indexer.embed import HashingEmbedder

    root = tmp_path_factory.mktemp("seekdb-index") / "index"
    build_index(CORPUS, root, HashingEmbedder())
    return current_generation(root)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = start_local_engine(tmp_path_factory.mktemp("seekdb") / "data")
    yield engine
    engine.stop()


def _loaded_store(address: str, folder: Path, partitions: int = 0) -> SeekdbStore:
    store = SeekdbStore(SeekdbConfig(address=address, database=f"fazhi_p{partitions}", partitions=partitions))
    store.create_schema(np.load(folder / "vectors.npy", mmap_mode="r").shape[1])
    store.load_generation(folder, batch=7)  # small batches, so several are written
    return store


# Every query test runs on one table and on a table hash-partitioned by report, as an OceanBase
# cluster would hold it.
@pytest.fixture(scope="module", params=[0, 4], ids=["one-table", "4-partitions"])
def store(engine, generation, request):
    store = _loaded_store(engine.address, generation, request.param)
    yield store
    store.close()


@pytest.fixture(scope="module")
def chunks(generation):
    return open_generation(generation).chunks


def _tokens(generation: Path, text: str) -> list[str]:
    return Tokenizer(open_generation(generation).manifest["domain_terms"]).tokens(normalize(text).text)


def test_every_chunk_and_report_is_read_back_as_it_was_built(store, generation, chunks):
    read = store.chunks(list(range(len(chunks) + 1)))
    assert sorted(read) == list(range(len(chunks)))  # the row past the end is not there
    assert [read[row] for row in range(len(chunks))] == list(chunks)  # every field of every Chunk
    reports = open_generation(generation).reports
    assert store.report_metas() == dict(reports.metas())
    assert all(store.report_record(doc_id) == reports[doc_id] for doc_id in reports)
    assert store.report_record("no-such-report") is None


def test_the_chunks_table_is_partitioned_as_configured(store):
    assert store.partitions_of("chunks") == store.config.partitions


def test_chunks_of_no_rows_is_empty(store):
    assert store.chunks([]) == {}


def test_the_configured_ef_search_is_what_the_engine_uses(engine):
    for ef in (64, 333):
        probe = SeekdbStore(SeekdbConfig(address=engine.address, hnsw_ef_search=ef))
        try:
            assert probe.variable("ob_hnsw_ef_search") == str(ef)
        finally:
            probe.close()
    with pytest.raises(ValueError, match="positive number"):
        SeekdbConfig(hnsw_ef_search=0)


def test_bm25_puts_a_chunk_with_the_distinctive_term_first(store, generation):
    hits = store.bm25_top_k(_tokens(generation, "商圈微法庭"), 5)
    assert hits and [score for _, score in hits] == sorted((score for _, score in hits), reverse=True)
    first = store.chunks([hits[0][0]])[hits[0][0]]
    assert "商圈微法庭" in first.text and first.doc_id == DOC_YUEHAI


def test_bm25_of_no_tokens_is_empty(store):
    assert store.bm25_top_k([], 5) == []


def test_dense_puts_the_chunk_of_its_own_vector_first(store, generation):
    vectors = np.load(generation / "vectors.npy")
    similar = vectors @ vectors.T
    np.fill_diagonal(similar, 0)
    distinct = [row for row in range(len(vectors)) if similar[row].max() < 0.99]  # no near-copy to tie with
    for row in distinct[::max(1, len(distinct) // 5)]:
        best_row, similarity = store.dense_top_k(vectors[row], 3)[0]
        assert best_row == row and similarity == pytest.approx(1.0, abs=1e-4)


def test_filters_keep_to_the_issuer_asked(store, generation):
    metas = store.report_metas()
    issuer = metas[DOC_YUEHAI]["issuer"]
    docs_of_issuer = {doc_id for doc_id, meta in metas.items() if meta["issuer"] == issuer}
    vector = np.load(generation / "vectors.npy")[-1]  # a chunk of another report
    where = Where(issuer=issuer)
    for hits in (store.bm25_top_k(_tokens(generation, "法治政府建设"), 10, where), store.dense_top_k(vector, 10, where)):
        assert len(hits) == 10
        assert {chunk.doc_id for chunk in store.chunks([row_id for row_id, _ in hits]).values()} <= docs_of_issuer


def test_year_level_and_region_filters_combine(store, generation):
    meta = store.report_metas()[DOC_YUEHAI]
    where = Where(level=meta["level"], region=meta["district"], year=meta["year"])
    hits = store.dense_top_k(np.load(generation / "vectors.npy")[0], 5, where)
    assert hits and {chunk.doc_id for chunk in store.chunks([r for r, _ in hits]).values()} == {DOC_YUEHAI}
    assert store.dense_top_k(np.load(generation / "vectors.npy")[0], 5, Where(year=1900)) == []


def test_a_hostile_filter_value_matches_nothing_and_harms_nothing(store, generation, chunks):
    vector = np.load(generation / "vectors.npy")[0]
    assert store.dense_top_k(vector, 5, Where(issuer=HOSTILE)) == []
    assert store.bm25_top_k(_tokens(generation, "法治"), 5, Where(region=HOSTILE)) == []
    assert store.bm25_top_k([HOSTILE, "'); DROP TABLE chunks; --"], 5) == []
    assert len(store.chunks(list(range(len(chunks))))) == len(chunks)


def test_fulltext_words_are_single_distinct_words_the_parser_keeps():
    tokens = ["法治", "商圈微法庭", "2024", "99.9%", "the", "i深圳", "法" * 90, "a" * 50, HOSTILE]
    words = [fulltext_word(token) for token in tokens]
    assert words[:2] == ["法治", "商圈微法庭"] and words[5] == "i深圳"
    assert len(set(words)) == len(words)
    assert all(word.isalnum() and len(word) <= 84 for word in words)


def test_a_stopped_engine_is_reported_then_used_again_once_restarted(tmp_path, generation):
    engine = start_local_engine(tmp_path / "data")
    try:
        store = _loaded_store(engine.address, generation)
        tokens = _tokens(generation, "商圈微法庭")
        expected = store.bm25_top_k(tokens, 3)
        engine.stop()
        engine.stop()  # stopping twice is harmless
        with pytest.raises(EngineUnavailable, match=rf"^The seekdb engine at {engine.address} does not answer .*\.$"):
            store.bm25_top_k(tokens, 3)
        assert store.ping() is False
        engine = start_local_engine(engine.data_dir, engine.port)
        assert store.bm25_top_k(tokens, 3) == expected
        assert store.ping() is True
        store.close()
    finally:
        engine.stop()


def test_without_an_address_the_store_starts_and_stops_its_own_engine(tmp_path):
    store = SeekdbStore.connect(SeekdbConfig(data_dir=tmp_path / "data"))
    assert store.engine is not None and store.ping()
    store.close()
    assert store.engine.process.poll() is not None


def test_a_data_directory_in_use_fails_with_a_sentence_and_leaves_its_engine_alone(engine, store):
    with pytest.raises(EngineUnavailable, match=r"^seekdb exited .* another seekdb may be using that directory"):
        start_local_engine(engine.data_dir)
    assert store.ping() and store.chunks([0])


def test_a_generation_loaded_with_other_partitions_is_loaded_again(engine, generation):
    from dataclasses import replace

    from indexer.seekdb.generations import database_for, ensure_loaded

    config = SeekdbConfig(address=engine.address)
    chunks = ensure_loaded(config, generation)
    for partitions in (2, 2, 0):  # the second 2 finds its own finished load and keeps it
        assert ensure_loaded(replace(config, partitions=partitions), generation) == chunks
        probe = SeekdbStore(replace(config, database=database_for(generation)))
        try:
            assert probe.partitions_of("chunks") == partitions
            assert probe.load_mark() == (chunks, probe.load_mark()[1], partitions)
        finally:
            probe.close()


def test_every_load_and_reopen_warms_the_vector_index_under_the_load_timeout(engine, generation, monkeypatch):
    # At 1M chunks the first vector search after a load ran past the 10 s timeout requests have.
    from indexer.seekdb import generations

    warmed = []
    real = generations.warm_up
    monkeypatch.setattr(generations, "warm_up",
                        lambda store, folder: warmed.append(store.config.statement_timeout) or real(store, folder))
    config = SeekdbConfig(address=engine.address, partitions=3)  # a layout no other test loaded: a fresh load
    generations.ensure_loaded(config, generation)
    generations.ensure_loaded(config, generation)  # finds its finished load
    assert warmed == [generations.LOAD_STATEMENT_TIMEOUT] * 2


@pytest.mark.parametrize("variable, value", [
    ("FAZHI_SEEKDB_PARTITIONS", "many"), ("FAZHI_SEEKDB_PARTITIONS", "-4"), ("FAZHI_SEEKDB_EF_SEARCH", "0"),
])
def test_a_bad_engine_setting_is_a_sentence_naming_it(monkeypatch, tmp_path, variable, value):
    from indexer.seekdb.engine import EngineSettingError
    from indexer.seekdb.generations import engine_config

    monkeypatch.setenv(variable, value)
    with pytest.raises(EngineSettingError, match=f"^{variable} must be a whole number of at least"):
        engine_config("127.0.0.1:1", tmp_path)


def test_engine_settings_come_from_the_environment(monkeypatch, tmp_path):
    from indexer.seekdb.generations import engine_config

    monkeypatch.setenv("FAZHI_SEEKDB_PARTITIONS", "16")
    monkeypatch.setenv("FAZHI_SEEKDB_EF_SEARCH", "640")
    config = engine_config("127.0.0.1:1", tmp_path)
    assert (config.partitions, config.hnsw_ef_search, config.address) == (16, 640, "127.0.0.1:1")


def test_the_statement_timeout_is_set_on_the_engine_and_loads_get_a_long_one(engine):
    from indexer.seekdb.generations import LOAD_STATEMENT_TIMEOUT

    probe = SeekdbStore(SeekdbConfig(address=engine.address, statement_timeout=2.5))
    try:
        assert probe.variable("ob_query_timeout") == "2500000" and probe.variable("ob_trx_timeout") == "2500000"
    finally:
        probe.close()
    assert LOAD_STATEMENT_TIMEOUT >= 300  # a batch on a busy engine outlasts the engine's default 10 s
