"""Sentence evidence by meaning: which sentences of the corpus say what a question describes.

Three signals, each cheap at scale:

- **dense**: the question's vector against every sentence vector the filters allow (all of
  them up to EXHAUSTIVE_SENTENCES; beyond that the sentences of the best chunks by the
  chunk index, plus the lexical recall below), normalised against a fixed background sample
  of sentences so that "how far above the usual" means the same for every question;
- **the corpus's own wording**: the terms shared by the sentences that sit nearest the
  question (pseudo-relevance feedback), weighted by how distinctive they are: 「商业区设立
  小型法庭」 learns 商圈微法庭 from the sentences that say it;
- **the question's own terms**: weighted coverage as in evidence.py.

Candidates found by the learned terms anywhere in the corpus are scored too, so a report
whose sentence uses the learned term but sits outside the dense top is not missed.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from indexer.sections import LABEL_PROBLEMS
from service.answer.evidence import GENERIC_WORDS, Topic, make_topic, score_sentence, sentence_table, SentenceRef
from service.search import Searcher

EXHAUSTIVE_SENTENCES = 400_000  # score every allowed sentence up to this many
DENSE_CHUNKS = 300  # beyond it: sentences of the best chunks by the chunk index
BACKGROUND = 4096  # sentences in the background sample
FEEDBACK_SENTENCES = 8  # nearest sentences the corpus's wording is learned from
FEEDBACK_TEMPERATURE = 0.02  # cosine units: how fast a feedback sentence's weight falls behind the best
LEARNED_TERMS = 6
MAX_TERM_SHARE = 0.15  # a learned term in more than this share of chunks is not distinctive
CHUNK_CONTEXT = 0.5  # weight of the chunk's cosine beside the sentence's (dev split of the seeds)
DETAIL_SENTENCES = 1500  # sentences whose full features are computed (best by dense, then by terms)
# Beyond EXHAUSTIVE_SENTENCES, the lexical recall reads at most this many chunks, the best
# ROWS_PER_REPORT of each report by BM25 on the recalled terms: every report still gets its
# chance, and a term in a hundred thousand chunks does not read them all.
LEXICAL_ROWS = 5000
ROWS_PER_REPORT = 2


@dataclass(frozen=True)
class SentenceEvidence:
    """One candidate sentence with the signals the verifier weighs."""

    ref: SentenceRef
    doc_id: str
    label: str
    similarity: float  # cosine with the question (plus CHUNK_CONTEXT x its chunk's)
    z: float  # standard deviations above the background
    coverage: float  # share of the question's term weight in the sentence
    learned: float  # share of the learned terms' weight in the sentence
    done: bool  # the sentence reports something done (了/已/建成/a count…), not a directive
    matched: tuple[str, ...]


@dataclass(frozen=True)
class MeaningScan:
    """What a question's scan found: candidate sentences and the terms learned from the corpus."""

    evidence: tuple[SentenceEvidence, ...]
    learned_terms: tuple[tuple[str, float], ...]


_DONE = re.compile(
    r"了|已|完成|实现|建成|建立起|落地|上线|启用|达到|累计|共计|新增|惠及|覆盖率?达|入选|获评|荣获|成功"
    r"|\d+(?:\.\d+)?\s*(?:个|家|万|亿|%|％|项|件|宗|人|名|所|次|套|条|公里|户|场|批|元)"
)


def states_done(text: str) -> bool:
    """Whether a sentence reports what was done (建成, 惠及3000万人, 开展了…) rather than directs it."""
    return bool(_DONE.search(text))


def _background(searcher: Searcher) -> tuple[np.ndarray, np.ndarray]:
    """A fixed sample of (sentence vectors, their chunks' vectors), drawn once per generation."""
    cached = getattr(searcher, "_sentence_background", None)
    if cached is None:
        total = len(searcher.sentences)
        rng = np.random.default_rng(20261201)
        ids = np.sort(rng.choice(total, size=min(BACKGROUND, total), replace=False)) if total else np.zeros(0, int)
        rows = np.searchsorted(searcher.sentences.offsets, ids, side="right") - 1
        cached = (searcher.sentences.rows(ids), searcher.dense.row_vectors(rows))
        searcher._sentence_background = cached
    return cached


def similarities(searcher: Searcher, query: np.ndarray, ids: np.ndarray, chunk_rows: np.ndarray) -> np.ndarray:
    """Each sentence's cosine with the question, plus CHUNK_CONTEXT times its chunk's.

    A sentence alone often leaves out what it is about (「打通…的快速渠道」); its chunk,
    embedded with its headings, says it. A sentence that says nothing (a zero vector) gets
    -inf: it is never evidence.
    """
    unique, inverse = np.unique(chunk_rows, return_inverse=True)
    chunk_sims = searcher.dense.row_vectors(unique) @ query
    return searcher.sentences.similarities(query, ids) + CHUNK_CONTEXT * chunk_sims[inverse]


def _allowed_sentences(searcher: Searcher, mask: np.ndarray | None,
                       query: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """(sentence ids, their chunk rows, exhaustive?) the dense scan looks at."""
    vectors = searcher.sentences
    n_chunks = len(searcher.chunks)
    if len(vectors) <= EXHAUSTIVE_SENTENCES:
        rows = np.arange(n_chunks) if mask is None else np.flatnonzero(mask)
        ids, chunk_rows = vectors.rows_of(rows)
        return ids, chunk_rows, True
    ids_, _ = searcher.dense.search(query, DENSE_CHUNKS, mask=mask)
    ids, chunk_rows = vectors.rows_of(np.asarray(ids_, dtype=np.int64))
    return ids, chunk_rows, False


def best_rows_per_report(searcher: Searcher, rows: np.ndarray, term_scores: np.ndarray,
                         named_rows: list[np.ndarray]) -> np.ndarray:
    """At most LEXICAL_ROWS of the rows: the ROWS_PER_REPORT best of each report by the BM25
    scores of the recalled terms (rows holding a quoted name first), the best reports' first."""
    if len(rows) <= LEXICAL_ROWS:
        return rows
    scores = term_scores[rows]
    for named in named_rows:
        scores = scores + np.isin(rows, named) * 1e6
    docs = searcher.chunks.doc_rows[rows]
    order = np.lexsort((-scores, docs))  # by report, best first within each
    docs_sorted = docs[order]
    first = np.r_[True, docs_sorted[1:] != docs_sorted[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    kept = order[np.arange(len(order)) - group_start < ROWS_PER_REPORT]
    kept = kept[np.argsort(-scores[kept], kind="stable")][:LEXICAL_ROWS]
    return np.sort(rows[kept])


def feedback_positions(searcher: Searcher, order: np.ndarray, chunk_rows: np.ndarray) -> list[int]:
    """The FEEDBACK_SENTENCES nearest sentences (positions in `order`, nearest first) outside the
    parts on problems: a sentence under 存在的问题 names what is lacking (不够, 不强), so its
    words are not how the corpus describes a practice."""
    chosen: list[int] = []
    for position in order[: FEEDBACK_SENTENCES * 20]:
        if searcher.chunks.label(int(chunk_rows[position])) != LABEL_PROBLEMS:
            chosen.append(int(position))
            if len(chosen) == FEEDBACK_SENTENCES:
                break
    return chosen


def learn_terms(searcher: Searcher, texts: list[str], weights: list[float], question_terms: set[str]) -> list[tuple[str, float]]:
    """Distinctive terms the nearest sentences share, weighted by closeness and rarity."""
    n = max(searcher.bm25.n_docs, 1)
    doc_freq = searcher.bm25.doc_freq()
    scores: dict[str, float] = {}
    for text, weight in zip(texts, weights):
        tokens = set(searcher.query_tokens(text))
        for token in tokens:
            if len(token) < 2 or token in GENERIC_WORDS or not re.search(r"[\u4e00-\u9fffA-Za-z]", token):
                continue
            if token not in question_terms and any(token != o and token in o for o in tokens):
                continue  # 任人 inside 责任人: the longer word is the term
            col = searcher.bm25.term_ids.get(token)
            df = int(doc_freq[col]) if col is not None else 0
            if df == 0 or df > MAX_TERM_SHARE * n:
                continue
            scores[token] = scores.get(token, 0.0) + weight * math.log(1 + n / df)
    total = sum(weights) or 1.0
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:LEARNED_TERMS]
    return [(t, s / total) for t, s in ranked if t not in question_terms]


def _learned_share(terms: list[tuple[str, float]], text: str) -> tuple[float, tuple[str, ...]]:
    total = sum(w for _, w in terms) or 1.0
    found = [t for t, _ in terms if t in text]
    return sum(w for t, w in terms if t in found) / total, tuple(found)


def _learn_from(searcher: Searcher, table, ids: np.ndarray, chunk_rows: np.ndarray, sims: np.ndarray,
                order: np.ndarray, question_terms: set[str]) -> list[tuple[str, float]]:
    """The learned terms of the nearest sentences (by `order`) among `ids`."""
    nearest = feedback_positions(searcher, order, chunk_rows)
    if not nearest or not np.isfinite(sims[nearest[0]]):
        return []
    top = float(sims[nearest[0]])
    texts = []
    for p in nearest:
        row = int(chunk_rows[p])
        texts.append(table.sentences(row)[int(ids[p] - searcher.sentences.offsets[row])].text)
    weights = [math.exp((float(sims[p]) - top) / FEEDBACK_TEMPERATURE) for p in nearest]
    return learn_terms(searcher, texts, weights, question_terms)


def _every_sentence(searcher: Searcher, query_vector: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sentence ids, their chunk rows, similarities) of the unfiltered scan."""
    ids, rows, _ = _allowed_sentences(searcher, None, query_vector)
    return ids, rows, similarities(searcher, query_vector, ids, rows)


def _nearest_first(sims: np.ndarray) -> np.ndarray:
    """Positions of the sentences the feedback may draw on, nearest first (the best FEEDBACK_SENTENCES x 20)."""
    k = FEEDBACK_SENTENCES * 20
    if len(sims) <= k:
        return np.argsort(-sims, kind="stable")
    top = np.argpartition(-sims, k)[:k]
    return top[np.lexsort((top, -sims[top]))]


def scan(searcher: Searcher, topic_text: str, mask: np.ndarray | None, query_vector: np.ndarray) -> MeaningScan:
    """Candidate sentences of every report the mask allows, with their signals."""
    whole = None  # the unfiltered scan, which the feedback reads
    if mask is not None and len(searcher.sentences) <= EXHAUSTIVE_SENTENCES:
        # Every sentence is scored once; the scope's are a subset of them.
        whole = _every_sentence(searcher, query_vector)
        all_ids, all_rows, all_sims = whole
        inside = mask[all_rows]
        ids, chunk_rows, sims, exhaustive = all_ids[inside], all_rows[inside], all_sims[inside], True
    else:
        ids, chunk_rows, exhaustive = _allowed_sentences(searcher, mask, query_vector)
        sims = similarities(searcher, query_vector, ids, chunk_rows) if len(ids) else np.zeros(0)
    if len(ids) == 0:
        return MeaningScan((), ())
    sample_sentences, sample_chunks = _background(searcher)
    background = sample_sentences @ query_vector + CHUNK_CONTEXT * (sample_chunks @ query_vector)
    mean, std = float(background.mean()), float(background.std()) or 1.0
    table = sentence_table(searcher)

    def ref_of(position: int) -> SentenceRef:
        row = int(chunk_rows[position])
        local = int(ids[position] - searcher.sentences.offsets[row])
        return table.sentences(row)[local]

    order = np.argsort(-sims, kind="stable")
    best = float(sims[order[0]])
    if not np.isfinite(best):  # every allowed sentence is empty
        return MeaningScan((), ())
    topic: Topic = make_topic(searcher, topic_text, drop_single_chars=True)
    question_terms = {t for t, _ in topic.terms}
    if mask is None:
        learned = _learn_from(searcher, table, ids, chunk_rows, sims, order, question_terms)
    else:
        # How the corpus words a practice is the corpus's, not the scope's: learned from the scope
        # alone, a scope where nobody does it would teach the words of whatever sits nearest.
        all_ids, all_rows, all_sims = whole or _every_sentence(searcher, query_vector)
        learned = _learn_from(searcher, table, all_ids, all_rows, all_sims, _nearest_first(all_sims), question_terms)

    # Detailed features for the best sentences by meaning and every sentence holding a learned
    # or quoted term (exhaustive lexical recall over the allowed rows).
    detail = set(int(p) for p in order[:DETAIL_SENTENCES] if np.isfinite(sims[p]))
    lexical_terms = [t for t, _ in learned[:3]] + list(topic.required)
    if lexical_terms:
        term_scores = searcher.bm25.scores(lexical_terms)
        named_rows = [searcher.chunks.rows_containing(name) for name in topic.required]
        hit_rows = np.flatnonzero(term_scores > 0)
        for named in named_rows:
            hit_rows = np.union1d(hit_rows, named)
        if mask is not None:
            hit_rows = hit_rows[mask[hit_rows]]
        if exhaustive:
            detail.update(int(p) for p in np.flatnonzero(np.isin(chunk_rows, hit_rows) & np.isfinite(sims)))
        else:
            extra = np.setdiff1d(hit_rows, np.unique(chunk_rows))
            extra = best_rows_per_report(searcher, extra, term_scores, named_rows)
            extra_ids, extra_rows = searcher.sentences.rows_of(extra)
            if len(extra_ids):
                ids = np.concatenate([ids, extra_ids])
                chunk_rows = np.concatenate([chunk_rows, extra_rows])
                sims = np.concatenate([sims, similarities(searcher, query_vector, extra_ids, extra_rows)])
                detail.update(p for p in range(len(ids) - len(extra_ids), len(ids)) if np.isfinite(sims[p]))
    evidence = []
    for position in sorted(detail):
        ref = ref_of(position)
        lexical = score_sentence(topic, ref.text)
        if lexical is None:  # a quoted name is missing
            continue
        share, found = _learned_share(learned, ref.text.lower())
        row = int(chunk_rows[position])
        evidence.append(SentenceEvidence(
            ref=ref, doc_id=searcher.chunks.doc_id(row), label=searcher.chunks.label(row),
            similarity=float(sims[position]), z=(float(sims[position]) - mean) / std,
            coverage=lexical.coverage, learned=share, done=states_done(ref.text),
            matched=tuple(lexical.matched) + found,
        ))
    return MeaningScan(tuple(evidence), tuple(learned))
