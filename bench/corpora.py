"""The corpora the benchmarks run on, assembled from ../shared into folders the indexer reads.

    .venv/bin/python bench/corpora.py large              # build (or reuse) the index of one corpus
    .venv/bin/python bench/corpora.py large --rebuild    # rebuild it (metadata or chunking changed)

- ``seeds``: the five reports of corpus/.
- ``large``: the 31 provincial 2025 work reports (.docx as published), the 72 State Council
  reports (one .txt each, title line first) and, as distractors, the NCP benchmark's 599
  policy documents.
- ``cities143``: 143 city work reports, for scale and metadata runs only (no questions are
  written on it and nothing is tuned on it).

Indexes are cached under .cache/bench/<name>-index and rebuilt only when missing; an
unchanged chunk keeps its vector across rebuilds (the indexer reuses it by content hash).
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared"
EXT = SHARED / "ext"
CACHE = ROOT / ".cache" / "bench"
NAMES = ("seeds", "large", "cities143")


def available(name: str) -> bool:
    """Whether the material of a corpus is on this machine (../shared is absent in a user's clone)."""
    if name == "seeds":
        return (ROOT / "corpus").is_dir()
    if name == "large":
        return (EXT / "prov31-gwr").is_dir() and (EXT / "national-gwr").is_dir() and (EXT / "ncp-govqa").is_dir()
    return (EXT / "cities143-gwr").is_dir()


def _national_files(folder: Path) -> None:
    path = EXT / "national-gwr" / "government_work_reports.jsonl"
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        (folder / f"national_{i:02d}.txt").write_text(f"{row['title']}\n{row['content']}\n", encoding="utf-8")


def _ncp_files(folder: Path) -> None:
    for line in (EXT / "ncp-govqa" / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            doc = json.loads(line)
            (folder / f"ncp_{doc['_id']}.txt").write_text(f"{doc['title']}\n{doc['text']}\n", encoding="utf-8")


def corpus_folder(name: str) -> Path:
    """The folder of a corpus's files, written under .cache/bench once."""
    if name == "seeds":
        return ROOT / "corpus"
    folder = CACHE / f"{name}-corpus"
    if folder.is_dir():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    if name == "large":
        for i, path in enumerate(sorted((EXT / "prov31-gwr").glob("*.docx"))):
            shutil.copy(path, partial / f"prov31_{i:02d}.docx")
        _national_files(partial)
        _ncp_files(partial)
    elif name == "cities143":
        for path in sorted((EXT / "cities143-gwr").glob("*.txt")):
            shutil.copy(path, partial / path.name)  # the file name is the city: a metadata hint
    else:
        raise ValueError(f"There is no corpus named {name!r}; the names are {', '.join(NAMES)}.")
    partial.rename(folder)
    return folder


def ensure_index(name: str, embedder, rebuild: bool = False) -> Path:
    """The index root of a corpus, built with the normal indexer when it has no generation.

    `rebuild` builds a new generation over the current one (after a change to metadata or
    chunking); unchanged chunks and sentences keep their vectors, so only new text is embedded.
    """
    from indexer.build import build_index
    from indexer.store import current_generation
    from ncp_benchmark import _progress  # the benchmarks' one progress printer

    root = CACHE / f"{name}-index"
    if rebuild or current_generation(root) is None:
        started = time.monotonic()
        summary = build_index(corpus_folder(name), root, embedder, progress=_progress)
        print(f"   built {name}: " + summary.lines()[0] + f" ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    return root


def main() -> int:
    from indexer.embed import available_cores, load_embedder

    args = [a for a in sys.argv[1:] if a != "--rebuild"]
    name = args[0] if args else "large"
    if not available(name):
        print(f"The material of the {name} corpus is not here (../shared/ext is missing).")
        return 1
    embedder = load_embedder(None, ROOT / ".cache" / "models", num_threads=available_cores())
    print(ensure_index(name, embedder, rebuild="--rebuild" in sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
