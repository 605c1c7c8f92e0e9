"""Compare by task area (对比): how often a section's top area is one of its hand-labelled areas.

    .venv/bin/python bench/areas_eval.py        # seeds (corpus/) and the provincial reports labelled
    .venv/bin/python bench/areas_eval.py -v     # also print every miss

Labels (bench/data/area_labels.jsonl) were set by reading each section's heading and text: `doc`
is a seed's doc_id or a file of ../shared/ext/prov31-gwr, `gold` the areas the section is about.
The weights in service/areas/tagging.py were set on the rows with split "tune"; "held" checks them.
Each report is processed and its chunks embedded exactly as the indexer does (same passage texts),
and sections are tagged by service.areas.tag_sections, the function the service uses.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LABELS = Path(__file__).resolve().parent / "data" / "area_labels.jsonl"
PROVINCES = ROOT.parent / "shared" / "ext" / "prov31-gwr"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()

    import numpy as np

    from indexer.embed import load_embedder
    from indexer.pipeline import passage_texts, process_source
    from indexer.sources import read_source
    from service.areas import AREA_BY_ID, AREAS, tag_sections

    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not PROVINCES.is_dir():
        print(f"{PROVINCES} is absent: scoring the seed sections only.")
        rows = [r for r in rows if not r["doc"].endswith(".docx")]
    embedder = load_embedder(None, ROOT / ".cache" / "models")
    areas = embedder.embed_queries([a.description for a in AREAS]).astype(np.float32)
    areas /= np.linalg.norm(areas, axis=1, keepdims=True)
    name_of = {a.id: a.name for a in AREAS}

    predicted: dict[tuple[str, str], tuple[str, ...]] = {}
    for doc in sorted({r["doc"] for r in rows}):
        path = PROVINCES / doc if doc.endswith(".docx") else ROOT / "corpus" / f"{doc}.txt"
        report = process_source(doc, read_source(path))
        vectors = embedder.embed_passages(passage_texts(report.chunks)) if report.chunks else None
        for section_id, tags in tag_sections(report.section_dicts(), report.chunks, vectors, areas).items():
            predicted[(doc, section_id)] = tuple(name_of[t] for t in tags)

    right: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        tags = predicted[(row["doc"], row["section_id"])]
        ok = bool(tags) and tags[0] in row["gold"]
        right[row["split"]].append(ok)
        right["all"].append(ok)
        if args.verbose and not ok:
            print(f"miss [{row['split']}] {row['doc'][:12]} {row['section_id']} {row['heading'][:30]}: "
                  f"tagged {'/'.join(tags) or '-'}, gold {'/'.join(row['gold'])}")
    assert set(AREA_BY_ID)  # every gold name must be an area's name
    assert all(g in name_of.values() for r in rows for g in r["gold"]), "a label names no area"
    for split in ("tune", "held", "all"):
        hits = right[split]
        print(f"{split:5s} top area in gold: {sum(hits)}/{len(hits)} = {sum(hits) / len(hits):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
