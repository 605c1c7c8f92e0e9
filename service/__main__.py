"""`python -m service`: serve the API and pages, or `python -m service ask "问题"` in the terminal."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from indexer.errors import IndexerError
from indexer.seekdb.engine import EngineUnavailable


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    parser.add_argument("--index", default=os.environ.get("FAZHI_INDEX_DIR", "var/index"))
    parser.add_argument("--corpus", default=os.environ.get("FAZHI_CORPUS_DIR", "corpus"),
                        help="reports to index when the index directory has none")
    parser.add_argument("--model", default=os.environ.get("FAZHI_MODEL") or None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--backend", choices=("embedded", "seekdb"), default=os.environ.get("FAZHI_BACKEND") or "embedded",
                        help="where search ranks: the index files here (default) or a seekdb/OceanBase engine")
    parser.add_argument("--seekdb-address", default=os.environ.get("FAZHI_SEEKDB_ADDRESS", ""),
                        help="host:port of a running seekdb or OceanBase; empty: start seekdb on INDEX/seekdb")
    sub = parser.add_subparsers(dest="command")
    ask = sub.add_parser("ask", help="answer one question in the terminal")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    for name in ("issuer", "level", "region", "year", "section"):
        ask.add_argument(f"--{name}")
    return parser


def _ensure_index(args) -> None:
    """Build the index with a progress bar when the index directory has none."""
    from indexer.store import current_generation

    if current_generation(Path(args.index)) is not None:
        return
    from indexer.__main__ import main as indexer_main

    print(f"No index in {args.index}: indexing {args.corpus} first.", file=sys.stderr)
    argv = ["--index", args.index] + (["--model", args.model] if args.model else []) + ["build", "--corpus", args.corpus]
    if indexer_main(argv) != 0:
        raise SystemExit(1)


def _config(args) -> dict:
    config = {"INDEX_DIR": args.index, "CORPUS_DIR": args.corpus, "BACKEND": args.backend,
              "SEEKDB_ADDRESS": args.seekdb_address}
    if args.model:
        config["MODEL"] = args.model
    return config


def _print_answer(result: dict) -> None:
    print(result["answer"])
    if result["resolved_question"] != result["question"]:
        print(f"(searched: {result['resolved_question']})")
    for citation in result["citations"]:
        print(f"\n[{citation['n']}] {citation['issuer']} · {citation['title']}\n    {citation['section']}\n    「{citation['quote']}」")


def _ask(args) -> int:
    from service import create_app
    from service.api import run_ask
    from service.errors import ServiceError

    app = create_app(_config(args))
    filters = {k: getattr(args, k) for k in ("issuer", "level", "region", "year", "section") if getattr(args, k)}
    with app.app_context():
        try:
            result = run_ask({"question": args.question, "filters": filters or None})
        except ServiceError as error:
            print(f"error: {error.message}", file=sys.stderr)
            return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
    else:
        _print_answer(result)
    return 0


def _serve(args) -> int:
    from gunicorn.app.base import BaseApplication

    from service import create_app
    from service.workers import LIMIT_REQUEST_LINE, post_fork, worker_exit

    app = create_app(_config(args))

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("worker_class", "service.workers.JsonErrorWorker")
            self.cfg.set("limit_request_line", LIMIT_REQUEST_LINE)
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", None)
            self.cfg.set("control_socket_disable", True)
            self.cfg.set("post_fork", post_fork)
            self.cfg.set("worker_exit", worker_exit)

        def load(self):
            return app

    print(f"Serving on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    Server().run()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        _ensure_index(args)
        return _ask(args) if args.command == "ask" else _serve(args)
    except (IndexerError, EngineUnavailable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
