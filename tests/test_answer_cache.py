"""Answers are kept per index generation: the same question is answered once, a changed one anew."""
import numpy as np
import pytest

from indexer.sentence_vectors import SentenceVectors
from indexer.vector_file import VectorFile
from service.answer import Answerer
from service.answer.answer_cache import AnswerCache
from service.search import Filters


def test_the_lru_keeps_the_most_recent_and_counts_hits():
    cache = AnswerCache(2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # a is now the most recent
    cache.put("c", "C")
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("c") == "C"
    assert (cache.hits, cache.misses, len(cache)) == (3, 1, 2)
    with pytest.raises(ValueError, match="0 or more"):
        AnswerCache(-1)


def test_size_zero_keeps_nothing():
    cache = AnswerCache(0)
    cache.put("a", "A")
    assert cache.get("a") is None and len(cache) == 0


def test_keys_differ_by_filters_and_places_set_aside():
    base = AnswerCache.key("哪些地方推行简案快办？", "哪些地方推行简案快办？", {}, ())
    assert base != AnswerCache.key("哪些地方推行简案快办？", "哪些地方推行简案快办？", {"year": 2024}, ())
    assert base != AnswerCache.key("哪些地方推行简案快办？", "哪些地方推行简案快办？", {}, ("坦洲镇",))
    assert base != AnswerCache.key("还有哪里？", "哪些地方推行简案快办？", {}, ())


def test_the_same_question_is_served_from_the_cache_and_equals_a_fresh_answer(searcher):
    answerer = Answerer(searcher)
    first = answerer.answer("哪些地方推行“容缺受理”？")
    again = answerer.answer("哪些地方推行“容缺受理”？")
    assert again is first and answerer.cache.hits == 1
    fresh = Answerer(searcher, cache_size=0).answer("哪些地方推行“容缺受理”？")
    assert fresh == first
    other = answerer.answer("哪些地方推行“容缺受理”？", filters=Filters(year=2023))
    assert other is not first and {g.year for g in other.groups} <= {2023}


def test_sentences_in_memory_score_like_sentences_read_from_disk(tmp_path):
    rng = np.random.default_rng(5)
    vectors = rng.standard_normal((50, 8)).astype(np.float16)
    vectors[[3, 17]] = 0  # sentences that say nothing
    np.save(tmp_path / "s.npy", vectors)
    offsets = np.array([0, 20, 50])
    held = SentenceVectors(VectorFile(tmp_path / "s.npy"), offsets)
    read = SentenceVectors(VectorFile(tmp_path / "s.npy"), offsets, in_memory=0)
    assert held.matrix is not None and read.matrix is None
    query = rng.standard_normal(8).astype(np.float32)
    for ids in (np.arange(50), np.array([17, 2, 3, 40]), np.arange(20, 50)):
        np.testing.assert_allclose(held.similarities(query, ids), read.similarities(query, ids), rtol=1e-6)
        np.testing.assert_array_equal(held.rows(ids), read.rows(ids))
    assert np.isneginf(held.similarities(query, np.arange(50))[[3, 17]]).all()


def test_the_gate_lets_one_answer_be_computed_at_a_time_and_cached_ones_pass(searcher, monkeypatch):
    import threading
    import time

    gate = threading.BoundedSemaphore(1)
    answerer = Answerer(searcher, gate=gate)
    running, most = [0], [0]
    lock = threading.Lock()
    real = Answerer.compute

    def slow_answer(self, *args):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        try:
            return real(self, *args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(Answerer, "compute", slow_answer)
    questions = ["哪些地方推行简案快办？", "哪些地方设立了商圈微法庭？", "海珠区提供法律援助多少件？", "哪些地方推行简案快办？"]
    threads = [threading.Thread(target=answerer.answer, args=(q,)) for q in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1  # never two at once
    assert len(answerer.cache) == 3  # the repeated question was computed once
    with gate:  # the gate is held (as by a long answer): a cached answer does not wait for it
        started = time.monotonic()
        answerer.answer("哪些地方推行简案快办？")
        assert time.monotonic() - started < 1.0


def test_the_service_computes_one_answer_at_a_time_per_process_by_default(app):
    holder = app.extensions["fazhi"]
    assert holder.answer_gate is not None and holder.pair()[1].gate is holder.answer_gate
    assert holder.answer_gate.acquire(blocking=False) and not holder.answer_gate.acquire(blocking=False)
    holder.answer_gate.release()
