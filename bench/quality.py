"""Answer and retrieval quality, ours beside the baselines, in one run.

    .venv/bin/python bench/quality.py                 # everything (NCP takes ~15 min the first time)
    .venv/bin/python bench/quality.py --skip-ncp      # without the 599-document external benchmark
    .venv/bin/python bench/quality.py --only which    # one part: search, which, facts, dialogues, ncp

Parts:
- search: dev_search and our paraphrase cases, hit@1/hit@5/MRR@10 for BM25, dense, hybrid, and
  the generic recipe (500-character windows, 100 overlap) both dense-only and hybrid
  (jieba BM25 + dense, same fusion), so like is compared with like;
- which: mean issuer F1 (seeds) / report F1 (large: 31 provincial + 72 national reports with
  NCP's 599 documents as distractors) per split and style, for the engine by meaning (the
  product), the previous lexical engine, and the issuers of the top 3 / top 6 hybrid hits;
  every quote checked verbatim;
- facts: share right among answerable, share of unanswerable told apart (bench/fact_eval.py);
- dialogues: turns resolved right with [{question, answer}] history (bench/dialogue_eval.py);
- ncp: the external retrieval benchmark (bench/ncp_benchmark.py).
The verifier's numbers were chosen on the dev splits (bench/tune_which.py); val is never tuned on.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

from corpora import available, ensure_index  # noqa: E402
from which_eval import f1, keys_of, load_cases  # noqa: E402

from indexer.embed import load_embedder  # noqa: E402
from indexer.normalize import normalize  # noqa: E402
from indexer.store import current_generation  # noqa: E402
from service.answer import Answerer  # noqa: E402
from service.answer.lexical_which import lexical_places  # noqa: E402
from service.answer.which import which_scope  # noqa: E402
from service.fusion import HYBRID_WEIGHTS, score_fusion  # noqa: E402
from service.search import Filters, Searcher  # noqa: E402

SHARED = ROOT.parent / "shared"
PARTS = ("search", "which", "facts", "dialogues", "ncp")


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# -- search ------------------------------------------------------------------------------------

def passage_hits(results, case) -> list[bool]:
    wanted = [normalize(s).text for s in case["any"]]
    return [r["doc_id"] == case["doc"] and any(w in r["norm"] for w in wanted) for r in results]


def metrics(flags_per_case: list[list[bool]]) -> dict:
    n = len(flags_per_case) or 1
    hit1 = sum(bool(f[:1] and f[0]) for f in flags_per_case) / n
    hit5 = sum(any(f[:5]) for f in flags_per_case) / n
    mrr = sum(next((1 / (i + 1) for i, x in enumerate(f[:10]) if x), 0) for f in flags_per_case) / n
    return {"hit@1": round(hit1, 3), "hit@5": round(hit5, 3), "MRR@10": round(mrr, 3)}


def run_modes(searcher: Searcher, cases: list[dict]) -> dict:
    out = {}
    for mode in ("bm25", "dense", "hybrid"):
        flags = []
        for case in cases:
            hits = searcher.search(case["q"], k=10, mode=mode)
            flags.append(passage_hits([{"doc_id": h.chunk.doc_id, "norm": h.chunk.search_text} for h in hits], case))
        out[mode] = metrics(flags)
    return out


class GenericBaseline:
    """The generic RAG recipe: fixed 500-character windows with 100 overlap, no sections."""

    def __init__(self, searcher: Searcher, embedder, size: int = 500, overlap: int = 100):
        from rank_bm25 import BM25Okapi

        self.windows = []
        for doc_id in searcher.reports:
            text = searcher.normalized(doc_id).text
            for start in range(0, max(len(text) - overlap, 1), size - overlap):
                self.windows.append((doc_id, text[start:start + size]))
        self.searcher, self.embedder = searcher, embedder
        self.vectors = embedder.embed_passages([w for _, w in self.windows])
        self.bm25 = BM25Okapi([searcher.query_tokens(w) or ["_"] for _, w in self.windows])

    def search(self, query: str, hybrid: bool) -> list[dict]:
        dense = self.vectors @ self.embedder.embed_queries([query])[0]
        dense_ids = [int(i) for i in np.argsort(-dense)[:100]]
        if hybrid:
            sparse = self.bm25.get_scores(self.searcher.query_tokens(query))
            bm25_ids = [int(i) for i in np.argsort(-sparse)[:100] if sparse[i] > 0]
            fused = score_fusion([(bm25_ids, [sparse[i] for i in bm25_ids]), (dense_ids, [dense[i] for i in dense_ids])],
                                 weights=HYBRID_WEIGHTS)
            order = [i for i, _ in fused]
        else:
            order = dense_ids
        return [{"doc_id": self.windows[i][0], "norm": self.windows[i][1]} for i in order[:10]]


def search_part(searcher: Searcher, embedder) -> None:
    print("== Retrieval on the five reports (a hit: right report and an expected string in the passage)")
    sets = [("our paraphrase cases", load_jsonl(BENCH / "data" / "search_cases.jsonl"))]
    if (SHARED / "eval" / "dev_search.jsonl").is_file():
        sets.insert(0, ("dev_search", load_jsonl(SHARED / "eval" / "dev_search.jsonl")))
    else:
        print("   (dev_search skipped: ../shared/eval is not beside this checkout)")
    generic = GenericBaseline(searcher, embedder)
    for name, cases in sets:
        print(f"-- {name} ({len(cases)} queries)")
        for mode, m in run_modes(searcher, cases).items():
            print(f"   {mode:<15} {m}")
        for label, hybrid in (("generic dense", False), ("generic hybrid", True)):
            print(f"   {label:<15} {metrics([passage_hits(generic.search(c['q'], hybrid), c) for c in cases])}")


# -- which -------------------------------------------------------------------------------------

def which_engines(searcher: Searcher, answerer: Answerer):
    """name -> function(question) -> doc ids, for the product and the baselines."""

    def product(q):
        answer = answerer.answer(q)
        for c in answer.citations:
            if searcher.reports[c.doc_id]["original"][c.start:c.end] != c.quote:
                raise AssertionError(f"A quote is not verbatim: {c.quote!r}")
        return [g.doc_id for g in answer.groups]

    def lexical(q):
        filters, topic, refusal = which_scope(searcher, q, Filters())
        return [] if refusal else [d for d, _ in lexical_places(searcher, topic, filters, by_section=False)]

    def top(k):
        def issuers(q):
            return list(dict.fromkeys(h.chunk.doc_id for h in searcher.search(q, k=k)))
        return issuers

    return {"ours (by meaning)": product, "previous lexical": lexical, "top-3 issuers": top(3), "top-6 issuers": top(6)}


def which_part(embedder, verbose: bool) -> None:
    print("== Which-questions: mean F1 of the places named (seeds: issuers; large: reports)")
    for corpus in ("seeds", "large"):
        if not available(corpus):
            print(f"   {corpus}: skipped (its material is not beside this checkout)")
            continue
        searcher = Searcher.load(current_generation(ensure_index(corpus, embedder)), embedder)
        answerer = Answerer(searcher)
        engines = which_engines(searcher, answerer)
        times = []
        for split in ("dev", "val"):
            cases = load_cases(corpus, split)
            print(f"-- {corpus} {split} ({len(cases)} questions; {len(searcher.reports)} reports)")
            for name, engine in engines.items():
                scores, misses = [], []
                for case in cases:
                    started = time.perf_counter()
                    got = keys_of(corpus, searcher, engine(case["q"]))
                    if name.startswith("ours"):
                        times.append(time.perf_counter() - started)
                    value = f1(got, set(case["gold"]))
                    scores.append((case["style"], value))
                    if value < 1 and name.startswith("ours"):
                        misses.append((case, got, value))
                styles = {s: [v for st, v in scores if st == s] for s in ("paraphrase", "lexical", "none", "plans")}
                parts = "  ".join(f"{s} {np.mean(v):.3f} ({len(v)})" for s, v in styles.items() if v)
                print(f"   {name:<18} F1 {np.mean([v for _, v in scores]):.3f}   {parts}")
                if verbose:
                    for case, got, value in misses:
                        print(f"      miss {value:.2f} {case['q']}\n         want {sorted(case['gold'])}\n         got  {sorted(got)}")
        print(f"   which-answer time on {corpus}: p50 {1000 * np.percentile(times, 50):.0f} ms, "
              f"p95 {1000 * np.percentile(times, 95):.0f} ms over {len(times)} questions (every quote verbatim)")


# -- facts and dialogues -----------------------------------------------------------------------

def facts_part(embedder) -> None:
    from fact_eval import ENGLISH_CASES, load_cases as fact_cases, score_facts

    searcher = Searcher.load(current_generation(ensure_index("seeds", embedder)), embedder)
    for label, cases in (("", fact_cases()), (", asked in English", fact_cases(ENGLISH_CASES))):
        scores = score_facts(Answerer(searcher), cases)
        print(f"== Fact questions with an answer type (seeds{label})")
        for split, s in scores.items():
            print(f"   {split}: right {s['right']} of {s['answerable']} answerable; "
                  f"unanswerable told apart {s['told_apart']} of {s['unanswerable']}")


def dialogues_part(embedder) -> None:
    from dialogue_eval import load_dialogues, score_dialogues

    from service import create_app
    from service.answer.conversation import resolve

    index = ensure_index("seeds", embedder)
    app = create_app({"TESTING": True, "INDEX_DIR": str(index), "CORPUS_DIR": str(ROOT / "corpus"),
                      "EMBEDDER": embedder, "BUILD_IF_MISSING": False})
    client = app.test_client()
    known = [m["issuer"] for m in Searcher.load(current_generation(index), embedder).metas().values() if m["issuer"]]
    result = score_dialogues(
        lambda q, h: client.post("/api/ask", json={"question": q, "history": h}).get_json(),
        load_dialogues(), lambda q, h: resolve(q, h, known).exclude)
    print("== Follow-ups: turns right with [{question, answer}] history (seeds)")
    for name, split in sorted(result["splits"].items()):
        print(f"   {name}: {split['right']}/{split['turns']} ({split['accuracy']:.3f})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-ncp", action="store_true")
    parser.add_argument("--only", choices=PARTS, action="append")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    parts = args.only or [p for p in PARTS if not (p == "ncp" and args.skip_ncp)]
    embedder = load_embedder(None, ROOT / ".cache" / "models")
    if "search" in parts:
        search_part(Searcher.load(current_generation(ensure_index("seeds", embedder)), embedder), embedder)
    if "which" in parts:
        which_part(embedder, args.verbose)
    if "facts" in parts:
        facts_part(embedder)
    if "dialogues" in parts:
        dialogues_part(embedder)
    if "ncp" in parts:
        if (SHARED / "ext" / "ncp-govqa").is_dir():
            from ncp_benchmark import run_ncp

            run_ncp(embedder)
        else:
            print("== NCP skipped: ../shared/ext is not beside this checkout")
    return 0


if __name__ == "__main__":
    started = time.time()
    code = main()
    print(f"(total {time.time() - started:.0f} s)")
    sys.exit(code)
