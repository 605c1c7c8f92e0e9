"""The tokenising stage of a streaming build: tokens.jsonl from chunks.jsonl, a chunk at a time.

It runs after the read stage because the tokeniser keeps every report's domain terms whole
(build._assemble's `domain_terms`), and those are known only once all reports are read.
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

from indexer.build import Progress
from indexer.chunk_table import CHUNKS_FILE
from indexer.store import jsonl_line
from indexer.streaming.workfolder import Checkpoints, TokenProgress
from indexer.tokenize import Tokenizer

TOKENS_FILE = "tokens.jsonl"


def tokenise_chunks(generation: Path, rows: int, domain_terms: list[str], state: TokenProgress,
                    checkpoints: Checkpoints, progress: Progress) -> None:
    """Append the BM25 tokens of every chunk from `state.rows` on to tokens.jsonl."""
    tokenizer = Tokenizer(domain_terms)
    tokens = generation / TOKENS_FILE
    if state.rows and (not tokens.is_file() or tokens.stat().st_size < state.size):
        state.rows = state.size = 0  # the file is not what the journal says: tokenise again
    mode = "r+b" if state.rows else "wb"
    with (generation / CHUNKS_FILE).open("rb") as chunks, tokens.open(mode) as out:
        out.seek(state.size)
        out.truncate()  # what a killed run wrote after its last checkpoint
        try:
            for line in progress(itertools.islice(chunks, state.rows, None), "tokenising", rows - state.rows):
                text = jsonl_line(tokenizer.tokens(json.loads(line)["search_text"])).encode("utf-8")
                out.write(text)
                state.rows += 1
                state.size += len(text)
                if checkpoints.due():
                    checkpoints.save(out.flush)
        except BaseException:
            checkpoints.save_if_possible(out.flush)
            raise
