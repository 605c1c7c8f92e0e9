"""Answers kept per index generation: the same question over the same index gets the same answer.

An answer is a pure function of the question, its filters, the places set aside and the
generation it was computed on, so it can be served again until the index changes (a new
generation gets a new Answerer, and with it an empty cache). Popular questions then cost a
dictionary look-up instead of a scan over every sentence.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict

from service.answer.records import Answer

DEFAULT_SIZE = 512


class AnswerCache:
    """A thread-safe LRU of answers; size 0 keeps nothing."""

    def __init__(self, size: int = DEFAULT_SIZE):
        if size < 0:
            raise ValueError(f"The answer cache size must be 0 or more; got {size}.")
        self.size = size
        self._items: OrderedDict[str, Answer] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @staticmethod
    def key(question: str, resolved: str, filters: dict, exclude: tuple[str, ...]) -> str:
        return json.dumps([question, resolved, sorted(filters.items()), list(exclude)], ensure_ascii=False)

    def get(self, key: str) -> Answer | None:
        with self._lock:
            answer = self._items.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return answer

    def peek(self, key: str) -> Answer | None:
        """The answer kept under a key, without counting a hit or a miss (a second look after a wait)."""
        with self._lock:
            return self._items.get(key)

    def put(self, key: str, answer: Answer) -> None:
        if not self.size:
            return
        with self._lock:
            self._items[key] = answer
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)
