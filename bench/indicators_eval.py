"""Indicators (数据): precision and recall of the extracted figures against hand labels of the seeds.

    .venv/bin/python bench/indicators_eval.py                 # builds the seed index in a temp dir
    .venv/bin/python bench/indicators_eval.py --index DIR -v  # reuse an index; print every miss

A figure is right when a label has the same doc_id, indicator name, unit and value (the
number, so 「1.1萬条」 is 11000 条).  Labels were set by reading the five seeds
(bench/data/indicator_labels.jsonl); a row with a null name only records that a seed has none.
Every extracted quote is also checked verbatim at its offsets and to hold its value.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LABELS = Path(__file__).resolve().parent / "data" / "indicator_labels.jsonl"


def load_labels(path: Path = LABELS) -> set[tuple]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(r["doc_id"], r["name"], float(r["value"]), r["unit"]) for r in rows if r["name"]}


def score(figures, labels: set[tuple]) -> tuple[float, float, set[tuple], set[tuple]]:
    """(precision, recall, wrong predictions, missed labels)."""
    predicted = {(f.doc_id, f.name, float(f.number), f.unit) for f in figures}
    right = predicted & labels
    precision = len(right) / len(predicted) if predicted else 1.0
    recall = len(right) / len(labels) if labels else 1.0
    return precision, recall, predicted - labels, labels - predicted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="an index directory of corpus/ (default: build one)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    from indexer.build import build_index
    from indexer.embed import HashingEmbedder
    from indexer.store import current_generation
    from service.indicators import extract_figures
    from service.search import Searcher

    embedder = HashingEmbedder()  # extraction reads texts only; no vectors are needed
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or Path(tmp) / "index"
        if args.index is None:
            build_index(ROOT / "corpus", index, embedder)
        searcher = Searcher.load(current_generation(index), embedder, verify=False)
        figures = extract_figures(searcher)
        bad_quotes = [f for f in figures if searcher.reports[f.doc_id]["original"][f.start:f.end] != f.quote
                      or f.value not in f.quote]
    labels = load_labels()
    precision, recall, wrong, missed = score(figures, labels)
    print(f"figures extracted: {len(figures)}; labels: {len(labels)}; quotes not verbatim: {len(bad_quotes)}")
    print(f"precision {precision:.3f}  recall {recall:.3f}")
    if args.verbose:
        for row in sorted(wrong, key=str):
            print("  wrong :", *row)
        for row in sorted(missed, key=str):
            print("  missed:", *row)
    return 0 if not bad_quotes else 1


if __name__ == "__main__":
    sys.exit(main())
