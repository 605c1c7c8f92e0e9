"""BM25Index scores like rank-bm25, ranks deterministically and survives a save/load round trip."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from indexer.bm25 import ARRAY_FILES, MATRIX_FILE, PARAMS_FILE, VOCAB_FILE, BM25Index
from indexer.errors import CorruptIndex
from indexer.tokenize import Tokenizer
from tests.conftest import SHARED

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DEV_SEARCH = SHARED / "eval" / "dev_search.jsonl"
OUR_SEARCH = Path(__file__).resolve().parents[1] / "bench" / "data" / "search_cases.jsonl"

EXTRA_QUERIES = [
    "法治 法治 法治",  # repeated token: each occurrence counts
    "法治",  # in more than half the lines: negative idf, epsilon floor
    "工作 建设 街道",
    "量子 引力 黑洞",  # unknown everywhere
    "区块链 法治 夸克 法治",  # unknown mixed with known and repeated
    "商圈微法庭",
    "枫桥经验 法律明白人",
    "行政复议 调撤率",
    "一照通行 改革 试点",
    "综合行政执法委员会",
    "2023年 法治政府建设 年度报告",
    "网格事件办结率99.9%",
    "公共法律服务",
    "",  # empty query
]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer()


@pytest.fixture(scope="module")
def corpus_tokens(tokenizer: Tokenizer) -> list[list[str]]:
    lines = [
        line
        for path in sorted(CORPUS.glob("*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [tokenizer.tokens(line) for line in lines]


@pytest.fixture(scope="module")
def queries(tokenizer: Tokenizer) -> list[list[str]]:
    texts = list(EXTRA_QUERIES)
    # Our own cases are always here; the dev set is added when ../shared is beside the checkout.
    for path in (OUR_SEARCH, DEV_SEARCH):
        if path.exists():
            texts += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [tokenizer.tokens(text) for text in texts]


def test_corpus_has_terms_with_negative_idf(corpus_tokens):
    n = len(corpus_tokens)
    in_docs = sum("法治" in tokens for tokens in corpus_tokens)
    assert in_docs > n / 2, "the epsilon-floor case needs a term found in most lines"


def test_scores_equal_rank_bm25_on_real_corpus(corpus_tokens, queries):
    assert len(queries) >= 24
    ours = BM25Index.build(corpus_tokens)
    theirs = BM25Okapi(corpus_tokens, k1=1.5, b=0.75, epsilon=0.25)
    for query in queries:
        expected = theirs.get_scores(query)
        got = ours.scores(query)
        assert got.dtype == np.float32 and got.shape == (len(corpus_tokens),)
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6, err_msg=f"query {query}")


@pytest.mark.parametrize("k1,b,epsilon", [(1.2, 0.5, 0.1), (2.0, 0.9, 0.5), (0.9, 0.0, 0.25)])
def test_scores_equal_rank_bm25_with_other_parameters(corpus_tokens, k1, b, epsilon):
    ours = BM25Index.build(corpus_tokens, k1=k1, b=b, epsilon=epsilon)
    theirs = BM25Okapi(corpus_tokens, k1=k1, b=b, epsilon=epsilon)
    for query in (["法治", "法治", "行政"], ["街道", "调撤率"], ["工作"]):
        np.testing.assert_allclose(ours.scores(query), theirs.get_scores(query), rtol=1e-5, atol=1e-6)


def test_rows_with_a_token_are_its_postings(corpus_tokens):
    index = BM25Index.build(corpus_tokens)
    for token in ("行政复议", "街道", "法治"):
        want = [i for i, doc in enumerate(corpus_tokens) if token in doc]
        assert want and index.rows_with(token).tolist() == want
    assert index.rows_with("不在词表里的词").tolist() == []


def test_negative_idf_uses_epsilon_floor():
    docs = [["a", "b"], ["a", "c"], ["a", "d"], ["e"]]  # "a" in 3 of 4 docs
    index = BM25Index.build(docs)
    theirs = BM25Okapi(docs)
    assert theirs.idf["a"] > 0  # rank-bm25 replaced the negative idf
    np.testing.assert_allclose(index.scores(["a"]), theirs.get_scores(["a"]), rtol=1e-6)
    assert index.scores(["a"])[3] == 0


def test_empty_document_scores_zero_even_with_full_length_normalisation():
    # rank-bm25 gives NaN here (0/0 for an empty document when b=1); a score of 0 is meant.
    index = BM25Index.build([["x", "y"], [], ["y"]], b=1.0)
    scores = index.scores(["x", "y"])
    assert np.isfinite(scores).all() and scores[1] == 0


def test_repeated_query_token_counts_each_time():
    index = BM25Index.build([["x", "y"], ["y", "z"], ["w"]])
    once = index.scores(["x"])
    np.testing.assert_allclose(index.scores(["x", "x", "x"]), 3 * once, rtol=1e-6)


def test_unknown_tokens_score_zero():
    index = BM25Index.build([["x", "y"], ["y", "z"]])
    assert not index.scores(["nope", "missing"]).any()
    np.testing.assert_array_equal(index.scores(["x", "nope"]), index.scores(["x"]))


def test_top_k_orders_by_score_then_lower_index():
    # Docs 1, 3 and 4 are identical, so they tie; doc 0 scores higher (shorter).
    docs = [["t"], ["t", "u"], ["v"], ["t", "u"], ["t", "u"], ["w", "w"]]
    index = BM25Index.build(docs)
    ids, scores = index.top_k(["t"], 3)
    assert ids.tolist() == [0, 1, 3]
    assert scores[0] > scores[1] == scores[2]
    ids, _ = index.top_k(["t"], 10)
    assert ids.tolist() == [0, 1, 3, 4]  # documents without a query term are not hits


def test_top_k_tie_break_holds_at_the_cut():
    # Hundreds of documents tie at the k-th place; the lowest indices among them win.
    docs = [["t", "u"]] * 300 + [["v", "w"]] * 700
    docs[211] = ["t"]
    ids, _ = BM25Index.build(docs).top_k(["t"], 5)
    assert ids.tolist() == [211, 0, 1, 2, 3]


def test_top_k_mask_filters_before_the_cut():
    docs = [["t"], ["t", "u"], ["v"], ["t", "u"], ["t", "u"], ["t", "x", "y"]]
    index = BM25Index.build(docs)
    mask = np.array([False, False, True, False, True, True])
    ids, scores = index.top_k(["t"], 2, mask=mask)
    assert ids.tolist() == [4, 5]
    np.testing.assert_array_equal(scores, index.scores(["t"])[[4, 5]])


def test_top_k_matches_full_sort_on_real_corpus(corpus_tokens, queries):
    index = BM25Index.build(corpus_tokens)
    for query in queries:
        scores = index.scores(query)
        expected = [i for i in sorted(range(len(scores)), key=lambda i: (-scores[i], i)) if scores[i] > 0][:7]
        ids, top = index.top_k(query, 7)
        assert ids.tolist() == expected
        np.testing.assert_array_equal(top, scores[ids])


def test_top_k_rejects_a_bad_mask():
    index = BM25Index.build([["a"], ["b"]])
    with pytest.raises(ValueError, match="boolean array of length 2"):
        index.top_k(["a"], 1, mask=np.array([1, 0]))
    with pytest.raises(ValueError, match="boolean array of length 2"):
        index.top_k(["a"], 1, mask=np.array([True, False, True]))


def test_build_rejects_empty_corpus():
    with pytest.raises(ValueError, match="at least one document"):
        BM25Index.build([])


def test_save_load_round_trip(tmp_path, corpus_tokens, queries):
    index = BM25Index.build(corpus_tokens, k1=1.2, b=0.7, epsilon=0.3)
    index.save(tmp_path)
    params = json.loads((tmp_path / PARAMS_FILE).read_text(encoding="utf-8"))
    assert params["format_version"] == 2 and params["n_docs"] == len(corpus_tokens) and params["k1"] == 1.2
    loaded = BM25Index.load(tmp_path)
    assert (loaded.k1, loaded.b, loaded.epsilon, loaded.avgdl) == (1.2, 0.7, 0.3, index.avgdl)
    assert loaded.vocab == index.vocab
    # The weights stay on disk, mapped: a query pages in only its terms' columns.
    assert all(isinstance(a, np.memmap) for a in (loaded.data, loaded.indices, loaded.indptr))
    for query in queries:
        np.testing.assert_array_equal(loaded.scores(query), index.scores(query))
        np.testing.assert_array_equal(loaded.top_k(query, 5)[0], index.top_k(query, 5)[0])


def test_reads_version_1_npz(tmp_path, corpus_tokens, queries):
    index = BM25Index.build(corpus_tokens)
    index.save(tmp_path)
    params = json.loads((tmp_path / PARAMS_FILE).read_text(encoding="utf-8"))
    params["format_version"] = 1
    (tmp_path / PARAMS_FILE).write_text(json.dumps(params), encoding="utf-8")
    np.savez(tmp_path / MATRIX_FILE, data=index.data, indices=index.indices, indptr=index.indptr,
             shape=np.array(index.shape, dtype=np.int64))
    for name in ARRAY_FILES.values():
        (tmp_path / name).unlink()
    loaded = BM25Index.load(tmp_path)
    for query in queries:
        np.testing.assert_array_equal(loaded.scores(query), index.scores(query))


def test_build_is_deterministic(corpus_tokens, tmp_path):
    BM25Index.build(corpus_tokens).save(tmp_path / "a")
    BM25Index.build(list(corpus_tokens)).save(tmp_path / "b")
    for name in (PARAMS_FILE, VOCAB_FILE):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    for name in ARRAY_FILES.values():
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_load_rejects_other_version_and_missing_files(tmp_path):
    BM25Index.build([["a", "b"], ["b"]]).save(tmp_path)
    params = json.loads((tmp_path / PARAMS_FILE).read_text(encoding="utf-8"))
    params["format_version"] = 99
    (tmp_path / PARAMS_FILE).write_text(json.dumps(params), encoding="utf-8")
    with pytest.raises(CorruptIndex, match="version 99"):
        BM25Index.load(tmp_path)
    params["format_version"] = 2
    (tmp_path / PARAMS_FILE).write_text(json.dumps(params), encoding="utf-8")
    (tmp_path / ARRAY_FILES["indices"]).unlink()
    with pytest.raises(CorruptIndex, match="cannot be read"):
        BM25Index.load(tmp_path)
