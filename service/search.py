"""Hybrid search over an index generation: BM25 + dense, filters before the cut, fused."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from indexer.bm25 import BM25Index
from indexer.dense import DenseIndex, load_dense
from indexer.embed import Embedder
from indexer.errors import CorruptIndex, IndexMismatch
from indexer.normalize import NORMALIZER_VERSION, NormalizedText, normalize
from indexer.records import Chunk
from indexer.sentence_vectors import SentenceVectors
from indexer.store import Generation, open_generation
from indexer.tokenize import Tokenizer
from service.areas import AREAS, area_named, area_tags
from service.backends import SearchBackend, Scope
from service.backends.embedded import EmbeddedBackend
from service.errors import UnknownFilterValue
from service.fusion import HYBRID_WEIGHTS, score_fusion

MODES = ("hybrid", "bm25", "dense")
DEFAULT_K0 = 100
FILTER_FIELDS = ("issuer", "level", "region", "year", "section", "area")
# Filters on a passage rather than on its report: /api/reports refuses them.
PASSAGE_FILTER_FIELDS = ("section", "area")
# 直辖市 are provinces in rank: 「哪些省份…」 asks about them too.
PROVINCE_LEVEL_CITIES = frozenset({"北京市", "上海市", "天津市", "重庆市"})
# Levels people name together (「哪些区县」「各乡镇」「镇街」): a report of either level matches.
LEVEL_GROUPS = {"区县": ("区", "县"), "乡镇": ("乡", "镇"), "镇街": ("镇", "街道")}
_REGION_SUFFIX = re.compile(r"(省|市|区|县|自治区|自治州|特别行政区)$")


def levels_of(level: str) -> tuple[str, ...]:
    """The report levels a level filter admits: 区县 admits 区 and 县, 街道 only 街道."""
    return LEVEL_GROUPS.get(level, (level,))


def level_known(level: str, known: list[str]) -> bool:
    """Whether some report of the index has a level the filter admits."""
    return bool(set(levels_of(level)) & set(known))


@dataclass(frozen=True)
class Filters:
    """Restrictions on which chunks a search may return; empty fields do not restrict."""

    issuer: str = ""
    level: str = ""
    region: str = ""
    year: int | None = None
    section: str = ""
    area: str = ""  # a task area of the 纲要, by name or id (service/areas)

    def is_empty(self) -> bool:
        return not (self.issuer or self.level or self.region or self.year or self.section or self.area)

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}


@dataclass(frozen=True)
class Hit:
    """One ranked passage with its report's metadata and where the query terms matched."""

    chunk: Chunk
    meta: dict
    score: float
    rank: int
    bm25_rank: int | None = None
    dense_rank: int | None = None
    highlights: tuple[tuple[int, int], ...] = field(default_factory=tuple)  # offsets in chunk.text

    def to_dict(self) -> dict:
        return {
            "chunk_id": self.chunk.chunk_id,
            "doc_id": self.chunk.doc_id,
            "title": self.meta["title"],
            "issuer": self.meta["issuer"],
            "level": self.meta["level"],
            "region": self.meta["region"],
            "year": self.meta["year"],
            "section": " › ".join(self.chunk.section_path),
            "section_label": self.chunk.label,
            "text": self.chunk.text,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "score": round(self.score, 6),
            "rank": self.rank,
            "highlights": [list(h) for h in self.highlights],
            "anchor": chunk_anchor(self.chunk),
            "url": f"/reports/{self.chunk.doc_id}#{chunk_anchor(self.chunk)}",
        }


def chunk_anchor(chunk: Chunk) -> str:
    """The fragment id of a chunk on its report page."""
    return "c-" + chunk.chunk_id.split(":", 1)[1].replace(":", "-")


def _region_forms(name: str) -> set[str]:
    return {name, _REGION_SUFFIX.sub("", name)} if name else set()


class Searcher:
    """Everything a query needs, loaded once from one index generation."""

    def __init__(self, data: Generation, embedder: Embedder, dense: DenseIndex, bm25: BM25Index,
                 backend: SearchBackend | None = None):
        self.data = data
        self.embedder = embedder
        self.dense = dense
        self.bm25 = bm25
        # Where search() ranks: these files in this process, or an engine holding the same generation.
        self.backend: SearchBackend = backend or EmbeddedBackend(bm25, dense, data.chunks, data.reports)
        self.tokenizer = Tokenizer(data.manifest.get("domain_terms", []))
        # The generation's local tables. What the API shows (hits, report pages) is read through the
        # backend (report(), chunks_of(), chunk_by_id()); the answer layer's scans read these columns.
        self.chunks = data.chunks  # a ChunkTable: rows read from disk on demand
        self.reports = data.reports  # a ReportTable: metadata in memory, texts on disk
        self.generation = data.path.name if data.path else ""
        # One vector per quotable sentence (None for generations built before they existed).
        self.sentences = SentenceVectors.open(data.path, len(self.chunks)) if data.path else None
        if not (len(self.chunks) == dense.size == bm25.n_docs):
            raise CorruptIndex(
                f"The index in {data.path} has {len(self.chunks)} chunks, {dense.size} vectors and "
                f"{bm25.n_docs} BM25 rows; rebuild it."
            )
        self._filter_values: dict[str, list] | None = None
        self._mask = lru_cache(maxsize=256)(self._compute_mask)  # facets and paging repeat filters
        self._scope = lru_cache(maxsize=256)(self._compute_scope)  # its report list walks every report
        self._normalized = lru_cache(maxsize=64)(self._normalize_report)
        self._chunk_normalized = lru_cache(maxsize=8192)(self._normalize_chunk)
        # Popular and repeated questions (chat turns, paging, facets) skip the embedder.
        self._query_vector = lru_cache(maxsize=4096)(self._embed_query)

    @classmethod
    def load(cls, folder: Path, embedder: Embedder, verify: bool = True) -> "Searcher":
        """Load a generation and check it was built with this embedder and normaliser."""
        data = open_generation(folder, verify=verify)
        model = data.manifest.get("model", {})
        if model.get("name") != embedder.name or model.get("dim") != embedder.dim:
            raise IndexMismatch(
                f"The index in {folder} was built with the model {model.get('name')!r} "
                f"({model.get('dim')} dimensions) but the service runs {embedder.name!r} "
                f"({embedder.dim}); rebuild the index or start the service with that model."
            )
        if data.manifest.get("normalizer_version") != NORMALIZER_VERSION:
            raise IndexMismatch(
                f"The index in {folder} was built with text normaliser version "
                f"{data.manifest.get('normalizer_version')!r}, this service uses {NORMALIZER_VERSION!r}; rebuild it."
            )
        dense = load_dense(folder, data.manifest["dense"])
        bm25 = BM25Index.load(folder / "bm25")
        return cls(data, embedder, dense, bm25)

    def query_vector(self, text: str) -> np.ndarray:
        """The (cached, read-only) vector of a normalised query text."""
        return self._query_vector(text)

    def _embed_query(self, text: str) -> np.ndarray:
        vector = self.embedder.embed_queries([text])[0]
        vector.setflags(write=False)
        return vector

    # -- reports ---------------------------------------------------------------------------

    def meta(self, doc_id: str) -> dict:
        return self.reports.meta(doc_id)

    def metas(self) -> dict[str, dict]:
        """Every report's metadata by doc_id, without reading any text."""
        return self.reports.metas()

    def row_of(self, chunk_id: str) -> int:
        """The table row of a chunk (internal numbering; never shown in the API)."""
        row = self.chunks.row_of(chunk_id)
        if row is None:
            raise KeyError(chunk_id)
        return row

    def report(self, doc_id: str) -> dict:
        """A report's whole record ({"meta", "original", "sections", "problems", "terms"}), from the backend."""
        return self.backend.report(doc_id)

    def chunk_by_id(self, chunk_id: str) -> Chunk | None:
        row = self.chunks.row_of(chunk_id)
        return None if row is None else self.backend.chunks([row])[0]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """A report's chunks in order, from the backend."""
        return self.backend.chunks(self.chunks.rows_of_doc(doc_id).tolist())

    def _normalize_report(self, doc_id: str) -> NormalizedText:
        return normalize(self.report(doc_id)["original"])

    def normalized(self, doc_id: str) -> NormalizedText:
        """The normalised text of a report with its offset map (cached)."""
        return self._normalized(doc_id)

    # -- filters ---------------------------------------------------------------------------

    def filter_values(self) -> dict[str, list]:
        """Every value each filter can take in this index (computed once; do not modify)."""
        if self._filter_values is None:
            self._filter_values = self._collect_filter_values()
        return self._filter_values

    def _collect_filter_values(self) -> dict[str, list]:
        metas = list(self.metas().values())
        regions = sorted({m[f] for m in metas for f in ("province", "city", "district") if m[f]})
        return {
            "issuer": sorted({m["issuer"] for m in metas if m["issuer"]}),
            "level": sorted({m["level"] for m in metas if m["level"]}),
            "region": regions,
            "year": sorted({m["year"] for m in metas if m["year"]}),
            "section": sorted(label for label in self.chunks.labels if label),
            "area": [area.name for area in AREAS],
        }

    def _doc_matches(self, meta: dict, filters: Filters) -> bool:
        if filters.issuer and filters.issuer not in (meta["issuer"], meta["title"]):
            return False
        if filters.level and meta["level"] not in levels_of(filters.level) and not (
                filters.level == "省" and meta["issuer"] in PROVINCE_LEVEL_CITIES):
            return False
        if filters.year and filters.year != meta["year"]:
            return False
        if filters.region:
            wanted = _region_forms(filters.region)
            names = set().union(*(_region_forms(meta[f]) for f in ("province", "city", "district")))
            if not wanted & names:
                return False
        return True

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Boolean mask of the chunks the filters allow (read-only); None when nothing is filtered.

        A filter value that no report has is an error, not an empty result, so a typo
        is reported instead of looking like 'nothing found'.
        """
        if filters is None or filters.is_empty():
            return None
        return self._mask(filters)

    def scope(self, filters: Filters | None) -> Scope:
        """A search's scope for the backend: the row mask, and the reports and section label it comes from."""
        if filters is None or filters.is_empty():
            return Scope()
        return self._scope(filters)

    def _compute_scope(self, filters: Filters) -> Scope:
        mask = self.mask(filters)
        doc_filters = Filters(issuer=filters.issuer, level=filters.level, region=filters.region, year=filters.year)
        doc_ids = None if doc_filters.is_empty() else tuple(self.reports_matching(doc_filters))
        return Scope(mask=mask, doc_ids=doc_ids, label=filters.section, exact=not filters.area)

    def reports_matching(self, filters: Filters | None) -> list[str]:
        """The ids of the reports the filters allow, in index order (section and area filters are not a report's).

        Unknown filter values raise UnknownFilterValue, as for a search.
        """
        if filters is None or filters.is_empty():
            return list(self.metas())
        self._check_values(filters)
        return [doc_id for doc_id, meta in self.metas().items() if self._doc_matches(meta, filters)]

    def _check_values(self, filters: Filters) -> None:
        values = self.filter_values()
        for name in FILTER_FIELDS:
            value = getattr(filters, name)
            if value in ("", None):
                continue
            known = values[name]
            if name == "area":
                if area_named(value) is None:
                    raise UnknownFilterValue(
                        f"There is no task area {value!r}; the areas are " + "、".join(a.name for a in AREAS) + ".")
            elif name == "region":
                known_forms = set().union(*(_region_forms(v) for v in known))
                if not _region_forms(value) & known_forms:
                    raise UnknownFilterValue(f"No report in the index is from the region {value!r}.")
            elif name == "level" and value in LEVEL_GROUPS:
                if not level_known(value, known):
                    raise UnknownFilterValue(f"No report in the index has level {value!r} (any of "
                                             + "、".join(LEVEL_GROUPS[value]) + ").")
            elif value not in known:
                raise UnknownFilterValue(
                    f"No report in the index has {name} {value!r}; known values: "
                    + ", ".join(str(v) for v in known[:20]) + "."
                )

    def _compute_mask(self, filters: Filters) -> np.ndarray:
        self._check_values(filters)
        docs = np.array([self._doc_matches(meta, filters) for meta in self.metas().values()], dtype=bool)
        mask = docs[self.chunks.doc_rows] if len(self.chunks) else np.zeros(0, dtype=bool)
        if filters.section:
            mask &= self.chunks.label_mask(filters.section)
        if filters.area:
            in_area = np.zeros(len(self.chunks), dtype=bool)
            in_area[area_tags(self).rows[area_named(filters.area).id]] = True
            mask &= in_area
        mask.setflags(write=False)
        return mask

    # -- search ----------------------------------------------------------------------------

    def query_tokens(self, query: str) -> list[str]:
        return self.tokenizer.tokens(normalize(query).text)

    def search(
        self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid", k0: int = DEFAULT_K0
    ) -> list[Hit]:
        """The k best chunks for a query among those the filters allow."""
        if mode not in MODES:
            raise ValueError(f"Search mode must be one of {', '.join(MODES)}, not {mode!r}.")
        scope = self.scope(filters)
        depth = max(k0, k)
        bm25_ids: list[int] = []
        dense_ids: list[int] = []
        bm25_scores: dict[int, float] = {}
        dense_scores: dict[int, float] = {}
        tokens = self.query_tokens(query)
        if mode in ("hybrid", "bm25") and tokens:
            ids, scores = self.backend.lexical(tokens, depth, scope)
            bm25_ids = [int(i) for i in ids]
            bm25_scores = dict(zip(bm25_ids, (float(s) for s in scores)))
        if mode in ("hybrid", "dense"):
            vector = self._query_vector(normalize(query).text)
            ids, scores = self.backend.dense(vector, depth, scope)
            dense_ids = [int(i) for i in ids]
            dense_scores = dict(zip(dense_ids, (float(s) for s in scores)))
        if mode == "bm25":
            fused = [(i, bm25_scores[i]) for i in bm25_ids]
        elif mode == "dense":
            fused = [(i, dense_scores[i]) for i in dense_ids]
        else:
            fused = score_fusion(
                [(bm25_ids, [bm25_scores[i] for i in bm25_ids]), (dense_ids, [dense_scores[i] for i in dense_ids])],
                weights=HYBRID_WEIGHTS,
            )
        bm25_rank = {i: r for r, i in enumerate(bm25_ids, start=1)}
        dense_rank = {i: r for r, i in enumerate(dense_ids, start=1)}
        query_terms = set(tokens)
        hits = []
        shown = fused[:k]
        for rank, ((row, score), chunk) in enumerate(zip(shown, self.backend.chunks([r for r, _ in shown])), start=1):
            hits.append(
                Hit(
                    chunk=chunk,
                    meta=self.meta(chunk.doc_id),
                    score=score,
                    rank=rank,
                    bm25_rank=bm25_rank.get(row),
                    dense_rank=dense_rank.get(row),
                    highlights=self.highlight(chunk, query_terms),
                )
            )
        return hits

    def highlight(self, chunk: Chunk, terms: set[str]) -> tuple[tuple[int, int], ...]:
        """Where query terms occur in a chunk, as offsets into its published text.

        Only the chunk's own text is normalised (cached per chunk), not its whole report:
        highlighting ten hits must stay cheap however long the reports are. Which terms are
        marked is highlight_terms()'s choice.
        """
        terms = highlight_terms(terms, self.tokenizer.stopwords)
        if not terms:
            return ()
        norm = self._chunk_normalized(chunk.chunk_id)
        text = norm.text.lower()
        spans = []
        for term in sorted(terms, key=len, reverse=True):
            for match in re.finditer(re.escape(term), text):
                spans.append(norm.original_span(match.start(), match.end()))
        return tuple(_merge(spans))

    def _normalize_chunk(self, chunk_id: str) -> NormalizedText:
        return normalize(self.chunk_by_id(chunk_id).text)


def highlight_terms(terms: set[str], stopwords: frozenset[str] = frozenset()) -> set[str]:
    """The query terms worth marking: words of two or more characters, never stop words.

    Search mode also emits the single characters jieba could not join (受 of 执法人员受培训),
    which occur in almost every passage; they are marked only when the query has no longer
    term. A lone ASCII letter or digit is never marked.
    """
    terms = {t for t in terms if t and t not in stopwords}
    words = {t for t in terms if len(t) >= 2}
    return words or {t for t in terms if not t.isascii()}


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]
