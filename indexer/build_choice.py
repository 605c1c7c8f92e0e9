"""Which full build a corpus gets: in memory while it is small, streaming once it is large.

The in-memory build (build.py) holds every chunk, token and vector of the corpus at once:
about 11 GB at a million chunks. The streaming build (streaming/) writes the same files in
bounded memory and resumes after a crash. Both give byte-identical generations
(tests/test_streaming_build.py), so the choice is only about memory and the journal's cost:
a corpus of more than STREAM_FROM_BYTES of source files streams unless told otherwise.
"""
from __future__ import annotations

from pathlib import Path

from indexer.build import BuildSummary, Progress, _no_progress, build_index
from indexer.embed import Embedder
from indexer.sources import corpus_files

# About 15,000 chunks of text reports (or far fewer .docx/.pdf, whose files are larger than
# their text): well below the point where the in-memory build's peak matters, well above
# the seed corpus, where journalling would only cost time.
STREAM_FROM_BYTES = 64 * 1024 * 1024


def corpus_bytes(corpus: Path) -> int:
    """The total size of the files a build of this corpus would read."""
    if not corpus.is_dir():
        return 0
    total = 0
    for path in corpus_files(corpus, corpus.resolve()):
        try:
            total += path.stat().st_size
        except OSError:
            continue  # the build reports the file it cannot read
    return total


def streams_by_default(corpus: Path) -> bool:
    """Whether a full build of this corpus streams when neither --stream nor --in-memory is given."""
    return corpus_bytes(corpus) > STREAM_FROM_BYTES


def build_corpus(corpus: Path, root: Path, embedder: Embedder, progress: Progress = _no_progress,
                 stream: bool | None = None) -> BuildSummary:
    """A full build of the corpus, streaming when asked or (stream=None) when the corpus is large."""
    if stream is None:
        stream = streams_by_default(corpus)
    if not stream:
        return build_index(corpus, root, embedder, progress)
    from indexer.streaming import stream_build

    return stream_build(corpus, root, embedder, progress)
