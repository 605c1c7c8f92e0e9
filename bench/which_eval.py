"""Which-question cases and their scoring: issuer-set (seeds) or report-set (large) F1.

Cases live in bench/data/which_seeds.jsonl (gold = issuer names) and which_large.jsonl
(gold = doc ids of the bench/corpora.py "large" corpus); each has a split (dev / val) and a
style (paraphrase / lexical / none / plans). bench/tune_which.py fits on dev only.
"""
from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
FILES = {"seeds": DATA / "which_seeds.jsonl", "large": DATA / "which_large.jsonl"}


def load_cases(name: str, split: str | None = None) -> list[dict]:
    rows = [json.loads(line) for line in FILES[name].read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split is None or r["split"] == split]


def f1(got: set[str], want: set[str]) -> float:
    """Set F1; an empty answer to a question nobody answers scores 1."""
    if not got and not want:
        return 1.0
    tp = len(got & want)
    if not tp:
        return 0.0
    precision, recall = tp / len(got), tp / len(want)
    return 2 * precision * recall / (precision + recall)


def keys_of(corpus: str, searcher, doc_ids) -> set[str]:
    """What gold names: issuers on the seeds, doc ids on the large corpus."""
    if corpus == "seeds":
        return {searcher.meta(d)["issuer"] for d in doc_ids}
    return set(doc_ids)


def summarise(scores: list[tuple[dict, float]]) -> dict:
    """Mean F1 overall and per style."""
    out = {"n": len(scores), "F1": _mean([s for _, s in scores])}
    for style in ("paraphrase", "lexical", "none", "plans"):
        chosen = [s for c, s in scores if c["style"] == style]
        if chosen:
            out[style] = _mean(chosen)
    return out


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 3) if values else 0.0


def score_answers(corpus: str, searcher, answer_docs, cases: list[dict], verbose: bool = False) -> dict:
    """Mean F1 of answer_docs(question) -> doc ids over the cases, with misses printed if verbose."""
    scores = []
    for case in cases:
        got = keys_of(corpus, searcher, answer_docs(case["q"]))
        want = set(case["gold"])
        value = f1(got, want)
        scores.append((case, value))
        if verbose and value < 1.0:
            print(f"    miss [{case['split']}/{case['style']}] {case['q']}  F1 {value:.2f}\n"
                  f"        want {sorted(want)}\n        got  {sorted(got)}")
    return summarise(scores)
