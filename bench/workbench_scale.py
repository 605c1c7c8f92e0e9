"""Workbench at corpus scale (issue 12): /indicators and /checkups over 1,000 generated reports.

    .venv/bin/python bench/workbench_scale.py                 # 1,000 reports, 5 warm runs
    .venv/bin/python bench/workbench_scale.py --reports 300   # quicker
    .venv/bin/python bench/workbench_scale.py --keep DIR      # keep the corpus and index in DIR
    .venv/bin/python bench/workbench_scale.py --figured-share 0.05   # fewer shared template sentences

The goal: the indicator table and the check-up scorecard for 1,000 reports render in <= 1 s.

What is real and what is synthetic:
- report TEXT is real sentences rearranged: each report takes the heading structure of one of
  the seed reports (corpus/000-003: their 一、… and （一）… headings, in order, verbatim) and
  fills each paragraph with as many sentences as the seed's paragraph had: a quarter
  (--figured-share) drawn at random from the seeds' sentences that state figures, as published
  (「办理行政复议案件43件」), so those repeat across reports (~140 each at 1,000); the rest
  dealt like cards, none twice before all are used once, from the distinct sentences of
  corpus/*.txt and of the State Council and 143 city work reports (../shared/ext/national-gwr
  and cities143-gwr, when present). The seeds' own place names in those sentences are replaced
  by the report's place.
- each report has a title line naming a distinct real township of the gazetteer
  (indexer/data/gazetteer.tsv.gz) and a year of 2019-2024, and a signature and date line, so
  the indexer's metadata (issuer, level, region, year, published) differs from report to report.
- the index is built by the real indexer (indexer.build.build_index: normalisation, sections,
  chunking, jieba BM25, FAISS) in a temp folder, but with SYNTHETIC vectors: embedding 1,000
  reports with the real e5 model is too slow here, so every passage and sentence gets a
  deterministic random unit vector seeded by a hash of its text (a faster cousin of the
  HashingEmbedder tests/conftest.py uses). /indicators and /checkups read no vector at all.
- the pages are timed through the Flask test client (no HTTP, no browser): the first request
  (cold: it extracts the figures, or checks every report, once per index generation) and the
  median of the warm requests after it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.embed import HashingEmbedder

SHARED = ROOT.parent / "shared"
GOAL_S = 1.0
TEMPLATES = ("000_dc284aa856a2efc0", "001_853fd82f221bc387", "002_95bdc2d1cb62a6be", "003_b47a481025290089")
SEED_PLACES = ("粤海街道办事处", "粤海街道", "天水郡街道", "翠苑街道", "坦洲镇", "海珠区", "南山区", "秦州区", "西湖区")
HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)")
SENTENCE = re.compile(r"[^。！？；]*[。！？；]|[^。！？；]+$")
FIGURED_SHARE = 0.25
PAGES = ("/indicators", "/api/indicators", "/checkups", "/api/checkups")


class RandomEmbedder(HashingEmbedder):
    """SYNTHETIC vectors: one deterministic random unit vector per text (seeded by its hash)."""

    def __init__(self, dim: int = 64):
        super().__init__(dim)
        self.name = "bench-random-64"

    def _vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
        return np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.findall(text) if s.strip()]


def load_material() -> tuple[list[list[tuple[str, int]]], list[str], str, int]:
    """The seed templates (a list of (heading, 0) and (paragraph, its sentence count)), the sentence pool,
    how it was made, and how many of its first sentences are the seeds'."""
    templates = []
    for stem in TEMPLATES:
        lines = [line.strip() for line in (ROOT / "corpus" / f"{stem}.txt").read_text(encoding="utf-8").splitlines()]
        lines = [line for line in lines if line]
        start = next(i for i, line in enumerate(lines) if HEADING.match(line))
        body = []
        for line in lines[start:]:
            if HEADING.match(line) and len(line) <= 60:
                body.append((line, 0))
            elif len(line) >= 20:
                body.append(("", max(1, len(_sentences(line)))))
        templates.append(body)
    pool: dict[str, None] = {}
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if HEADING.match(line):
                continue
            for s in _sentences(line):
                if 8 <= len(s) <= 300:
                    pool.setdefault(s, None)
    seeds = len(pool)
    how = f"{seeds} distinct sentences of corpus/*.txt"
    national = SHARED / "ext" / "national-gwr" / "government_work_reports.jsonl"
    if national.exists():
        for line in national.read_text(encoding="utf-8").splitlines():
            if line.strip():
                for s in _sentences(json.loads(line)["content"]):
                    if 8 <= len(s) <= 300:
                        pool.setdefault(s, None)
        how += f", {len(pool) - seeds} of the State Council work reports"
    cities = SHARED / "ext" / "cities143-gwr"
    if cities.is_dir():
        before = len(pool)
        for path in sorted(cities.glob("*.txt")):
            for s in _sentences(path.read_text(encoding="utf-8")):
                if 8 <= len(s) <= 300:
                    pool.setdefault(s, None)
        how += f", {len(pool) - before} of 143 city work reports (cities143-gwr)"
    return templates, list(pool), how, seeds


def townships(n: int, rng: random.Random) -> list[tuple[str, str, str, str]]:
    """n distinct townships named once in the gazetteer: (province, city, county, township)."""
    from indexer.gazetteer import load_gazetteer

    gaz = load_gazetteer()
    chosen = []
    candidates = [p for p in gaz.places if p.tier == 3 and len(gaz.named(p.name)) == 1 and p.name.endswith(("街道", "镇"))]
    rng.shuffle(candidates)
    for place in candidates:
        chain = gaz.ancestors(place)
        names = [p.name for p in chain]
        if len(names) < 3 or names[-1] == names[-2]:
            continue
        chosen.append((names[-1], names[-2], names[-3], place.name))
        if len(chosen) == n:
            break
    return chosen


def write_corpus(folder: Path, n: int, seed: int = 12, share: float = FIGURED_SHARE) -> str:
    """n report files under `folder`; returns how the text was made."""
    rng = random.Random(seed)
    templates, pool, how, seeds = load_material()
    places = townships(n, rng)
    figured = [s for s in pool[:seeds] if any(ch.isdigit() for ch in s)]
    deck = pool[seeds:] or pool  # the other sentences dealt like cards, each once before any again
    rng.shuffle(deck)
    dealt = 0
    folder.mkdir(parents=True, exist_ok=True)
    for r, (province, city, county, town) in enumerate(places):
        year = 2019 + r % 6
        template = templates[r % len(templates)]
        lines = [f"{city}{county}{town}{year}年法治政府建设年度报告",
                 f"{year}年，{town}坚持以习近平法治思想为指导，扎实推进法治政府建设。现将{town}{year}年法治政府建设年度报告如下："]
        for heading, count in template:
            if heading:
                lines.append(heading)
                continue
            # a quarter of the sentences are the seeds' sentences with figures, so most reports state some
            picks = []
            for _ in range(count):
                if rng.random() < share:
                    picks.append(rng.choice(figured))
                else:
                    picks.append(deck[dealt % len(deck)])
                    dealt += 1
            paragraph = "".join(picks)
            for name in SEED_PLACES:
                paragraph = paragraph.replace(name, town)
            lines.append(paragraph)
        lines.append(f"{town}")
        lines.append(f"{year + 1}年{rng.randint(1, 4)}月{rng.randint(1, 28)}日")
        (folder / f"w{r:04d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return how


def timed(client, url: str, warm: int) -> tuple[float, float, int]:
    """(first request s, median warm request s, response bytes)."""
    t = time.perf_counter()
    response = client.get(url)
    first = time.perf_counter() - t
    assert response.status_code == 200, (url, response.status_code, response.data[:300])
    runs = []
    for _ in range(warm):
        t = time.perf_counter()
        response = client.get(url)
        runs.append(time.perf_counter() - t)
        assert response.status_code == 200
    return first, statistics.median(runs), len(response.data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--warm", type=int, default=5)
    parser.add_argument("--figured-share", type=float, default=FIGURED_SHARE,
                        help="share of the sentences taken from the seeds' sentences with figures")
    parser.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it")
    parser.add_argument("--profile", choices=PAGES, default=None, help="cProfile the first request of one page")
    args = parser.parse_args()
    from indexer.build import build_index
    from service import create_app
    from service.state import WARM_WORKBENCH_CHUNKS

    work = args.keep or Path(tempfile.mkdtemp(prefix="workbench-"))
    corpus, index = work / "corpus", work / "index"
    print(f"== Workbench at {args.reports:,} reports ({os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f})")
    try:
        embedder = RandomEmbedder()
        if not (index / "current").exists():
            t = time.monotonic()
            how = write_corpus(corpus, args.reports, share=args.figured_share)
            chars = sum(p.stat().st_size for p in corpus.glob("*.txt"))
            print(f"   corpus: {args.reports:,} reports ({chars / 2**20:.1f} MB of UTF-8) written in "
                  f"{time.monotonic() - t:.1f} s: the seeds' heading structure filled with sentences drawn at random "
                  f"from {how} ({args.figured_share:.0%} of them the seeds' sentences with figures); distinct gazetteer townships and years 2019-2024 as issuers")
            t = time.monotonic()
            build_index(corpus, index, embedder)
            print(f"   index: built by indexer.build.build_index in {time.monotonic() - t:.1f} s, with SYNTHETIC "
                  f"vectors (a deterministic random unit vector per text, not e5; the workbench pages read none)")
        t = time.monotonic()
        app = create_app({"TESTING": True, "INDEX_DIR": str(index), "CORPUS_DIR": str(corpus), "EMBEDDER": embedder})
        client = app.test_client()
        searcher = app.extensions["fazhi"].searcher
        print(f"   service loaded in {time.monotonic() - t:.1f} s ({len(searcher.chunks):,} chunks; up to "
              f"{WARM_WORKBENCH_CHUNKS:,} the area tags, check-ups and figures are computed while loading)")
        metas = searcher.metas().values()
        print(f"   metadata: {len(searcher.reports):,} reports, {len({m['issuer'] for m in metas}):,} issuers, "
              f"{len({m['year'] for m in metas})} years, {len({m['region'] for m in metas}):,} regions")
        if args.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            client.get(args.profile)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            return 0
        rows = [(url, *timed(client, url, args.warm)) for url in PAGES]
        from service.checkup import checkups
        from service.indicators import figures_of

        every = checkups(searcher).values()
        figures = figures_of(searcher)
        print(f"   content: {len(figures):,} figures from {len({f.doc_id for f in figures}):,} reports; "
              f"{sum(1 for c in every if c.repeats):,} reports with template repeats "
              f"({sum(len(c.repeats) for c in every):,} repeats)")
        print(f"   {'page':<16} {'first (cold)':>13} {f'warm median of {args.warm}':>19} {'size':>9}   goal <= {GOAL_S:.0f} s")
        for url, first, warm, size in rows:
            verdict = "ok" if max(first, warm) <= GOAL_S else ("warm ok, cold over" if warm <= GOAL_S else "OVER")
            print(f"   {url:<16} {first * 1000:>10.0f} ms {warm * 1000:>16.0f} ms {size / 1024:>6.0f} KB   {verdict}")
        print("   (cold = the first request after the index is loaded; below the warm-up size the corpus-wide tables "
              "are already computed then, above it that request extracts the figures / checks every report once "
              "per index generation; warm = later requests)")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
