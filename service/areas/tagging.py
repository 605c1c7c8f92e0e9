"""Tag passages and sections with the 纲要's task areas: heading cues, then terms, then similarity to each area's description.

A passage's score for an area adds three parts, weighted so that the order of evidence is
heading > terms > meaning: a cue in the passage's own heading (HEADING_WEIGHTS[0]) or in an
enclosing one, the area's terms in its text (relative to the best area's count), and the cosine
of its vector with the area description's vector (rescaled over the areas). The best area is
always kept, a second one when it scores at least SECOND_SHARE of the best and has heading or term
evidence of its own. The whole index is tagged once per Searcher (index generation).
"""
from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.sections import LABEL_PREFACE
from service.areas.catalogue import AREAS

# Set on the "tune" half of bench/data/area_labels.jsonl (bench/areas_eval.py); the "held" half checks them.
HEADING_WEIGHTS = (3.0, 2.0, 1.0)  # own heading, its parent, further up
TERM_WEIGHT = 1.5
SIM_WEIGHT = 1.0
SECOND_SHARE = 0.75
MAX_AREAS = 2

_IDS = tuple(area.id for area in AREAS)


@dataclass(frozen=True)
class Scored:
    """An area's score for one passage and whether a heading or a term backs it."""

    area: str
    score: float
    evidence: bool


def heading_scores(path: Sequence[str]) -> np.ndarray:
    """Per area: the weights of the headings (deepest first) whose cues name it."""
    scores = np.zeros(len(AREAS))
    for depth, heading in enumerate(reversed([h for h in path if h != LABEL_PREFACE])):
        weight = HEADING_WEIGHTS[min(depth, len(HEADING_WEIGHTS) - 1)]
        for i, area in enumerate(AREAS):
            if area.heading.search(heading):
                scores[i] += weight
    return scores


def term_counts(text: str) -> np.ndarray:
    """Per area: how many times its terms occur in the text."""
    return np.array([sum(text.count(term) for term in area.terms) for area in AREAS], dtype=float)


def similarity_scores(vector: np.ndarray | None, area_vectors: np.ndarray | None) -> np.ndarray:
    """Per area: the cosine with its description, rescaled to 0..1 over the areas (zeros without vectors)."""
    if vector is None or area_vectors is None or not np.any(vector):
        return np.zeros(len(AREAS))
    sims = area_vectors @ (vector / np.linalg.norm(vector))
    span = float(sims.max() - sims.min())
    return (sims - sims.min()) / span if span > 0 else np.zeros(len(AREAS))


def score_areas(path: Sequence[str], text: str, vector: np.ndarray | None,
                area_vectors: np.ndarray | None) -> list[Scored]:
    """Every area's score for a passage (its heading path, text and vector), best first."""
    headings = heading_scores(path)
    counts = term_counts(text)
    terms = counts / counts.max() if counts.max() > 0 else counts
    total = headings + TERM_WEIGHT * terms + SIM_WEIGHT * similarity_scores(vector, area_vectors)
    order = sorted(range(len(AREAS)), key=lambda i: (-total[i], i))
    return [Scored(_IDS[i], float(total[i]), bool(headings[i] > 0 or counts[i] > 0)) for i in order]


def pick_areas(scored: Sequence[Scored]) -> tuple[str, ...]:
    """The best area, and the runner-up when it is close enough and backed by a heading or a term."""
    if not scored or scored[0].score <= 0:
        return ()
    best = scored[0]
    picked = [best.area]
    for other in scored[1:MAX_AREAS]:
        if other.evidence and other.score >= SECOND_SHARE * best.score:
            picked.append(other.area)
    return tuple(picked)


def area_vectors(searcher) -> np.ndarray:
    """The unit vectors of the areas' descriptions, embedded as queries."""
    rows = np.stack([np.asarray(searcher.query_vector(area.description), dtype=np.float32) for area in AREAS])
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@dataclass(frozen=True)
class AreaTags:
    """The task areas of every passage and section of one index generation."""

    chunks: Mapping[str, tuple[str, ...]]  # chunk_id -> area ids
    sections: Mapping[tuple[str, str], tuple[str, ...]]  # (doc_id, section_id) -> area ids
    by_report: Mapping[str, Mapping[str, tuple[str, ...]]]  # doc_id -> area id -> chunk ids in report order
    rows: Mapping[str, np.ndarray]  # area id -> the sorted chunk rows tagged with it (the area filter)

    def passages(self, doc_id: str, area_id: str) -> tuple[str, ...]:
        """The chunk ids of a report tagged with an area, in report order."""
        return self.by_report.get(doc_id, {}).get(area_id, ())


def tag_sections(sections: Sequence[Mapping], chunks: Sequence, vectors: np.ndarray | None,
                 areas: np.ndarray | None) -> dict[str, tuple[str, ...]]:
    """Each section's areas from its own chunks (their text together, the mean of their vectors) and its
    heading path; a section without chunks of its own is tagged from its headings."""
    rows_of: dict[str, list[int]] = {}
    for row, chunk in enumerate(chunks):
        rows_of.setdefault(chunk.section_id, []).append(row)
    out = {}
    for section in sections:
        if section["label"] == LABEL_PREFACE:
            out[section["section_id"]] = ()
            continue
        rows = rows_of.get(section["section_id"], [])
        text = "".join(chunks[r].search_text for r in rows)
        vector = vectors[rows].mean(axis=0) if rows and vectors is not None else None
        out[section["section_id"]] = pick_areas(score_areas(section["path"], text, vector, areas))
    return out


def _compute(searcher) -> AreaTags:
    areas = area_vectors(searcher)
    chunk_tags: dict[str, tuple[str, ...]] = {}
    section_tags: dict[tuple[str, str], tuple[str, ...]] = {}
    by_report: dict[str, dict[str, tuple[str, ...]]] = {}
    rows_of_area: dict[str, list[int]] = {area.id: [] for area in AREAS}
    for doc_id in searcher.reports:
        rows = np.asarray(searcher.chunks.rows_of_doc(doc_id), dtype=np.int64)
        chunks = [searcher.chunks[int(r)] for r in rows]
        vectors = searcher.dense.row_vectors(rows) if len(rows) else None
        listed: dict[str, list[str]] = {}
        for row, chunk, vector in sorted(zip(rows, chunks, vectors if vectors is not None else []),
                                         key=lambda p: p[1].start):
            tags = () if chunk.label == LABEL_PREFACE else pick_areas(
                score_areas(chunk.section_path, chunk.search_text, vector, areas))
            chunk_tags[chunk.chunk_id] = tags
            for area in tags:
                listed.setdefault(area, []).append(chunk.chunk_id)
                rows_of_area[area].append(int(row))
        by_report[doc_id] = {area: tuple(ids) for area, ids in listed.items()}
        sections = searcher.reports[doc_id].get("sections", [])
        for section_id, tags in tag_sections(sections, chunks, vectors, areas).items():
            section_tags[(doc_id, section_id)] = tags
    area_rows = {area: np.array(sorted(rows), dtype=np.int64) for area, rows in rows_of_area.items()}
    return AreaTags(chunk_tags, section_tags, by_report, area_rows)


_CACHE: weakref.WeakKeyDictionary[object, AreaTags] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def chunk_areas(searcher, rows: Sequence[int]) -> list[tuple[str, ...]]:
    """The areas of a few chunks (search hits), tagged as area_tags() tags them but without tagging the corpus."""
    with _LOCK:
        cached = _CACHE.get(searcher)
    if cached is not None:
        return [cached.chunks.get(searcher.chunks.chunk_id(int(r)), ()) for r in rows]
    return tag_rows(searcher, rows)


def tag_rows(searcher, rows: Sequence[int]) -> list[tuple[str, ...]]:
    """The areas of the chunks in these rows, each tagged from its own heading path, text and vector."""
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return []
    areas = area_vectors(searcher)
    vectors = searcher.dense.row_vectors(rows)
    out = []
    for row, vector in zip(rows, vectors):
        chunk = searcher.chunks[int(row)]
        out.append(() if chunk.label == LABEL_PREFACE else pick_areas(
            score_areas(chunk.section_path, chunk.search_text, vector, areas)))
    return out


def area_tags(searcher) -> AreaTags:
    """The area tags of a Searcher's generation, computed once and kept while the Searcher lives."""
    with _LOCK:
        cached = _CACHE.get(searcher)
        if cached is None:
            cached = _CACHE[searcher] = _compute(searcher)
        return cached
