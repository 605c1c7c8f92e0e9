"""Answers computed in a child process at a lower CPU priority, and the worker taking over when it cannot."""
import os
from pathlib import Path

import pytest

from service.answer import Answerer
from service.answer_process import AnswerProcess
from service.search import Filters
from service.state import IndexHolder

QUESTION = "哪些地方在商业区设立了小型法庭？"


@pytest.fixture()
def holder(built_index, embedder):
    return IndexHolder(built_index, embedder, answer_cache=0)


def _fail_in_this_process(monkeypatch, pid: int) -> None:
    """From now on, Answerer.compute raises in process `pid` only (a child forked earlier keeps the real one)."""
    real = Answerer.compute

    def compute(self, *args, **kwargs):
        if os.getpid() == pid:
            raise AssertionError("computed in the worker, not in the answer process")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Answerer, "compute", compute)


def test_the_child_computes_the_answer_at_a_lower_priority(holder, monkeypatch):
    expected = holder.answerer.compute(QUESTION, Filters(), QUESTION, ()).to_dict()
    process = AnswerProcess(holder, niceness=7)
    holder.answer_process = process
    try:
        assert os.getpriority(os.PRIO_PROCESS, process.pid) == os.getpriority(os.PRIO_PROCESS, 0) + 7
        _fail_in_this_process(monkeypatch, os.getpid())
        answer = holder.answerer.answer(QUESTION)
        assert answer.to_dict() == expected
        assert [g.issuer for g in answer.groups] == ["粤海街道"]
        assert process.alive
    finally:
        process.stop()
    assert not process.alive and process.process.exitcode == 0  # it left when the worker's end closed


def test_a_killed_child_hands_answers_back_to_the_worker_and_retires_it(holder):
    lost = []
    process = AnswerProcess(holder, niceness=0, on_lost=lambda: lost.append(True))
    holder.answer_process = process
    process.process.kill()
    process.process.join(timeout=10)
    answer = holder.answerer.answer(QUESTION)  # computed here instead
    assert [g.issuer for g in answer.groups] == ["粤海街道"]
    assert not process.alive and lost == [True]
    assert holder.answerer.answer("哪些地方推行简案快办？").groups  # and it stays so, without asking the child


def test_an_error_in_the_child_or_another_generation_is_answered_by_the_worker(holder, monkeypatch):
    worker = os.getpid()
    real = Answerer.compute

    def compute(self, *args, **kwargs):
        if os.getpid() != worker:
            raise RuntimeError("the child's copy fails")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Answerer, "compute", compute)  # before the fork: the child inherits the failing one
    process = AnswerProcess(holder, niceness=0)
    holder.answer_process = process
    try:
        assert process.compute(holder.loaded_from, QUESTION, Filters(), QUESTION, ()) is None
        assert process.compute(Path("/no/such/generation"), QUESTION, Filters(), QUESTION, ()) is None
        assert process.alive  # neither stops it
        assert [g.issuer for g in holder.answerer.answer(QUESTION).groups] == ["粤海街道"]
    finally:
        process.stop()


def test_workers_share_answers_one_computes_and_the_other_waits_for_it(searcher, tmp_path, monkeypatch):
    import threading
    import time

    from service.answer.shared_answers import SharedAnswers

    generation = tmp_path / "generations" / "g-1"
    first, second = Answerer(searcher, cache_size=0), Answerer(searcher, cache_size=0)
    first.shared = SharedAnswers.for_generation(tmp_path, generation)
    second.shared = SharedAnswers.for_generation(tmp_path, generation)
    computed = []
    real = Answerer.compute

    def slow(self, *args):
        computed.append(self)
        time.sleep(0.3)
        return real(self, *args)

    monkeypatch.setattr(Answerer, "compute", slow)
    results = {}
    threads = [threading.Thread(target=lambda a=a: results.__setitem__(a, a.answer(QUESTION))) for a in (first, second)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert len(computed) == 1  # the second waited for the first's answer instead of computing it
    assert results[first].to_dict() == results[second].to_dict()
    assert [g.issuer for g in results[second].groups] == ["粤海街道"]


def test_shared_answers_survive_bad_files_and_live_as_long_as_their_generation(searcher, tmp_path):
    from service.answer.shared_answers import SharedAnswers

    generations = tmp_path / "generations"
    (generations / "g-old").mkdir(parents=True)
    (generations / "g-new").mkdir()
    old = SharedAnswers.for_generation(tmp_path, generations / "g-old")
    old.put("k", Answerer(searcher).answer(QUESTION))
    assert old.get("k").groups and old.get("missing") is None
    old._path("bad", ".pickle").write_bytes(b"not a pickle")
    assert old.get("bad") is None
    new = SharedAnswers.for_generation(tmp_path, generations / "g-new")
    # A worker still serving g-old while another has switched keeps reading and writing its answers.
    assert old.get("k").groups and new.folder.is_dir()
    old.put("k2", Answerer(searcher).answer(QUESTION))
    assert old.get("k2") is not None
    (generations / "g-old").rmdir()  # the store prunes g-old: its answers go at the next switch
    SharedAnswers.for_generation(tmp_path, generations / "g-new")
    assert not old.folder.exists() and new.folder.is_dir()
    (tmp_path / "file").write_text("x")
    assert SharedAnswers.for_generation(tmp_path / "file", tmp_path / "g") is None  # cannot be written: not shared
