"""`python -m indexer build|add|import|fetch|crawl|remove|stats`: the indexer's command line."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from tqdm import tqdm

from indexer import crawl
from indexer.errors import IndexerError

DEFAULT_INDEX = "var/index"
DEFAULT_CACHE = ".cache"


def _progress(items, label, total):
    return tqdm(items, desc=label, total=total, unit="", leave=False, file=sys.stderr,
                disable=None if sys.stderr.isatty() else False, mininterval=0.5)


def cache_dir() -> Path:
    """Where converted models are kept: $FAZHI_CACHE, else .cache/ in the working folder."""
    return Path(os.environ.get("FAZHI_CACHE", DEFAULT_CACHE))


def default_model() -> str | None:
    """The embedding model named by $FAZHI_MODEL, else the bundled one."""
    return os.environ.get("FAZHI_MODEL") or None


def _embedder(name: str | None):
    from indexer.embed import available_cores, load_embedder

    # A build has the machine to itself: use every core (the service uses one per worker).
    return load_embedder(name, cache_dir() / "models", num_threads=available_cores())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m indexer", description=__doc__)
    parser.add_argument("--index", default=DEFAULT_INDEX, help="index directory (default %(default)s)")
    parser.add_argument("--model", default=default_model(),
                        help="sentence-transformers model name or path (default: bundled multilingual-e5-small)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--backend", choices=("embedded", "seekdb"), default=os.environ.get("FAZHI_BACKEND") or "embedded",
                        help="seekdb: also load the new index generation into seekdb/OceanBase for the service")
    parser.add_argument("--seekdb-address", default=os.environ.get("FAZHI_SEEKDB_ADDRESS", ""),
                        help="host:port of a running seekdb or OceanBase; empty: start seekdb on INDEX/seekdb")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="index every report of a corpus folder")
    build.add_argument("--corpus", default="corpus")
    how = build.add_mutually_exclusive_group()
    how.add_argument("--stream", action="store_true", default=None,
                     help="read and embed report by report in bounded memory, keeping the work in INDEX/builds/ "
                          "so that running the same command again after an interruption goes on from there "
                          "(the default for a corpus of more than 64 MB)")
    how.add_argument("--in-memory", dest="stream", action="store_false", default=None,
                     help="build in memory even for a large corpus (faster, but about 11 GB at a million chunks)")
    on_ray = build.add_mutually_exclusive_group()
    on_ray.add_argument("--workers", type=_positive, default=None, metavar="N",
                        help="embed on a local Ray cluster of N CPU workers (implies --stream)")
    on_ray.add_argument("--ray", default=None, metavar="ADDRESS",
                        help="embed on the running Ray cluster at ADDRESS, HOST:PORT or 'auto' (implies --stream)")
    add = sub.add_parser("add", help="add report files to the index without a full rebuild")
    add.add_argument("files", nargs="+", type=Path)
    bulk = sub.add_parser(
        "import", help="import folders (recursively), .zip and .tar archives and files; run again to resume or update",
        description="Import every report under the paths given. Unchanged files are skipped, changed ones "
        "re-indexed, reports whose files are gone from these paths removed, copies merged; one CSV row per file.")
    bulk.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    bulk.add_argument("--report", type=Path, default=None,
                      help="where to write the per-file CSV report (default: INDEX/import-report.csv)")
    bulk.add_argument("--batch", type=_positive, default=None,
                      help="files added per new index generation (default 20)")
    remove = sub.add_parser("remove", help="remove reports by doc_id")
    remove.add_argument("doc_ids", nargs="+")
    sub.add_parser("stats", help="describe the current index")
    crawl.add_commands(sub)  # fetch URL… / crawl LISTING_URL
    for command in (build, add, bulk, remove):
        command.add_argument("--index", default=argparse.SUPPRESS)
        command.add_argument("--model", default=argparse.SUPPRESS)
        command.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        command.add_argument("--backend", choices=("embedded", "seekdb"), default=argparse.SUPPRESS)
        command.add_argument("--seekdb-address", default=argparse.SUPPRESS)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1.")
    return value


def _import(args, root: Path, embedder) -> tuple[list[str], dict]:
    """Run an import and write its CSV report; the summary as lines and as a dict."""
    from indexer.import_report import write_report
    from indexer.importing import BATCH_FILES, import_paths

    summary = import_paths(args.paths, root, embedder, _progress, batch_files=args.batch or BATCH_FILES)
    report = args.report or root / "import-report.csv"
    write_report(summary.rows, report)
    return summary.lines() + [f"report: {report}"], {**summary.to_dict(), "report": str(report)}


def _streams(args) -> bool:
    """Whether a build streams: asked for, implied by embedding on Ray, or (neither --stream nor
    --in-memory given) because the corpus is large."""
    if args.workers or args.ray:
        return True
    if args.stream is None:
        from indexer.build_choice import streams_by_default

        return streams_by_default(Path(args.corpus))
    return bool(args.stream)


def _build(args, root: Path, embedder):
    """A full build: in memory (build_index), or streaming and resumable, embedding here or on Ray."""
    from indexer import build as builder

    if not _streams(args):
        return builder.build_index(Path(args.corpus), root, embedder, _progress)
    from indexer.streaming import RayEmbedding, stream_build

    ray = None
    if args.workers or args.ray:
        from indexer.distributed_embed import RayTarget

        ray = RayEmbedding(RayTarget(address=args.ray or "", workers=args.workers or 0), args.model,
                           cache_dir() / "models")
    return stream_build(Path(args.corpus), root, embedder, _progress, ray=ray)


def _stats(root: Path) -> dict:
    from indexer.store import current_generation, open_generation

    folder = current_generation(root)
    if folder is None:
        raise IndexerError(f"There is no index in {root}; build one with `python -m indexer build`.")
    data = open_generation(folder)  # metadata only: no texts, tokens or vectors in memory
    return {
        "generation": folder.name,
        "model": data.manifest.get("model"),
        "counts": data.manifest.get("counts"),
        "reports": [
            {k: meta[k] for k in ("doc_id", "issuer", "level", "region", "year", "title")}
            for meta in data.reports.metas().values()
        ],
        "skipped": data.manifest.get("skipped", []),
    }


def main(argv: list[str] | None = None) -> int:
    """Run one command; errors are printed as sentences with exit status 1."""
    from indexer import build as builder

    args = _parser().parse_args(argv)
    root = Path(args.index)
    try:
        if args.command == "stats":
            result = _stats(root)
            print(json.dumps(result, ensure_ascii=False, indent=1))
            return 0
        embedder = _embedder(args.model)
        if args.command == "import":
            lines, result = _import(args, root, embedder)
            print(json.dumps(result, ensure_ascii=False, indent=1) if args.json else "\n".join(lines))
            return _load_into_engine(args, root)
        if args.command in ("fetch", "crawl"):
            summary = crawl.run(args, embedder, _progress)
        elif args.command == "build":
            summary = _build(args, root, embedder)
        elif args.command == "add":
            summary = builder.add_files(root, args.files, embedder, _progress)
        else:
            summary = builder.remove_reports(root, args.doc_ids, embedder)
    except IndexerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if args.command == "import":
            print("interrupted: the reports committed so far are kept; run the same command again to resume.",
                  file=sys.stderr)
            return 130
        if args.command == "build" and _streams(args):
            print(f"interrupted: the work done so far is kept in {root / 'builds'}; "
                  "run the same command again to go on from there.", file=sys.stderr)
            return 130
        raise
    if args.json:
        print(json.dumps(summary.to_dict(), ensure_ascii=False, indent=1))
    else:
        print("\n".join(summary.lines()))
    return _load_into_engine(args, root)


def _load_into_engine(args, root: Path) -> int:
    """With --backend seekdb: load the current generation into the engine, so the service serves it at once."""
    if getattr(args, "backend", "embedded") != "seekdb":
        return 0
    from indexer.seekdb.engine import EngineUnavailable
    from indexer.seekdb.generations import LOCAL_ENGINES, engine_config, ensure_loaded, wait_for_engine
    from indexer.store import current_generation

    folder = current_generation(root)
    if folder is None:
        return 0
    try:
        config = engine_config(args.seekdb_address, root / "seekdb")
        wait_for_engine(config, 30.0)
        chunks = ensure_loaded(config, folder)
    except EngineUnavailable as error:
        print(f"error: the index is built, but not loaded into seekdb: {error}", file=sys.stderr)
        return 1
    finally:
        LOCAL_ENGINES.stop_all()
    print(f"seekdb: {folder.name} is loaded at {config.address} ({chunks} chunks).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
