"""The answer layer's entry point: a resolved question dispatched to its kind and cited."""
from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace

from service.answer.answer_cache import DEFAULT_SIZE, AnswerCache
from service.answer.across_places import answer_across
from service.answer.answer_types import expected_type
from service.answer.facts import answer_fact, issuers_of, target_docs
from service.answer.open_ended import answer_open, answer_place_by_meaning
from service.answer.plans import answer_plans, answer_plans_in_scope, asks_for_plans_of, asks_for_plans_of_all
from service.answer.questions import asks_across_places, classify, mentioned_issuers, superlative
from service.answer.records import Answer
from service.answer.shared_answers import SharedAnswers
from service.answer.which import answer_which
from service.search import Filters, Searcher


class Answerer:
    """Turns questions into answers over one Searcher (one index generation), remembering the
    last `cache_size` answers."""

    def __init__(self, searcher: Searcher, cache_size: int = DEFAULT_SIZE, gate: threading.Semaphore | None = None,
                 remote: Callable[..., Answer | None] | None = None):
        self.searcher = searcher
        self.cache = AnswerCache(cache_size)
        # Answers computed at once in this process (None: no limit). An answer is ~80 ms of pure
        # Python; several at once hold the interpreter lock in turn and every search in the
        # process waits behind them. A cached answer never waits. (In a web worker, `remote`
        # moves the computing itself out of the process; the gate still lets one through at a time.)
        self.gate = gate
        # Where answers are computed when not here (service/answer_process.py): called with
        # compute()'s arguments, it returns the answer, or None when this process must compute it.
        self.remote = remote
        # Answers shared with the other web workers (service/answer/shared_answers.py), if set.
        self.shared: SharedAnswers | None = None

    def answer(self, question: str, filters: Filters | None = None, resolved: str | None = None,
               exclude: tuple[str, ...] = ()) -> Answer:
        """Answer a (resolved) question; every number and quote comes from the reports.

        `exclude` names places a follow-up set aside (「除了…」「还有哪里…」).
        """
        filters = filters or Filters()
        resolved = resolved or question
        key = AnswerCache.key(question, resolved, filters.to_dict(), tuple(exclude))
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        with self.gate or nullcontext():
            # Another request may have computed it while this one waited.
            answer = self.cache.peek(key) or self._shared_or_computed(key, question, filters, resolved, tuple(exclude))
        self.cache.put(key, answer)
        return answer

    def _shared_or_computed(self, key: str, question: str, filters: Filters, resolved: str,
                            exclude: tuple[str, ...]) -> Answer:
        """The answer another worker computed, else computed here (and shared)."""
        shared = self.shared
        if shared is None:
            return self._computed(question, filters, resolved, exclude)
        answer = shared.get(key)
        if answer is not None:
            return answer
        with shared.computing(key):
            answer = shared.get(key)  # computed by another worker while this one waited
            if answer is None:
                answer = self._computed(question, filters, resolved, exclude)
                shared.put(key, answer)
        return answer

    def _computed(self, question: str, filters: Filters, resolved: str, exclude: tuple[str, ...]) -> Answer:
        answer = self.remote(question, filters, resolved, exclude) if self.remote else None
        return answer if answer is not None else self.compute(question, filters, resolved, exclude)

    def compute(self, question: str, filters: Filters, resolved: str, exclude: tuple[str, ...]) -> Answer:
        """The answer itself, not cached, computed in this process."""
        kind = classify(resolved)
        named = mentioned_issuers(issuers_of(self.searcher), resolved)
        places = named or ([filters.issuer] if filters.issuer else [])
        every_place = kind == "which" and asks_for_plans_of_all(resolved)
        if every_place or (kind != "which" and asks_for_plans_of(resolved, places) and _asks_no_figure(resolved)):
            kind = "plans"
        if kind == "open" and len(named) == 1 and not filters.issuer:
            # 「海珠区如何化解矛盾纠纷？」 asks about 海珠区: its passages, not everyone's.
            filters = replace(filters, issuer=named[0])
        if not places and _asks_a_figure_of_every_place(kind, resolved):
            kind = "figures"
        hits = self.searcher.search(resolved, k=10, filters=filters)
        if kind == "figures":
            text, groups, filters = answer_across(self.searcher, resolved, filters)
        elif kind == "which":
            text, groups, filters = answer_which(self.searcher, resolved, filters, exclude)
        elif kind == "fact":
            text, groups = answer_fact(self.searcher, resolved, filters)
        elif every_place:
            text, groups, filters = answer_plans_in_scope(self.searcher, resolved, filters, exclude)
        elif kind == "plans":
            text, groups = answer_plans(self.searcher, resolved, target_docs(self.searcher, resolved, filters, named))
        else:
            text, groups = answer_open(self.searcher, resolved, hits)
            if not groups and filters.issuer and self.searcher.sentences is not None:
                text, groups = answer_place_by_meaning(self.searcher, resolved, filters.issuer, filters)
        citations = tuple(c for g in groups for c in g.citations)
        return Answer(question, resolved, kind, text, tuple(groups), citations, tuple(hits), filters.to_dict())


def _asks_no_figure(question: str) -> bool:
    """「明年打算做什么」 asks for plans; 「明年计划投入多少资金」 asks for a figure (a fact)."""
    asked = expected_type(question)
    return asked is None or asked.kind == "list"


def _asks_a_figure_of_every_place(kind: str, question: str) -> bool:
    """「各地的行政复议案件分别是多少？」 and 「哪个街道的行政复议案件最多？」 compare a figure across places."""
    if kind == "fact":
        return asks_across_places(question)
    if kind == "which":
        asked = expected_type(question)
        return bool(superlative(question)) or (asked is not None and asked.kind in ("count", "rate", "amount")
                                                and asks_across_places(question))
    return False
