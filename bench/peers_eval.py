"""相似做法 (issue 12 §4): does a passage's known peer report come back in the top 5?

    .venv/bin/python bench/peers_eval.py                 # on the seed index (corpus/)
    .venv/bin/python bench/peers_eval.py --index DIR     # on another index root

Cases (bench/data/peer_cases.jsonl) name a passage by its report and a piece of its text, and
the reports known (by reading) to describe the same practice. A case counts at 5 when one of
its known peers is among the first five peers; at 1 when the first peer is one of them. Half
the cases ("tune") were used to set service/peers.py's weights; the other half ("held") never.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = ROOT / "bench" / "data" / "peer_cases.jsonl"


def locate(searcher, doc_id: str, text: str) -> str:
    """The chunk id of the first chunk of the report whose text (or heading) holds `text`."""
    for chunk in searcher.chunks_of(doc_id):
        if text in chunk.text or text in chunk.search_text or text in " ".join(chunk.section_path):
            return chunk.chunk_id
    raise LookupError(f"No chunk of {doc_id} holds {text!r}.")


def evaluate(searcher, cases: list[dict], **options) -> dict[str, dict]:
    """Per split: cases, hit@1, hit@5 and the mean reciprocal rank of the first known peer."""
    from service.peers import find_peers

    out: dict[str, dict] = {}
    for case in cases:
        chunk_id = case.get("chunk_id") or locate(searcher, case["doc"], case["text"])
        peers = [p.doc_id for p in find_peers(searcher, chunk_id, k=10, **options).peers]
        rank = next((i for i, d in enumerate(peers, start=1) if d in case["peers"]), None)
        case["rank"] = rank
        for split in (case["split"], "all"):
            row = out.setdefault(split, {"cases": 0, "hit1": 0, "hit5": 0, "rr": 0.0, "missed": []})
            row["cases"] += 1
            row["hit1"] += rank == 1
            row["hit5"] += rank is not None and rank <= 5
            row["rr"] += 1.0 / rank if rank else 0.0
            if not rank or rank > 5:
                row["missed"].append(case["id"])
    return out


def main() -> int:
    from indexer.embed import load_embedder
    from indexer.store import current_generation
    from service.search import Searcher

    args = sys.argv[1:]
    index = Path(args[args.index("--index") + 1]) if "--index" in args else ROOT / ".cache" / "bench" / "seeds-index"
    if current_generation(index) is None:
        from indexer.build import build_index

        build_index(ROOT / "corpus", index, load_embedder(None, ROOT / ".cache" / "models"))
    searcher = Searcher.load(current_generation(index), load_embedder(None, ROOT / ".cache" / "models"))
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    cases = [c for c in cases if c["doc"] in searcher.reports]
    started = time.monotonic()
    result = evaluate(searcher, cases)
    elapsed = (time.monotonic() - started) / max(1, len(cases))
    print(f"index: {index} ({len(searcher.metas())} reports); {len(cases)} cases; {elapsed * 1000:.0f} ms per passage")
    for split in ("tune", "held", "all"):
        row = result.get(split)
        if not row:
            continue
        n = row["cases"]
        print(f"{split:5} n={n:2}  hit@1 {row['hit1'] / n:.3f}  hit@5 {row['hit5'] / n:.3f}  MRR {row['rr'] / n:.3f}"
              + (f"  missed@5: {', '.join(row['missed'])}" if row["missed"] else ""))
    for case in cases:
        if case["rank"] != 1:
            print(f"   {case['id']} ({case['split']}) first known peer at {case['rank']}: {case['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
