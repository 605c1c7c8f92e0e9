"""Full builds at scale: the in-memory build (build_index) against the streaming one (stream_build).

    .venv/bin/python bench/build_scale.py --chunks 100000
    .venv/bin/python bench/build_scale.py --chunks 1000000 --keep /tmp/build-scale   # keep corpus and indexes
    .venv/bin/python bench/build_scale.py --chunks 20000 --builds stream             # one build only

What is real and what is synthetic:
- the corpus is SYNTHETIC: report files whose text is the seed reports' (corpus/*.txt) headings,
  in order, with each paragraph refilled by shuffled sentences of all the seed reports, and a
  distinct title line (a numbered 街道 and a year), so every file is a distinct report with its
  own metadata. The number of reports is chosen from the chunks per report of a sample, so the
  index has about --chunks chunks (the exact count is printed).
- the indexer is real: normalisation, sections, chunking, metadata, jieba tokens, BM25, FAISS
  (IVF above 50k chunks), chunk and sentence vectors, generation files, checksums.
- the vectors are SYNTHETIC: a fast deterministic embedder (FastEmbedder: a sum of fixed random
  rows picked by the bytes of each text's hash, 384 dimensions like e5-small), so the time
  measured is the pipeline's, not the model's.

Each build runs in its own child process on the same corpus, into an empty index directory;
its peak resident memory is the child's VmHWM (/proc/self/status; psutil's figure where there
is none), which counts file pages it has mapped as well as its own heap. The 2 cores may be
shared: CPU seconds (the child's process time) compare the builds fairly when wall time cannot.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.embed import HashingEmbedder  # noqa: E402

HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)")
SENTENCE = re.compile(r"[^。！？；]*[。！？；]|[^。！？；]+$")
SAMPLE_REPORTS = 20
DIM = 384
BUILDS = ("memory", "stream")


class FastEmbedder(HashingEmbedder):
    """SYNTHETIC vectors, fast and deterministic: each text's 16 hash bytes pick rows of a fixed random table."""

    def __init__(self, dim: int = DIM):
        super().__init__(dim)
        self.name = f"bench-fast-{dim}"
        self._table = np.random.default_rng(7).standard_normal((16, 256, dim)).astype(np.float32)

    def _embed(self, texts) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        digests = np.frombuffer(b"".join(hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts),
                                dtype=np.uint8).reshape(len(texts), 16)
        vectors = self._table[np.arange(16), digests].sum(axis=1)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


# -- the synthetic corpus --------------------------------------------------------------------


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE.findall(text) if s.strip()]


def load_material() -> tuple[list[list[tuple[str, int]]], list[str]]:
    """The seed reports' outlines (heading, or a paragraph's sentence count) and their distinct sentences."""
    templates, pool = [], {}
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        start = next((i for i, line in enumerate(lines) if HEADING.match(line)), 0)
        outline = []
        for line in lines[start:]:
            if HEADING.match(line) and len(line) <= 60:
                outline.append((line, 0))
            elif len(line) >= 20:
                outline.append(("", max(1, len(_sentences(line)))))
                for sentence in _sentences(line):
                    if 8 <= len(sentence) <= 300:
                        pool.setdefault(sentence, None)
        templates.append(outline)
    return templates, list(pool)


def report_text(number: int, templates, pool: list[str], rng: random.Random) -> str:
    """One synthetic report: a distinct title, then a seed outline refilled with shuffled seed sentences."""
    year = 2019 + number % 6
    town = f"第{number}号测试街道"
    lines = [f"测试市测试区{town}{year}年法治政府建设年度报告",
             f"{year}年，{town}坚持以习近平法治思想为指导，扎实推进法治政府建设。现将有关情况报告如下："]
    for heading, count in templates[number % len(templates)]:
        lines.append(heading if heading else "".join(rng.choice(pool) for _ in range(count)))
    lines += [town, f"{year + 1}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日"]
    return "\n".join(lines) + "\n"


def chunks_per_report(templates, pool: list[str]) -> float:
    """The mean chunk count of a sample of synthetic reports, through the real pipeline."""
    from indexer.pipeline import process_source
    from indexer.sources import read_bytes

    rng = random.Random(99)
    counts = [len(process_source(f"s{i}", read_bytes(report_text(i, templates, pool, rng).encode("utf-8"),
                                                    f"s{i}.txt")).chunks) for i in range(SAMPLE_REPORTS)]
    return sum(counts) / len(counts)


def write_corpus(folder: Path, chunks: int) -> int:
    """About `chunks` chunks' worth of report files in `folder`; returns the number of reports."""
    templates, pool = load_material()
    reports = max(1, round(chunks / chunks_per_report(templates, pool)))
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(12)
    for number in range(reports):
        (folder / f"r{number:07d}.txt").write_text(report_text(number, templates, pool, rng), encoding="utf-8")
    return reports


# -- one build in a child process --------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: VmHWM, else psutil's current RSS."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import psutil

    return psutil.Process().memory_info().rss / 2**20


class StageClock:
    """A progress callable that times each stage the build reports (reading, embedding, ...)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    def __call__(self, items, label, _total):
        started = time.monotonic()
        try:
            yield from items
        finally:
            self.seconds[label] = self.seconds.get(label, 0.0) + time.monotonic() - started


def run_build(kind: str, corpus: Path, index: Path, dim: int) -> dict:
    """Build `corpus` into `index` in this process; what it took."""
    from indexer.build import build_index
    from indexer.streaming import stream_build

    build = build_index if kind == "memory" else stream_build
    clock = StageClock()
    started, cpu_started = time.monotonic(), time.process_time()
    summary = build(corpus, index, FastEmbedder(dim), clock)
    seconds, cpu_seconds = time.monotonic() - started, time.process_time() - cpu_started
    folder = (index / "current").resolve()
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    checksums = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]
    return {"build": kind, "reports": summary.reports, "chunks": summary.chunks, "seconds": round(seconds, 1),
            "chunks_per_s": round(summary.chunks / seconds, 1), "cpu_s": round(cpu_seconds, 1),
            "chunks_per_cpu_s": round(summary.chunks / cpu_seconds, 1), "peak_rss_mb": round(peak_rss_mb()),
            "index_mb": round(size / 2**20), "stages_s": {k: round(v, 1) for k, v in clock.seconds.items()},
            "files": checksums}


def run_child(kind: str, corpus: Path, index: Path, dim: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--corpus", str(corpus), "--index", str(index),
                          "--dim", str(dim)], check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=100_000, help="about how many chunks the corpus gives")
    parser.add_argument("--builds", default=",".join(BUILDS), help="which builds to run, of: memory,stream")
    parser.add_argument("--dim", type=int, default=DIM, help="dimensions of the synthetic vectors")
    parser.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it (corpus reused)")
    parser.add_argument("--child", choices=BUILDS, help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_build(args.child, args.corpus, args.index, args.dim)))
        return 0
    kinds = [kind for kind in args.builds.split(",") if kind]
    if not kinds or set(kinds) - set(BUILDS):
        parser.error(f"--builds takes some of {','.join(BUILDS)}; got {args.builds!r}.")
    work = args.keep or Path(tempfile.mkdtemp(prefix="build-scale-"))
    corpus = work / f"corpus-{args.chunks}"
    try:
        if not corpus.is_dir():
            started = time.monotonic()
            reports = write_corpus(corpus, args.chunks)
            print(f"corpus: {reports} synthetic reports in {time.monotonic() - started:.0f} s", file=sys.stderr)
        rows = []
        for kind in kinds:
            index = work / f"index-{kind}-{args.chunks}"
            shutil.rmtree(index, ignore_errors=True)
            rows.append(run_child(kind, corpus, index, args.dim))
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "files"}), file=sys.stderr)
            if args.keep is None:
                shutil.rmtree(index, ignore_errors=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'build':8} {'reports':>8} {'chunks':>9} {'seconds':>8} {'chunks/s':>9} {'CPU s':>7} "
          f"{'chunks/CPU s':>13} {'peak RSS MB':>12} {'index MB':>9}")
    for row in rows:
        print(f"{row['build']:8} {row['reports']:>8} {row['chunks']:>9} {row['seconds']:>8} {row['chunks_per_s']:>9} "
              f"{row['cpu_s']:>7} {row['chunks_per_cpu_s']:>13} {row['peak_rss_mb']:>12} {row['index_mb']:>9}")
    for row in rows:
        print(f"{row['build']} stages (s): {row['stages_s']}")
    if len(rows) == 2:
        differing = sorted(name for name in rows[0]["files"].keys() | rows[1]["files"].keys()
                           if rows[0]["files"].get(name) != rows[1]["files"].get(name))
        print("the two generations hold identical files (checksums)" if not differing
              else f"the generations differ in: {', '.join(differing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
