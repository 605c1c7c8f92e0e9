"""Study: hybrid vs the generic baseline on paraphrase questions; what the embedder reads, and fusion.

    .venv/bin/python bench/study_paraphrase.py corpus [--variants v0,nb,...] [--bm25]  # dev_search + our cases
    .venv/bin/python bench/study_paraphrase.py ncp    [--variants ...]   # NCP: re-embeds 3,146 chunks per variant (12-16 min each)
    .venv/bin/python bench/study_paraphrase.py fusion [--variants v0,nb] # RRF k / weights / k0, min-max and z-score fusion
    .venv/bin/python bench/study_paraphrase.py check                     # NCP paired bootstrap and split-half choice

Prototype: nothing in indexer/ or service/ is changed. corpus/ is indexed once with the normal
indexer into /tmp/study/base; NCP uses bench/ncp_benchmark.py's cached index and query vectors
(its ensure_index and QueryCache, which build them when missing).
Each variant re-embeds the chunks with another embedder input (vectors cached in /tmp/study) and
searches them through the package's dense index; BM25 variants rebuild BM25 from other tokens.
Metrics: bench/quality.py's passage hits and bench/ncp_benchmark.py's document hits.

Variants of the embedder input: v0 = today (two nearest headings + passage); bare = passage;
iss2 / issfull = issuer + two / all headings; titlefull = report title + all headings;
nb = v0 + last sentence of the chunk before and first of the chunk after (same report, 80 chars
each); nbdoc = nb with neighbours in document order (what the patch does); nbsec = neighbours
from the same section only; nb40 = 40 chars; nbprev = the sentence before only;
mean:a+b = normalised mean of two variants' vectors.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from indexer.bm25 import BM25Index  # noqa: E402
from indexer.build import build_index  # noqa: E402
from indexer.chunking import split_sentences  # noqa: E402
from indexer.dense import build_dense  # noqa: E402
from indexer.embed import load_embedder  # noqa: E402
from indexer.normalize import normalize  # noqa: E402
from indexer.pipeline import passage_text  # noqa: E402
from indexer.store import current_generation, read_generation  # noqa: E402
from service.fusion import reciprocal_rank_fusion  # noqa: E402
from service.search import Searcher  # noqa: E402
from quality import BENCH, SHARED, load_jsonl, metrics, passage_hits  # noqa: E402

SCRATCH = Path("/tmp/study")
K0, RRF_K, W = 100, 10, (1.0, 0.85)


# -- embedder inputs -------------------------------------------------------------------------

def _first_sentence(text: str, limit: int) -> str:
    spans = split_sentences(text, 0, len(text))
    return text[spans[0][0]:spans[0][1]][:limit] if spans else ""


def _last_sentence(text: str, limit: int) -> str:
    spans = split_sentences(text, 0, len(text))
    return text[spans[-1][0]:spans[-1][1]][-limit:] if spans else ""


def _neighbours(chunks, i: int, limit: int = 80, same_section: bool = False) -> tuple[str, str]:
    """Last sentence of the chunk before and first sentence of the chunk after, same report."""
    c = chunks[i]
    ok = lambda o: o.doc_id == c.doc_id and (not same_section or o.section_id == c.section_id)  # noqa: E731
    before = _last_sentence(chunks[i - 1].search_text, limit) if i > 0 and ok(chunks[i - 1]) else ""
    after = _first_sentence(chunks[i + 1].search_text, limit) if i + 1 < len(chunks) and ok(chunks[i + 1]) else ""
    return before, after


def _path(chunk, last: int | None = None) -> str:
    parts = [p for p in chunk.section_path if p != "前言"]
    return " › ".join(parts[-last:] if last else parts)


def variant_texts(name: str, chunks, reports) -> list[str]:
    if name == "nbdoc":  # "nb" with neighbours in document order (by offset), as in the patch
        order = sorted(range(len(chunks)), key=lambda r: (chunks[r].doc_id, chunks[r].start, chunks[r].end))
        texts = variant_texts("nb", [chunks[r] for r in order], reports)
        out = [""] * len(chunks)
        for text, r in zip(texts, order):
            out[r] = text
        return out
    out = []
    for i, c in enumerate(chunks):
        meta = reports[c.doc_id]["meta"]
        if name == "v0":  # as built today: two nearest headings + passage
            out.append(passage_text(c))
        elif name == "bare":  # passage only
            out.append(c.search_text)
        elif name == "iss2":  # issuer + two nearest headings + passage
            out.append(" › ".join(x for x in (meta["issuer"], _path(c, 2)) if x) + "\n" + c.search_text)
        elif name == "issfull":  # issuer + full section path + passage   ("contextual chunk header")
            out.append(" › ".join(x for x in (meta["issuer"], _path(c)) if x) + "\n" + c.search_text)
        elif name == "titlefull":  # report title + full section path + passage
            out.append(" › ".join(x for x in (meta["title"], _path(c)) if x) + "\n" + c.search_text)
        elif name in ("nbsec", "nb40", "nbprev"):  # variants of the neighbour window
            before, after = _neighbours(chunks, i, limit=40 if name == "nb40" else 80, same_section=name == "nbsec")
            if name == "nbprev":
                after = ""
            out.append(passage_text(c).split("\n", 1)[0] + "\n" + "\n".join(x for x in (before, c.search_text, after) if x))
        elif name in ("nb", "issfull_nb"):  # neighbouring sentences around the passage
            before, after = _neighbours(chunks, i)
            head = passage_text(c).split("\n", 1)[0] if name == "nb" else " › ".join(x for x in (meta["issuer"], _path(c)) if x)
            out.append(head + "\n" + "\n".join(x for x in (before, c.search_text, after) if x))
        else:
            raise ValueError(name)
    return out


def variant_vectors(emb, prefix: str, name: str, chunks, reports, v0=None) -> np.ndarray:
    """Vectors of a variant; "mean:a+b" is the normalised mean of two variants' vectors."""
    if name.startswith("mean:"):
        a, b = name[5:].split("+")
        v = variant_vectors(emb, prefix, a, chunks, reports, v0) + variant_vectors(emb, prefix, b, chunks, reports, v0)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    if name == "v0" and v0 is not None:
        return v0
    return cached_vectors(emb, f"{prefix}-{name}", variant_texts(name, chunks, reports))


def cached_vectors(emb, tag: str, texts: list[str]) -> np.ndarray:
    key = hashlib.sha256("\x01".join(texts).encode()).hexdigest()[:12]
    path = SCRATCH / f"vec-{tag}-{key}.npy"
    if path.exists():
        return np.load(path)
    started = time.monotonic()
    v = emb.embed_passages(texts, batch_size=16)
    print(f"   [{tag}: embedded {len(texts)} passages in {time.monotonic() - started:.0f} s]", flush=True)
    np.save(path, v)
    return v


# -- ranked lists and fusion -----------------------------------------------------------------

def bm25_list(bm25: BM25Index, tokens: list[str], depth: int, with_scores: bool = False):
    if not tokens:
        return ([], np.zeros(0)) if with_scores else []
    ids, scores = bm25.top_k(tokens, depth)
    keep = scores > 0
    out = [int(i) for i in ids[keep]]
    return (out, scores[keep]) if with_scores else out


def dense_list(vectors: np.ndarray, q: np.ndarray, depth: int) -> tuple[list[int], np.ndarray]:
    ids, scores = build_dense(vectors).search(q, depth)
    return [int(i) for i in ids], scores


def fuse(bm, dn, how: str = "rrf", k: float = RRF_K, w=W, k0: int = K0, dn_scores=None, bm_scores=None):
    bm, dn = bm[:k0], dn[:k0]
    if how == "rrf":
        return [r for r, _ in reciprocal_rank_fusion([bm, dn], k=k, weights=list(w))]
    # score fusion: each list's scores rescaled over its top k0, then alpha*bm25 + (1-alpha)*dense
    alpha = w[0] / (w[0] + w[1])
    total: dict[int, float] = {}
    for ids, sc, a in ((bm, bm_scores, alpha), (dn, dn_scores, 1 - alpha)):
        if not ids:
            continue
        x = np.asarray(sc[: len(ids)], dtype=np.float64)
        if how == "minmax":
            x = (x - x.min()) / (x.max() - x.min()) if x.max() > x.min() else np.ones_like(x)
        elif how == "zscore":
            x = (x - x.mean()) / (x.std() or 1.0)
        else:
            raise ValueError(how)
        for i, v in zip(ids, x):
            total[i] = total.get(i, 0.0) + a * v
    return sorted(total, key=lambda i: (-total[i], i))


# -- corpus (dev_search + our cases) ---------------------------------------------------------

def corpus_index(emb):
    """The searcher of corpus/ (built once into /tmp/study/base) and its chunks and reports as plain lists."""
    root = SCRATCH / "base"
    if current_generation(root) is None:
        build_index(ROOT / "corpus", root, emb)
    data = read_generation(current_generation(root), verify=False)
    return Searcher.load(current_generation(root), emb), list(data.chunks), data.reports


def corpus_eval(searcher: Searcher, chunks, vectors: np.ndarray, bm25: BM25Index, cases, fusion: dict | None = None,
                ranks: bool = False):
    fusion = fusion or {}
    flags = {"bm25": [], "dense": [], "hybrid": []}
    per_case = []
    for case in cases:
        tokens = searcher.query_tokens(case["q"])
        bm = bm25_list(bm25, tokens, 200)
        q = searcher._query_vector(normalize(case["q"]).text)
        dn, _ = dense_list(vectors, q, 200)
        hy = fuse(bm, dn, **fusion)
        row = {}
        for mode, ids in (("bm25", bm), ("dense", dn), ("hybrid", hy)):
            res = [{"doc_id": chunks[r].doc_id, "norm": chunks[r].search_text} for r in ids]
            f = passage_hits(res, case)
            flags[mode].append(f[:10])
            row[mode] = next((i + 1 for i, x in enumerate(f) if x), None)
        per_case.append(row)
    out = {m: metrics(f) for m, f in flags.items()}
    return (out, per_case) if ranks else out


def generic_ranks(emb, cases) -> tuple[dict, list]:
    windows = []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        text = normalize(path.read_text(encoding="utf-8")).text
        for start in range(0, max(len(text) - 100, 1), 400):
            windows.append((path.stem, text[start:start + 500]))
    wv = cached_vectors(emb, "generic", [w for _, w in windows])
    flags, ranks = [], []
    for case in cases:
        q = emb.embed_queries([case["q"]])[0]
        order = np.argsort(-(wv @ q), kind="stable")
        f = passage_hits([{"doc_id": windows[i][0], "norm": windows[i][1]} for i in order], case)
        flags.append(f[:10])
        ranks.append(next((i + 1 for i, x in enumerate(f) if x), None))
    return metrics(flags), ranks


def fmt(m: dict) -> str:
    return f"{m['hit@5']:.3f} / {m['MRR@10']:.3f}"


def header_tokens(searcher, chunks, reports, name: str) -> list[list[str]]:
    texts = variant_texts(name, chunks, reports)
    return [searcher.tokenizer.tokens(t) for t in texts]


def run_corpus(variants: list[str], bm25_variants: bool) -> None:
    emb = load_embedder(None, ROOT / ".cache" / "models", num_threads=2)
    s, chunks, reports = corpus_index(emb)
    dev = load_jsonl(SHARED / "eval" / "dev_search.jsonl")
    ours = load_jsonl(BENCH / "data" / "search_cases.jsonl")
    g_dev, _ = generic_ranks(emb, dev)
    g_ours, g_ranks = generic_ranks(emb, ours)
    print(f"generic baseline: dev {fmt(g_dev)}  ours {fmt(g_ours)}   (hit@5 / MRR@10)")
    print(f"   generic ranks on ours: {g_ranks}")
    print(f"{'variant':<12} {'set':<5} {'bm25':>15} {'dense':>15} {'hybrid':>15} {'hybrid 1:1':>15}  ranks ours b/d/h")
    for name in variants:
        vectors = variant_vectors(emb, "corpus", name, chunks, reports)
        bm25s = [("", s.bm25)]
        if bm25_variants and name != "v0" and ":" not in name:
            bm25s.append(("+bm25", BM25Index.build(header_tokens(s, chunks, reports, name))))
        for tag, bm25 in bm25s:
            for setname, cases in (("dev", dev), ("ours", ours)):
                m, per = corpus_eval(s, chunks, vectors, bm25, cases, ranks=True)
                eq = corpus_eval(s, chunks, vectors, bm25, cases, {"w": (1.0, 1.0)})
                r = " ".join(f"{p['bm25']}/{p['dense']}/{p['hybrid']}" for p in per) if setname == "ours" else ""
                print(f"{name + tag:<12} {setname:<5} {fmt(m['bm25']):>15} {fmt(m['dense']):>15} {fmt(m['hybrid']):>15} "
                      f"{fmt(eq['hybrid']):>15}  {r}", flush=True)


# -- NCP --------------------------------------------------------------------------------------

class NCP:
    def __init__(self, emb):
        from ncp_benchmark import QueryCache, corpus_key, duplicate_twins, ensure_index, load_ncp

        self.emb = emb
        docs, self.queries, qrels = load_ncp()
        key = corpus_key(docs, emb.name)
        # The benchmark's own cache: the same index and query vectors it scores (built when missing).
        folder, _ = ensure_index(docs, emb, key)
        self.data = read_generation(folder, verify=False)
        self.searcher = Searcher.load(folder, emb, verify=False)
        texts = [normalize(q["text"]).text for q in self.queries]
        self.qvectors = QueryCache(emb, texts, key).embed_queries(texts)
        twins = duplicate_twins(self.data.manifest.get("skipped", []))
        self.relevant = [qrels[q["_id"]] | {t for d in qrels[q["_id"]] for t in twins.get(d, ())} for q in self.queries]
        self.tokens = [self.searcher.query_tokens(q["text"]) for q in self.queries]
        self.chunks, self.reports = list(self.data.chunks), self.data.reports
        self.doc_of = [c.doc_id for c in self.chunks]

    def bm25_lists(self, bm25: BM25Index, depth: int = 200):
        return [bm25_list(bm25, t, depth) for t in self.tokens]

    def dense_lists(self, vectors: np.ndarray, depth: int = 200):
        """Through the package's own flat index, as Searcher.search does (same rounding, same tie-break)."""
        dense = build_dense(vectors)
        out = [dense.search(q, depth) for q in self.qvectors]
        return [[int(i) for i in ids] for ids, _ in out], [sc for _, sc in out]

    def score(self, rows_per_query) -> dict:
        from ncp_benchmark import doc_ranking, score

        rankings = [doc_ranking(self.doc_of[r] for r in rows[:50]) for rows in rows_per_query]
        return score(rankings, self.relevant)


def run_ncp(variants: list[str], bm25_variants: bool) -> None:
    emb = load_embedder(None, ROOT / ".cache" / "models", num_threads=2)
    ncp = NCP(emb)
    s = ncp.searcher
    bm_lists = ncp.bm25_lists(s.bm25)
    print(f"NCP: {len(ncp.queries)} questions, {len(ncp.chunks)} chunks   (hit@5 / MRR@10)")
    print(f"{'variant':<12} {'bm25':>17} {'dense':>17} {'hybrid 1:0.85':>17} {'hybrid 1:1':>17}")
    for name in variants:
        # v0 = the vectors bench/ncp_benchmark.py cached with today's embedder input
        vectors = variant_vectors(emb, "ncp", name, ncp.chunks, ncp.reports, v0=ncp.data.vectors)
        dn_lists, _ = ncp.dense_lists(vectors)
        bms = [("", bm_lists)]
        if bm25_variants and name != "v0" and ":" not in name:
            bms.append(("+bm25", ncp.bm25_lists(BM25Index.build(header_tokens(s, ncp.chunks, ncp.reports, name)))))
        for tag, bl in bms:
            res = {
                "bm25": ncp.score(bl),
                "dense": ncp.score(dn_lists),
                "hyb": ncp.score([fuse(b, d) for b, d in zip(bl, dn_lists)]),
                "hyb1": ncp.score([fuse(b, d, w=(1.0, 1.0)) for b, d in zip(bl, dn_lists)]),
            }
            print(f"{name + tag:<12} " + " ".join(f"{res[m]['hit@5']:.4f} / {res[m]['MRR@10']:.4f}" for m in res), flush=True)


FUSIONS = (
    [("rrf", k, wd, k0) for k0 in (50, 100, 200) for k in (2, 5, 10, 20, 30, 60)
     for wd in (0.6, 0.7, 0.8, 0.85, 0.9, 1.0, 1.1, 1.25)]
    + [(how, None, wd, k0) for how in ("minmax", "zscore") for k0 in (50, 100)
       for wd in (0.5, 0.7, 0.85, 1.0, 1.25, 1.5)]
)


def run_fusion(vector_variant: str = "v0") -> None:
    """Every fusion of FUSIONS on dev, NCP and our cases, from the same ranked lists."""
    emb = load_embedder(None, ROOT / ".cache" / "models", num_threads=2)
    s, chunks, reports = corpus_index(emb)
    dev = load_jsonl(SHARED / "eval" / "dev_search.jsonl")
    ours = load_jsonl(BENCH / "data" / "search_cases.jsonl")
    cv = variant_vectors(emb, "corpus", vector_variant, chunks, reports)

    def corpus_lists(cases):
        out = []
        for case in cases:
            bm, bs = bm25_list(s.bm25, s.query_tokens(case["q"]), 200, with_scores=True)
            dn, ds = dense_list(cv, s._query_vector(normalize(case["q"]).text), 200)
            out.append((bm, bs, dn, ds))
        return out

    def corpus_score(lists, cases, how, k, wd, k0):
        flags = []
        for (bm, bs, dn, ds), case in zip(lists, cases):
            ids = fuse(bm, dn, how=how, k=k or RRF_K, w=(1.0, wd), k0=k0, bm_scores=bs, dn_scores=ds)[:10]
            res = [{"doc_id": chunks[r].doc_id, "norm": chunks[r].search_text} for r in ids]
            flags.append(passage_hits(res, case))
        return metrics(flags)

    dev_l, ours_l = corpus_lists(dev), corpus_lists(ours)
    ncp = NCP(emb)
    nv = variant_vectors(emb, "ncp", vector_variant, ncp.chunks, ncp.reports, v0=ncp.data.vectors)
    bl = [bm25_list(ncp.searcher.bm25, t, 200, with_scores=True) for t in ncp.tokens]
    dl, ds = ncp.dense_lists(nv)
    rows = []
    for how, k, wd, k0 in FUSIONS:
        n = ncp.score([fuse(b, d, how=how, k=k or RRF_K, w=(1.0, wd), k0=k0, bm_scores=bs, dn_scores=dsc)
                       for (b, bs), d, dsc in zip(bl, dl, ds)])
        d = corpus_score(dev_l, dev, how, k, wd, k0)
        o = corpus_score(ours_l, ours, how, k, wd, k0)
        rows.append((how, k, wd, k0, d, n, o))
        print(f"{how:<7} k={k!s:<4} w=1:{wd:<5} k0={k0:<4} dev {fmt(d)}   NCP {n['hit@5']:.4f} / {n['MRR@10']:.4f}   ours {fmt(o)}",
              flush=True)
    print("\n== allowed on dev (hit@5 1.000, MRR >= 0.95), best 12 by NCP MRR@10")
    ok = [r for r in rows if r[4]["hit@5"] == 1.0 and r[4]["MRR@10"] >= 0.95]
    for how, k, wd, k0, d, n, o in sorted(ok, key=lambda r: -r[5]["MRR@10"])[:12]:
        print(f"{how:<7} k={k!s:<4} w=1:{wd:<5} k0={k0:<4} dev {fmt(d)}   NCP {n['hit@5']:.4f} / {n['MRR@10']:.4f}   ours {fmt(o)}")


def run_check() -> None:
    """Is it noise? Paired bootstrap of NCP MRR@10 against today's setting, and split-half choice of fusion."""
    from ncp_benchmark import doc_ranking

    emb = load_embedder(None, ROOT / ".cache" / "models", num_threads=2)
    ncp = NCP(emb)
    bl = [bm25_list(ncp.searcher.bm25, t, 200, with_scores=True) for t in ncp.tokens]

    def rr(rows_per_query):
        out = []
        for rows, wanted in zip(rows_per_query, ncp.relevant):
            docs = doc_ranking(ncp.doc_of[r] for r in rows[:50])
            first = next((i for i, d in enumerate(docs[:10]) if d in wanted), None)
            out.append((0.0 if first is None else 1 / (first + 1), first is not None and first < 5))
        return np.array(out)

    per = {}
    lists = {}
    for v in ("v0", "nb"):
        vec = variant_vectors(emb, "ncp", v, ncp.chunks, ncp.reports, v0=ncp.data.vectors)
        lists[v] = ncp.dense_lists(vec)
    for v in ("v0", "nb"):
        dl, ds = lists[v]
        for how, k, wd, k0 in FUSIONS:
            per[(v, how, k, wd, k0)] = rr([fuse(b, d, how=how, k=k or RRF_K, w=(1.0, wd), k0=k0, bm_scores=bs, dn_scores=dsc)
                                           for (b, bs), d, dsc in zip(bl, dl, ds)])
    base = per[("v0", "rrf", 10, 0.85, 100)]
    rng = np.random.default_rng(0)
    n = len(base)
    boots = rng.integers(0, n, size=(2000, n))
    print("paired bootstrap against v0 + RRF k=10 1:0.85 (2,000 resamples of the 1,262 questions)")
    for key in (("nb", "rrf", 10, 0.85, 100), ("v0", "minmax", None, 0.7, 100), ("nb", "minmax", None, 0.7, 100),
                ("v0", "rrf", 2, 0.6, 100), ("nb", "zscore", None, 0.7, 100)):
        d_mrr = per[key][:, 0] - base[:, 0]
        d_hit = per[key][:, 1] - base[:, 1]
        lo, hi = np.percentile(d_mrr[boots].mean(axis=1), [2.5, 97.5])
        hlo, hhi = np.percentile(d_hit[boots].mean(axis=1), [2.5, 97.5])
        print(f"  {key}: MRR {per[key][:, 0].mean():.4f} (diff {d_mrr.mean():+.4f}, 95% CI {lo:+.4f}..{hi:+.4f}; "
              f"better/worse on {int((d_mrr > 0).sum())}/{int((d_mrr < 0).sum())} questions)  "
              f"hit@5 {per[key][:, 1].mean():.4f} (diff {d_hit.mean():+.4f}, CI {hlo:+.4f}..{hhi:+.4f})")
    print("split-half choice of fusion on nb vectors (choose on one half by MRR@10, report the other half)")
    halves = [np.arange(n) % 2 == 0, np.arange(n) % 2 == 1]
    for a, b in ((0, 1), (1, 0)):
        for family in ("rrf", "score"):
            keys = [k for k in per if k[0] == "nb" and (k[1] == "rrf") == (family == "rrf")]
            best = max(keys, key=lambda k: per[k][halves[a], 0].mean())
            print(f"  chosen on half {a} ({family}): {best[1:]}  half {a} {per[best][halves[a], 0].mean():.4f}  "
                  f"held-out half {b} {per[best][halves[b], 0].mean():.4f} / hit@5 {per[best][halves[b], 1].mean():.4f}  "
                  f"(today on held-out: {base[halves[b], 0].mean():.4f} / {base[halves[b], 1].mean():.4f})")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=("corpus", "ncp", "fusion", "check"))
    parser.add_argument("--variants", default="v0,bare,iss2,issfull,titlefull,nb,issfull_nb")
    parser.add_argument("--bm25", action="store_true", help="also put the header into BM25's tokens")
    args = parser.parse_args()
    SCRATCH.mkdir(exist_ok=True)
    variants = args.variants.split(",")
    if args.what == "check":
        run_check()
    elif args.what == "fusion":
        for v in variants:
            print(f"==== fusion study on vectors {v}")
            run_fusion(v)
    elif args.what == "corpus":
        run_corpus(variants, args.bm25)
    else:
        run_ncp(variants, args.bm25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
