"""相似做法: the same practice as one passage, in other reports, one best passage per report.

A passage is looked for three ways, each over every chunk the filters allow outside its own
report: its own chunk vector against the chunk vectors (dense), BM25 over its most
distinctive tokens, and its sentences against each candidate's sentences. The three are
fused by score (service/fusion.py); each report keeps its best chunk.

Boilerplate (「深入学习贯彻习近平法治思想」) is what nearly every report says, so a sentence is
weighted by how rare its words are in the index: a sentence made only of words most passages
use counts for little, in the passage and in a candidate alike. Weights were set on the tuned
half of bench/data/peer_cases.jsonl (bench/peers_eval.py).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from indexer.sentence_vectors import says_something
from service.answer.evidence import GENERIC_WORDS, SentenceRef, sentence_table
from service.fusion import score_fusion
from service.search import Filters, Searcher, chunk_anchor

DEFAULT_K = 10
MAX_K = 50
DEPTH = 150  # chunks each retriever hands to the fusion
DISTINCT_TERMS = 12  # the passage's tokens BM25 searches for
QUOTES = 2  # a peer is shown with its best one or two sentences
# Fusion weights (BM25 on distinctive terms, chunk vector, best weighted sentence pair).
WEIGHTS = (1.0, 0.7, 1.0)
# e5 cosines of unrelated sentences sit around 0.8; only what lies above counts.
SENTENCE_BASELINE = 0.80


class UnknownPassage(LookupError):
    """No chunk of the index has this id."""


@dataclass(frozen=True)
class Quote:
    """A sentence as published, with its offsets and a link to it on its report page."""

    quote: str
    start: int
    end: int
    url: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Peer:
    """Another report's best passage on the same practice."""

    doc_id: str
    issuer: str
    level: str
    region: str
    year: int | None
    chunk_id: str
    section: str
    quotes: tuple[Quote, ...]
    score: float

    def to_dict(self) -> dict:
        data = asdict(self)
        data["quotes"] = [q.to_dict() for q in self.quotes]
        data["score"] = round(self.score, 6)
        return data


@dataclass(frozen=True)
class PeerResult:
    """The passage asked about (its key sentences quoted) and its peers, best first."""

    passage: dict
    peers: tuple[Peer, ...]

    def to_dict(self) -> dict:
        return {"passage": self.passage, "peers": [p.to_dict() for p in self.peers]}


# -- how distinctive words and sentences are ------------------------------------------------


def chunk_share(searcher: Searcher, token: str) -> float:
    """The share of the index's chunks that hold this token (0 for a token it does not know)."""
    col = searcher.bm25.term_ids.get(token)
    return 0.0 if col is None else float(searcher.bm25.indptr[col + 1] - searcher.bm25.indptr[col]) / max(1, searcher.bm25.n_docs)


def content_tokens(searcher: Searcher, text: str) -> list[str]:
    """The tokens of a normalised text that can name a practice: two characters or more, not generic."""
    return [t for t in searcher.tokenizer.tokens(text) if len(t) >= 2 and t not in GENERIC_WORDS]


def rarity(share: float, n_chunks: int) -> float:
    """A word's inverse chunk frequency scaled to 0..1: 1 for a word of one chunk, 0 for one in every chunk."""
    if share <= 0:
        return 0.0
    return min(1.0, math.log(1.0 / share) / math.log(max(2, n_chunks)))


def sentence_weight(searcher: Searcher, text: str) -> float:
    """How much a sentence can say about a particular practice: the rarity of its best words.

    The mean of its three rarest words' rarity, so that one rare word in a long sentence of
    common ones still counts, while a sentence of common words alone gets almost nothing.
    """
    if not says_something(text):
        return 0.0
    n = searcher.bm25.n_docs
    values = sorted((rarity(chunk_share(searcher, t), n) for t in set(content_tokens(searcher, text))), reverse=True)
    return float(np.mean(values[:3])) if values else 0.0


def distinctive_terms(searcher: Searcher, text: str, n: int = DISTINCT_TERMS) -> list[str]:
    """The passage's n most distinctive tokens: frequency in it times rarity across reports."""
    tokens = content_tokens(searcher, text)
    scores: dict[str, float] = {}
    for token in tokens:
        share = chunk_share(searcher, token)
        if 0 < share < 1:
            scores[token] = scores.get(token, 0.0) + math.log(1.0 / share)
    return [t for t, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


# -- retrieval ------------------------------------------------------------------------------


def _allowed(searcher: Searcher, doc_id: str, filters: Filters | None) -> np.ndarray:
    """The chunks a peer may come from: the filters' and not the passage's own report."""
    mask = searcher.mask(filters)
    allowed = np.ones(len(searcher.chunks), dtype=bool) if mask is None else mask.copy()
    own = searcher.chunks.rows_of_doc(doc_id)
    allowed[np.asarray(own, dtype=np.int64)] = False
    return allowed


def _sentences(searcher: Searcher, row: int) -> tuple[tuple[SentenceRef, ...], np.ndarray]:
    refs = sentence_table(searcher).sentences(row)
    ids, _ = searcher.sentences.rows_of(np.array([row]))
    return refs, ids


def _quote(searcher: Searcher, doc_id: str, ref: SentenceRef) -> Quote:
    original = searcher.reports[doc_id]["original"]
    return Quote(original[ref.start:ref.end], ref.start, ref.end, f"/reports/{doc_id}#q-{ref.start}-{ref.end}")


def _passage(searcher: Searcher, row: int, key: list[SentenceRef], terms: list[str]) -> dict:
    chunk = searcher.chunks[row]
    meta = searcher.meta(chunk.doc_id)
    return {
        "chunk_id": chunk.chunk_id, "doc_id": chunk.doc_id, "title": meta["title"], "issuer": meta["issuer"],
        "level": meta["level"], "region": meta["region"], "year": meta["year"],
        "section": " › ".join(chunk.section_path), "text": chunk.text,
        "url": f"/reports/{chunk.doc_id}#{chunk_anchor(chunk)}",
        "quotes": [_quote(searcher, chunk.doc_id, ref).to_dict() for ref in key],
        "terms": terms,
    }


def find_peers(searcher: Searcher, chunk_id: str, k: int = DEFAULT_K, filters: Filters | None = None,
               weights: tuple[float, float, float] = WEIGHTS, depth: int = DEPTH) -> PeerResult:
    """The k reports (other than the passage's own) that describe the same practice, best first.

    Unknown filter values raise UnknownFilterValue (as for a search); an unknown chunk id
    raises UnknownPassage.
    """
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be from 1 to {MAX_K}, not {k}.")
    row = searcher.chunks.row_of(chunk_id)
    if row is None:
        raise UnknownPassage(f"There is no passage with the id {chunk_id!r}.")
    chunk = searcher.chunks[row]
    allowed = _allowed(searcher, chunk.doc_id, filters)
    refs, src_ids = _sentences(searcher, row)
    src_weights = np.array([sentence_weight(searcher, r.text) for r in refs], dtype=np.float32)
    terms = distinctive_terms(searcher, chunk.search_text)
    key = [refs[i] for i in np.argsort(-src_weights, kind="stable")[:QUOTES] if src_weights[i] > 0]
    if not allowed.any():
        return PeerResult(_passage(searcher, row, key, terms), ())

    bm25_ids: list[int] = []
    bm25_scores: list[float] = []
    if terms:
        ids, scores = searcher.bm25.top_k(terms, depth, mask=allowed)
        keep = scores > 0
        bm25_ids, bm25_scores = [int(i) for i in ids[keep]], [float(s) for s in scores[keep]]
    vector = searcher.dense.row_vectors(np.array([row]))[0]
    ids, scores = searcher.dense.search(vector, depth, mask=allowed)
    dense_ids, dense_scores = [int(i) for i in ids], [float(s) for s in scores]

    candidates = np.array(sorted(set(bm25_ids) | set(dense_ids)), dtype=np.int64)
    sentence_score, best_refs = _sentence_matches(searcher, candidates, src_ids, src_weights)
    order = sorted(sentence_score, key=lambda r: -sentence_score[r])
    fused = score_fusion(
        [(bm25_ids, bm25_scores), (dense_ids, dense_scores), (order, [sentence_score[r] for r in order])],
        weights=weights,
    )
    peers: list[Peer] = []
    seen: set[str] = set()
    for cand, score in fused:
        doc_id = searcher.chunks.doc_id(cand)
        if doc_id in seen:
            continue
        seen.add(doc_id)
        peers.append(_peer(searcher, cand, score, best_refs.get(cand, ())))
        if len(peers) == k:
            break
    return PeerResult(_passage(searcher, row, key, terms), tuple(peers))


def _sentence_matches(searcher: Searcher, rows: np.ndarray, src_ids: np.ndarray,
                      src_weights: np.ndarray) -> tuple[dict[int, float], dict[int, tuple[SentenceRef, ...]]]:
    """Each candidate chunk's best weighted sentence pair with the passage, and its best sentences.

    A pair counts (cosine - SENTENCE_BASELINE) times both sentences' weights: two sentences
    that say the same boilerplate count for little, two that name the same practice for much.
    """
    if not len(rows) or searcher.sentences is None:
        return {}, {}
    ids, _ = searcher.sentences.rows_of(rows)
    table = sentence_table(searcher)
    refs = [ref for r in rows for ref in table.sentences(int(r))]
    if len(refs) != len(ids):  # cannot happen with a sound index; be safe rather than misalign
        return {}, {}
    cand_weights = np.array([sentence_weight(searcher, ref.text) for ref in refs], dtype=np.float32)
    sims = searcher.sentences.rows(src_ids) @ searcher.sentences.rows(ids).T  # (passage, candidate)
    pair = (sims - SENTENCE_BASELINE) * src_weights[:, None] * cand_weights[None, :]
    per_sentence = pair.max(axis=0) if len(src_ids) else np.zeros(len(ids), dtype=np.float32)
    scores: dict[int, float] = {}
    best: dict[int, tuple[SentenceRef, ...]] = {}
    offsets = searcher.sentences.offsets
    bounds = np.r_[0, np.cumsum(offsets[rows + 1] - offsets[rows])]
    for i, r in enumerate(rows):
        a, b = bounds[i], bounds[i + 1]
        if a == b:
            continue
        local = per_sentence[a:b]
        scores[int(r)] = float(local.max())
        picked = [j for j in np.argsort(-local, kind="stable")[:QUOTES] if local[j] > 0 or j == int(np.argmax(local))]
        best[int(r)] = tuple(refs[a + j] for j in sorted(picked))
    return scores, best


def _peer(searcher: Searcher, row: int, score: float, refs: tuple[SentenceRef, ...]) -> Peer:
    chunk = searcher.chunks[row]
    meta = searcher.meta(chunk.doc_id)
    if not refs:
        refs = tuple(sentence_table(searcher).sentences(row)[:1])
    return Peer(
        doc_id=chunk.doc_id, issuer=meta["issuer"], level=meta["level"], region=meta["region"], year=meta["year"],
        chunk_id=chunk.chunk_id, section=" › ".join(chunk.section_path),
        quotes=tuple(_quote(searcher, chunk.doc_id, ref) for ref in refs), score=score,
    )
