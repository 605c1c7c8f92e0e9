"""Sentence-level evidence: which sentences of which reports state a practice or a fact."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from indexer.sentence_vectors import chunk_sentences
from service.search import Searcher

# Words that carry the shape of a question, not its topic.
GENERIC_WORDS = frozenset(
    """
    哪些 哪个 哪几个 哪里 哪儿 什么 怎么 怎样 如何 是否 多少 几个 几次 几 有无 有没有 请问 呢 吗 了 过 的 地 得
    地方 地区 街道 乡镇 镇 乡 区 县 市 单位 政府 基层 哪些地方 哪些街道 这些 那些 其中
    设立 设有 建立 建有 建成 建设 成立 推行 推进 推动 开展 落实 实施 实行 应对 采取 采用 探索 打造 创新 做 做了 有 办 办了
    情况 工作 相关 方面 问题 举措 措施 做法 经验 进行 开展了 是 为 在 和 与 及 等
    活动 模式 机制 体系 方式 形式 行动 专项
    which what how many where
    """.split()
)
_QUOTED = re.compile(r"[“\"「『‘]([^”\"」』’]{2,20})[”\"」』’]")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class SentenceRef:
    """A sentence of a chunk: its normalised text and its published span."""

    row: int  # chunk row
    index: int  # sentence number within the chunk
    text: str  # normalised
    start: int  # published offsets
    end: int


@dataclass(frozen=True)
class Evidence:
    """How well one sentence shows a topic."""

    sentence: SentenceRef
    coverage: float  # share of the topic's term weight found in the sentence (0..1)
    matched: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class Topic:
    """The weighted terms a question is about; quoted names must match whole."""

    terms: tuple[tuple[str, float], ...]
    required: tuple[str, ...]

    # Cached: a which-question scores tens of thousands of sentences against one topic.
    @cached_property
    def total(self) -> float:
        return sum(w for _, w in self.terms) or 1.0

    @cached_property
    def window(self) -> int:
        """How close together matched terms must stand: about twice the topic's length."""
        return max(12, 2 * sum(len(t) for t in self.content_terms))

    @cached_property
    def content_terms(self) -> tuple[str, ...]:
        """Terms that are not part of a longer term of the topic."""
        names = [t for t, _ in self.terms]
        return tuple(t for t in names if not any(t != o and t in o for o in names))

    def terms_needed(self) -> int:
        """Distinct terms a sentence must show: two once the topic has three or more."""
        return 2 if len(self.content_terms) >= 3 else 1


class SentenceTable:
    """The sentences of a chunk row, normalised, split when first asked for and then cached."""

    def __init__(self, searcher: Searcher, cache_rows: int = 50_000):
        self._chunks = searcher.chunks
        self.sentences = lru_cache(maxsize=cache_rows)(self._split)

    def _split(self, row: int) -> tuple[SentenceRef, ...]:
        chunk = self._chunks[row]
        texts = chunk_sentences(chunk)
        return tuple(SentenceRef(row, i, t, s.start, s.end) for i, (t, s) in enumerate(zip(texts, chunk.sentences)))


def sentence_table(searcher: Searcher) -> SentenceTable:
    """The searcher's sentence table, built on first use."""
    table = getattr(searcher, "_sentence_table", None)
    if table is None:
        table = SentenceTable(searcher)
        searcher._sentence_table = table
    return table


def quoted_terms(question: str) -> list[str]:
    """Names the question puts in quotes: “容缺受理” -> ['容缺受理']."""
    return [m.group(1).strip() for m in _QUOTED.finditer(question)]


_PHRASE_BREAK = re.compile(r"[\s，,。；;：:、？?！!“”\"「」『』‘’（）()]+")
HEAD_BONUS = 1.5


def topic_phrases(searcher: Searcher, text: str, extra_generic: frozenset[str] = frozenset()) -> list[list[str]]:
    """The question's content split into phrases at punctuation and question words, as tokens."""
    generic = GENERIC_WORDS | extra_generic
    phrases: list[list[str]] = []
    for piece in _PHRASE_BREAK.split(text):
        current: list[str] = []
        for token in searcher.query_tokens(piece) if piece else []:
            if token in generic:
                if current:
                    phrases.append(current)
                current = []
            else:
                current.append(token)
        if current:
            phrases.append(current)
    return phrases


def make_topic(
    searcher: Searcher, text: str, extra_generic: frozenset[str] = frozenset(), drop_single_chars: bool = False
) -> Topic:
    """Weighted topic terms of a question: inverse document frequency over the chunks.

    The last word of each phrase is its head (网络**舆情**, 综合行政执法**委员会**) and weighs
    more; a word that is part of a longer word of the question (委员 in 委员会) weighs less.
    """
    required = [q.lower() for q in quoted_terms(text)]
    n = max(searcher.bm25.n_docs, 1)
    doc_freq = searcher.bm25.doc_freq()
    weights: dict[str, float] = {}
    for phrase in topic_phrases(searcher, text, extra_generic):
        # One Chinese character matches inside unrelated words (进 in 进一步): not a term.
        # (Kept for facts: 率 in 败诉率 is what the question asks for.)
        if drop_single_chars and (len(phrase) > 1 or sum(len(t) for t in phrase) > 1):
            phrase = [t for t in phrase if len(t) > 1 or t.isascii()] or phrase
        for position, token in enumerate(phrase):
            col = searcher.bm25.term_ids.get(token)
            df = int(doc_freq[col]) if col is not None else 0
            # A term absent from the corpus still counts: a topic nobody mentions must not match.
            weight = math.log(1 + (n - df + 0.5) / (df + 0.5)) * (1.0 + 0.15 * min(len(token), 6))
            if position == len(phrase) - 1:
                weight *= HEAD_BONUS
            weights[token] = max(weights.get(token, 0.0), weight)
    terms = []
    for token, weight in weights.items():
        if any(token != other and token in other for other in weights):
            weight *= 0.35
        terms.append((token, weight))
    return Topic(tuple(terms), tuple(required))


def score_sentence(topic: Topic, text: str) -> Evidence | None:
    """Coverage of the topic in one normalised sentence; None when a required name is missing.

    Only terms that stand close together count (the best window about twice the topic's
    length), so words scattered over a long sentence do not add up to a match.
    """
    lowered = text.lower()
    if any(name not in lowered for name in topic.required):
        return None
    occurrences = []
    for term, weight in topic.terms:
        start = lowered.find(term)
        while start >= 0:
            occurrences.append((start, start + len(term), term, weight))
            start = lowered.find(term, start + 1)
    # A word inside a longer matched word (委员 in 委员会) is not evidence of its own.
    occurrences = [
        o for o in occurrences
        if not any(p[0] <= o[0] and o[1] <= p[1] and (p[1] - p[0]) > (o[1] - o[0]) for p in occurrences)
    ]
    width = topic.window
    best_weight, best_terms = 0.0, ()
    for start, _, _, _ in occurrences:
        inside = {term: weight for a, b, term, weight in occurrences if a >= start and b <= start + width}
        total = sum(inside.values())
        if total > best_weight:
            best_weight, best_terms = total, tuple(sorted(inside))
    coverage = best_weight / topic.total
    return Evidence(None, coverage, best_terms, coverage)  # type: ignore[arg-type]


def best_evidence(searcher: Searcher, topic: Topic, rows: np.ndarray | list[int]) -> list[Evidence]:
    """The scoring sentences of the given chunk rows, best first."""
    table = sentence_table(searcher)
    found = []
    for row in rows:
        for ref in table.sentences(int(row)):
            scored = score_sentence(topic, ref.text)
            if scored is None or not scored.matched and not topic.required:
                continue
            found.append(Evidence(ref, scored.coverage, scored.matched, scored.score))
    found.sort(key=lambda e: (-e.score, e.sentence.row, e.sentence.index))
    return found


def head_term(topic: Topic) -> str:
    """The topic's most telling term (highest weight)."""
    return max(topic.terms, key=lambda pair: pair[1])[0] if topic.terms else ""


def has_number(text: str) -> bool:
    return bool(_DIGIT.search(text))
