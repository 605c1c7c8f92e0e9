"""seekdb (OceanBase's single-node engine) as a search store: start it, load a generation, query it.

Why: seekdb keeps chunks, their BM25 tokens and their vectors in one server that several
processes share over the MySQL protocol, and it applies metadata filters inside the
full-text and vector index scans. Everything here is plain SQL through PyMySQL, so the
same code talks to a seekdb this program starts itself (no address configured) and to one
run elsewhere (an address configured). docs/seekdb-notes.md has the SQL and its timings.

engine.py starts and stops the server, schema.py holds the tables and the rows written
into them, store.py the connection and the queries.
"""
from indexer.seekdb.engine import EngineUnavailable, LocalEngine, start_local_engine
from indexer.seekdb.schema import fulltext_word
from indexer.seekdb.store import SeekdbConfig, SeekdbStore, Where

__all__ = ["EngineUnavailable", "LocalEngine", "SeekdbConfig", "SeekdbStore", "Where", "fulltext_word",
           "start_local_engine"]
