"""How far one sentence of a report stands out from the report's other sentences by meaning.

A fact question's words are often not the report's (「处理了多少宗行政复议申请」 for
「处置行政复议申请共418宗」). Term coverage alone then misses the sentence; its vector does
not. A sentence's standing is its cosine with the question in standard deviations above the
mean of the same report's sentences, so that "stands out" means the same in a short
report and a long one, whatever the question's own cosines run at.
"""
from __future__ import annotations

import numpy as np

from service.answer.evidence import SentenceRef
from service.search import Searcher

MIN_SENTENCES = 5  # below this a report has no distribution to stand out from


def standings(searcher: Searcher, refs: list[SentenceRef], query: np.ndarray) -> dict[tuple[int, int], float]:
    """(chunk row, sentence index) -> standing of each sentence with a vector; {} when the index has none."""
    vectors = searcher.sentences
    refs = [ref for ref in refs if ref.index >= 0]
    if vectors is None or len(refs) < MIN_SENTENCES:
        return {}
    sims = vectors.similarities(query, vectors.ids_of(refs))
    finite = sims[np.isfinite(sims)]
    if len(finite) < MIN_SENTENCES:
        return {}
    mean, std = float(finite.mean()), float(finite.std()) or 1.0
    return {(ref.row, ref.index): (float(s) - mean) / std for ref, s in zip(refs, sims) if np.isfinite(s)}
