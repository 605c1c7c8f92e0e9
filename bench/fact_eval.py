"""Fact questions with an answer type: share answered right and share of unstated figures told apart.

    .venv/bin/python bench/fact_eval.py                 # builds the seed index in a temp dir
    .venv/bin/python bench/fact_eval.py --index DIR -v  # reuse an index; print every miss

Right (answerable): the first citation is from the right issuer and both its quote and the
answer text hold the expected value.  Told apart (unanswerable): no groups and the answer
says 没有写明.  Figures are printed per split (dev: rules set on it; val: never tuned on). `--fact-path`
sends every question to the fact answerer, to tell its errors from routing errors. `--sweep`
chooses the two numbers of the rescue by meaning (service/answer/facts.py: RESCUE_STANDING,
RESCUE_COVERAGE) on the dev split and prints the grid, then both splits without the rescue and
with the chosen pair.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.answer.wording import plain

CASES = Path(__file__).resolve().parent / "data" / "fact_cases.jsonl"
# The same kinds of question asked in English, places named in pinyin (found by meaning alone).
ENGLISH_CASES = CASES.with_name("fact_cases_en.jsonl")
SPLITS = ("dev", "val")
SWEEP_STANDING = (1.5, 2.0, 2.5, 3.0, 3.5, float("inf"))
SWEEP_COVERAGE = (0.0, 0.1, 0.2, 0.3, 0.4)


def load_cases(path: Path = CASES) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def judge_case(answer, case: dict) -> bool:
    """Whether one answer is right for its case (see the module docstring)."""
    if not case["answerable"]:
        return not answer.groups and "没有写明" in answer.answer
    if not answer.citations:
        return False
    first = answer.citations[0]
    value = plain(case["value"])
    return first.issuer == case["issuer"] and value in plain(first.quote) and value in plain(answer.answer)


class FactPath:
    """An answerer that sends every question to the fact answerer, to measure it apart from routing."""

    def __init__(self, answerer):
        self.searcher = answerer.searcher

    def answer(self, question: str):
        from service.answer.facts import answer_fact
        from service.answer.records import Answer
        from service.search import Filters

        text, groups = answer_fact(self.searcher, question, Filters())
        citations = tuple(c for g in groups for c in g.citations)
        return Answer(question, question, "fact", text, tuple(groups), citations)


def score_facts(answerer, cases: list[dict], verbose: bool = False) -> dict:
    """Per split: share right among answerable, share of unanswerable told apart, and the misses."""
    out: dict = {}
    for split in SPLITS:
        chosen = [c for c in cases if c.get("split") == split]
        answerable = [c for c in chosen if c["answerable"]]
        unanswerable = [c for c in chosen if not c["answerable"]]
        misses, routed = [], 0
        right = told = 0
        for case in chosen:
            answer = answerer.answer(case["q"])
            routed += answer.kind == "fact"
            ok = judge_case(answer, case)
            if case["answerable"]:
                right += ok
            else:
                told += ok
            if not ok:
                quote = answer.citations[0].quote[:60] if answer.citations else ""
                misses.append({"q": case["q"], "kind": answer.kind, "answer": answer.answer[:80], "quote": quote})
        out[split] = {
            "answerable": len(answerable),
            "right": round(right / len(answerable), 3) if answerable else None,
            "unanswerable": len(unanswerable),
            "told_apart": round(told / len(unanswerable), 3) if unanswerable else None,
            "routed_to_fact": f"{routed}/{len(chosen)}",
            "misses": misses,
        }
    return out


def balanced(split: dict) -> float:
    """The mean of the share right and the share told apart: neither may be bought with the other."""
    return (split["right"] + split["told_apart"]) / 2


def sweep(answerer, cases: list[dict]) -> None:
    """Grid over the rescue's two numbers on dev; the best (ties: the stricter) is printed with val."""
    from service.answer import facts

    path = FactPath(answerer)
    dev = [c for c in cases if c["split"] == "dev"]
    grid = []
    print("   standing  coverage   dev right  told apart")
    for standing in SWEEP_STANDING:
        for coverage in SWEEP_COVERAGE:
            facts.RESCUE_STANDING, facts.RESCUE_COVERAGE = standing, coverage
            d = score_facts(path, dev)["dev"]
            grid.append((balanced(d), standing, coverage))
            print(f"   {standing:>8} {coverage:>9}   {d['right']:>9} {d['told_apart']:>11}")
    best = max(grid, key=lambda g: (round(g[0], 6), g[1], g[2]))
    for label, standing, coverage in (("without the rescue", float("inf"), best[2]), ("chosen on dev", best[1], best[2])):
        facts.RESCUE_STANDING, facts.RESCUE_COVERAGE = standing, coverage
        scores = score_facts(path, cases)
        print(f"== {label}: standing {standing}, coverage {coverage}; "
              + "; ".join(f"{sp}: right {scores[sp]['right']}, told apart {scores[sp]['told_apart']}" for sp in SPLITS))


def main() -> int:
    from indexer.build import build_index
    from indexer.embed import load_embedder
    from indexer.store import current_generation
    from service.answer import Answerer
    from service.search import Searcher

    parser = argparse.ArgumentParser()
    parser.add_argument("--index", default=None, help="reuse an index of corpus/ (default: build in a temp dir)")
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--fact-path", action="store_true",
                        help="send every question to the fact answerer (skips questions.classify)")
    parser.add_argument("--sweep", action="store_true", help="choose the rescue's two numbers on dev")
    args = parser.parse_args()
    embedder = load_embedder(None, ROOT / ".cache" / "models")
    index = Path(args.index) if args.index else Path(tempfile.mkdtemp()) / "index"
    if current_generation(index) is None:
        build_index(ROOT / "corpus", index, embedder)
    answerer = Answerer(Searcher.load(current_generation(index), embedder))
    if args.sweep:
        sweep(answerer, load_cases())
        return 0
    for label, cases in (("", load_cases()), (", in English", load_cases(ENGLISH_CASES))):
        scores = score_facts(FactPath(answerer) if args.fact_path else answerer, cases)
        print(f"== Fact questions with an answer type{label}" + (" (fact path only)" if args.fact_path else " (through Answerer)"))
        for split in SPLITS:
            s = scores[split]
            print(f"   {split}: right {s['right']} of {s['answerable']} answerable, "
                  f"told apart {s['told_apart']} of {s['unanswerable']} unanswerable, routed to fact {s['routed_to_fact']}")
            if args.verbose:
                for miss in s["misses"]:
                    print(f"      miss [{miss['kind']}] {miss['q']} -> {miss['answer']} | {miss['quote']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
