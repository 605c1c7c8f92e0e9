"""Streaming, resumable full builds: the same generation as build.build_index in bounded memory.

`stream_build(corpus, root, embedder, progress, ray=None)` reads reports one at a time and
keeps chunks, tokens and vectors on disk in a work folder under the index directory (see
builder.py for the stages, workfolder.py for the journal that lets a rerun go on after a
crash). `RayEmbedding` sends the embedding to a Ray cluster (indexer/distributed_embed.py).
"""
from indexer.streaming.builder import stream_build
from indexer.streaming.vectors import RayEmbedding

__all__ = ["RayEmbedding", "stream_build"]
