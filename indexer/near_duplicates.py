"""Exact and near-duplicate reports: a hash of the normalised text, and MinHash over its character shingles."""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from indexer.normalize import normalize

# Two texts whose shingle sets have an estimated Jaccard similarity of at least this are the
# same report: one sentence changed in a 2,000-character report still scores about 0.95,
# while two years' reports of the same office, sharing their boilerplate, stay far below.
NEAR_DUPLICATE_JACCARD = 0.9
SHINGLE_CHARS = 5
PERMUTATIONS = 128
# LSH: texts are compared only if all rows of at least one band agree. With 16 bands of 8 rows
# a pair at Jaccard 0.9 becomes a candidate with probability 0.9999, one at 0.5 with 0.06.
BANDS = 16
ROWS = PERMUTATIONS // BANDS
_BLOCK = 8192  # shingles hashed at a time, so a 50 MB report does not need gigabytes
_MASK32 = np.uint64(0xFFFFFFFF)
_SPACE = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240601)  # fixed: signatures stored in a journal must stay comparable
    a = rng.integers(1, 2**63, size=PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=PERMUTATIONS, dtype=np.uint64)
    return a[:, None], b[:, None]


_A, _B = _permutations()


@dataclass(frozen=True)
class Fingerprint:
    """What tells a report's text from others: the hash of its normalised text and its MinHash signature."""

    text_sha256: str
    minhash: np.ndarray  # PERMUTATIONS uint32 values

    def to_dict(self) -> dict:
        return {"text_sha256": self.text_sha256, "minhash": self.minhash.astype("<u4").tobytes().hex()}

    @classmethod
    def from_dict(cls, data: dict) -> Fingerprint:
        signature = np.frombuffer(bytes.fromhex(data["minhash"]), dtype="<u4").astype(np.uint32)
        if signature.shape != (PERMUTATIONS,):
            raise ValueError(f"A MinHash signature must have {PERMUTATIONS} values, not {signature.shape[0]}.")
        return cls(data["text_sha256"], signature)


@dataclass(frozen=True)
class Match:
    """An indexed report that a new text duplicates, and how alike they are (1.0 for an exact duplicate)."""

    doc_id: str
    similarity: float
    exact: bool


def comparable_text(text: str) -> str:
    """The text as compared: normalised like the index (Traditional to Simplified, debris out), NFKC, no white space."""
    folded = unicodedata.normalize("NFKC", normalize(text).text)
    return _SPACE.sub("", folded)


def _shingle_hashes(text: str) -> np.ndarray:
    codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    if len(codes) < SHINGLE_CHARS:
        codes = np.concatenate([codes, np.zeros(SHINGLE_CHARS - len(codes), dtype=np.uint64)])
    count = len(codes) - SHINGLE_CHARS + 1
    hashes = np.zeros(count, dtype=np.uint64)
    for j in range(SHINGLE_CHARS):  # polynomial hash mod 2**64 (uint64 arrays wrap silently)
        hashes = hashes * np.uint64(1_000_003) + codes[j:j + count]
    return np.unique(hashes)


def minhash(text: str) -> np.ndarray:
    """The MinHash signature of the character shingles of `text`."""
    hashes = _shingle_hashes(text)
    signature = np.full(PERMUTATIONS, np.iinfo(np.uint32).max, dtype=np.uint64)
    for start in range(0, len(hashes), _BLOCK):
        block = hashes[None, start:start + _BLOCK]
        values = ((_A * block + _B) >> np.uint64(32)) & _MASK32  # multiply-shift hashing
        signature = np.minimum(signature, values.min(axis=1))
    return signature.astype(np.uint32)


def fingerprint(text: str) -> Fingerprint:
    """The fingerprint of a report's published text."""
    comparable = comparable_text(text)
    return Fingerprint(hashlib.sha256(comparable.encode("utf-8")).hexdigest(), minhash(comparable))


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """The estimated Jaccard similarity of two texts' shingle sets (1.0 when their texts are equal)."""
    if a.text_sha256 == b.text_sha256:
        return 1.0
    return float(np.mean(a.minhash == b.minhash))


class DuplicateFinder:
    """The fingerprints of the reports in an index, looked up by exact hash and by LSH bands."""

    def __init__(self, threshold: float = NEAR_DUPLICATE_JACCARD):
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"The near-duplicate threshold must be in (0, 1], got {threshold}.")
        self.threshold = threshold
        self._prints: dict[str, Fingerprint] = {}
        self._exact: dict[str, str] = {}
        self._bands: dict[tuple[int, bytes], set[str]] = {}

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._prints

    @staticmethod
    def _band_keys(signature: np.ndarray) -> list[tuple[int, bytes]]:
        return [(band, signature[band * ROWS:(band + 1) * ROWS].tobytes()) for band in range(BANDS)]

    def add(self, doc_id: str, print_: Fingerprint) -> None:
        """Remember a report (replacing what was known of the same id)."""
        self.remove(doc_id)
        self._prints[doc_id] = print_
        self._exact.setdefault(print_.text_sha256, doc_id)
        for band in self._band_keys(print_.minhash):
            self._bands.setdefault(band, set()).add(doc_id)

    def remove(self, doc_id: str) -> None:
        """Forget a report; unknown ids are ignored."""
        print_ = self._prints.pop(doc_id, None)
        if print_ is None:
            return
        if self._exact.get(print_.text_sha256) == doc_id:
            del self._exact[print_.text_sha256]
            other = next((d for d, p in self._prints.items() if p.text_sha256 == print_.text_sha256), None)
            if other is not None:
                self._exact[print_.text_sha256] = other
        for band in self._band_keys(print_.minhash):
            self._bands.get(band, set()).discard(doc_id)

    def find(self, print_: Fingerprint) -> Match | None:
        """The known report this text duplicates (exact first, else the most similar near one), or None."""
        if (doc_id := self._exact.get(print_.text_sha256)) is not None:
            return Match(doc_id, 1.0, exact=True)
        candidates = set().union(*(self._bands.get(band, ()) for band in self._band_keys(print_.minhash)))
        scored = sorted(((similarity(print_, self._prints[d]), d) for d in candidates), key=lambda s: (-s[0], s[1]))
        if scored and scored[0][0] >= self.threshold:
            return Match(scored[0][1], round(scored[0][0], 3), exact=False)
        return None
