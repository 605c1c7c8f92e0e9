"""Search backends: where the service's BM25, dense and filtered retrieval runs.

`embedded` (the default) reads the index generation's own files in this process: BM25 postings,
FAISS, the chunk and report tables. `seekdb` asks OceanBase's engine (seekdb single-node, or an
OceanBase cluster over the same client and SQL) for the same two rankings and reads the chunks and
reports a search or a report page shows from its tables; fusion, highlights and answers stay here,
so both give the same results. A backend sees a search's scope (which chunks the filters allow) as a `Scope`.
"""
from service.backends.base import (
    BACKENDS,
    BackendChoice,
    SearchBackend,
    Scope,
    attach_backend,
)

__all__ = ["BACKENDS", "BackendChoice", "SearchBackend", "Scope", "attach_backend"]
