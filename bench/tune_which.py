"""Choose the which-verifier's six numbers (service/answer/verifier.json) on the development cases.

    .venv/bin/python bench/tune_which.py            # grid search on dev, print dev and val, write verifier.json
    .venv/bin/python bench/tune_which.py --dry-run  # print only

Each question is scanned once (bench/corpora.py indexes); the grid then re-decides every
report from the stored sentence signals. The numbers that give the best mean F1 over the
dev questions of all corpora are kept (ties: the smaller floor, then the smaller margin);
the validation split is only printed, never chosen on.
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpora import available, ensure_index  # noqa: E402
from which_eval import f1, keys_of, load_cases  # noqa: E402

from indexer.embed import load_embedder  # noqa: E402
from indexer.normalize import normalize  # noqa: E402
from indexer.store import current_generation  # noqa: E402
from service.answer.lexical_which import lexical_places  # noqa: E402
from service.answer.meaning import scan  # noqa: E402
from service.answer.verifier import PARAMETERS, WEIGHTS_FILE, Verifier, asks_about_plans, may_show, signals  # noqa: E402
from service.answer.which import which_scope  # noqa: E402
from service.search import Filters, Searcher  # noqa: E402

TIE = 0.005  # dev F1 differences below this are noise on ~80 questions
GRID = {
    "coverage": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0),
    "learned": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0),
    "done": (0.0, 0.5, 1.0, 2.0),
    "floor": tuple(x / 4 for x in range(8, 29)),  # 2.0 .. 7.0
    "margin": (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0),
}


def collect(searcher: Searcher, corpus: str, cases: list[dict]) -> list[dict]:
    """Per question: the scan's candidate sentences grouped by report, and what gold names."""
    out = []
    for case in cases:
        filters, topic, refusal = which_scope(searcher, case["q"], Filters())
        docs: dict[str, list] = {}
        if not refusal:
            found = scan(searcher, topic, searcher.mask(filters), searcher.query_vector(normalize(topic).text))
            for e in found.evidence:
                if may_show(e.label, asks_about_plans(case["q"])):
                    docs.setdefault(e.doc_id, []).append(e)
        lexical = keys_of(corpus, searcher, [d for d, _ in lexical_places(searcher, topic, filters, asks_about_plans(case["q"]))]) if topic else set()
        keys = {d: keys_of(corpus, searcher, [d]) for d in docs}
        docs = {d: np.array([signals(e) for e in ev]) for d, ev in docs.items()}
        out.append({"case": case, "docs": docs, "keys": keys, "plans": asks_about_plans(case["q"]), "lexical": lexical})
    return out


def decide(item: dict, verifier: Verifier) -> set[str]:
    weights = np.array(verifier.weights())
    scores = {d: float((rows @ weights).max()) for d, rows in item["docs"].items()}
    if not scores:
        return set(item["lexical"])
    best = max(scores.values())
    return set(item["lexical"]).union(*[item["keys"][d] for d, s in scores.items() if verifier.accepts(s, best)])


def mean_f1(items: list[dict], verifier: Verifier) -> float:
    return sum(f1(decide(i, verifier), set(i["case"]["gold"])) for i in items) / max(len(items), 1)


def styles(items: list[dict], verifier: Verifier) -> str:
    by: dict[str, list[float]] = {}
    for i in items:
        by.setdefault(i["case"]["style"], []).append(f1(decide(i, verifier), set(i["case"]["gold"])))
    return "  ".join(f"{k} {sum(v) / len(v):.3f} ({len(v)})" for k, v in sorted(by.items()))


def print_table(per_corpus: dict, verifier: Verifier) -> None:
    for corpus, splits in per_corpus.items():
        for split, items in splits.items():
            print(f"   {corpus:<6} {split:<4} mean F1 {mean_f1(items, verifier):.3f} over {len(items):>3}   {styles(items, verifier)}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--corpora", default="seeds,large")
    args = parser.parse_args()
    embedder = load_embedder(None, ROOT / ".cache" / "models")
    per_corpus: dict[str, dict[str, list]] = {}
    for corpus in args.corpora.split(","):
        if not available(corpus):
            print(f"   {corpus}: its material is not here, skipped")
            continue
        searcher = Searcher.load(current_generation(ensure_index(corpus, embedder)), embedder)
        per_corpus[corpus] = {s: collect(searcher, corpus, load_cases(corpus, s)) for s in ("dev", "val")}
    dev = [i for splits in per_corpus.values() for i in splits["dev"]]
    current = Verifier.load()
    print(f"== current verifier ({current.chosen_on})")
    print_table(per_corpus, current)
    results = [(mean_f1(dev, Verifier(*values)), values) for values in itertools.product(*(GRID[n] for n in PARAMETERS))]
    best_value = max(value for value, _ in results)
    # On the plateau of near-best settings, the widest margin: a list that errs towards
    # completeness (researchers want every place), then the lowest floor.
    near = [values for value, values in results if value >= best_value - TIE]
    margin, floor = PARAMETERS.index("margin"), PARAMETERS.index("floor")
    best = Verifier(*max(near, key=lambda v: (v[margin], -v[floor], v)))
    best = Verifier(*(getattr(best, n) for n in PARAMETERS),
                    chosen_on=f"grid search on the dev split ({len(dev)} questions: "
                              + ", ".join(f"{c} {len(s['dev'])}" for c, s in per_corpus.items())
                              + ") by bench/tune_which.py; validation split not used")
    print("== chosen: " + ", ".join(f"{n} {getattr(best, n):g}" for n in PARAMETERS))
    print_table(per_corpus, best)
    if not args.dry_run:
        WEIGHTS_FILE.write_text(json.dumps(best.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"   wrote {WEIGHTS_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
