"""Embedding on a local Ray cluster of two workers gives the vectors a local embedder gives, in order, once each."""
from __future__ import annotations

import os
import socket
import time

import numpy as np
import pytest

pytest.importorskip("ray", reason="Ray is optional (only --workers/--ray builds need it); install ray[data] to run these tests.")
pa = pytest.importorskip("pyarrow", reason="Ray Data needs pyarrow; install ray[data] to run these tests.")
import pyarrow.parquet as pq

from indexer.distributed_embed import (
    DistributedEmbedError,
    RayTarget,
    embed_parquet,
    embed_texts,
    ray_session,
)
from indexer.embed import FAKE_MODEL, load_embedder
from tests.conftest import MODEL_CACHE, free_port

# Ray 2.60 warns about its own defaults (DataContext() sets use_push_based_shuffle): not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*")

TWO = RayTarget(workers=2)
TEXTS = [f"第{i}条：{'城乡居民收入稳步增长' if i % 3 else '政府工作报告 2024 年'}，编号 {i * 7919 % 1000}。"
         for i in range(500)]


@pytest.fixture(scope="module")
def two_workers():
    """One local Ray cluster of two CPU workers for the whole module (starting one costs seconds)."""
    with ray_session(TWO):
        yield TWO


def _driver_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@pytest.mark.slow
def test_fake_model_on_two_workers_gives_the_local_vectors_each_row_once(two_workers, tmp_path):
    rows = np.arange(1000, 1500, dtype=np.int64)[::-1].copy()  # any int64 ids, not 0..n-1
    pq.write_table(pa.table({"row": rows, "text": TEXTS}), tmp_path / "in.parquet")
    run = embed_parquet(tmp_path / "in.parquet", tmp_path / "out.parquet", FAKE_MODEL, tmp_path,
                        two_workers, batch_size=16)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column_names == ["row", "vector"]
    assert out.schema.field("vector").type == pa.list_(pa.float32(), 64)
    assert sorted(out.column("row").to_pylist()) == sorted(rows.tolist())  # each row exactly once
    # both workers took part, and neither was the driver
    assert run.rows == 500 and run.seconds > 0 and run.texts_per_second > 0
    assert run.workers == 2 and len(set(run.worker_ids)) == 2 and _driver_id() not in run.worker_ids
    # same code, same texts: bit for bit, whatever order Ray returned the rows in
    by_row = dict(zip(out.column("row").to_pylist(), out.column("vector").to_numpy(zero_copy_only=False)))
    local = load_embedder(FAKE_MODEL, tmp_path).embed_passages(TEXTS)
    assert np.array_equal(np.stack([by_row[r] for r in rows.tolist()]).astype(np.float32), local)


@pytest.mark.slow
def test_bundled_e5_on_workers_matches_the_local_embedder_in_input_order(two_workers, embedder, tmp_path):
    # MODEL_CACHE is the cache the session's `embedder` fixture converted the bundled e5 into
    texts = [f"{place}{year}年政府工作报告：{topic}。" for place in ("粤海", "天水郡", "翠园", "潭州")
             for year, topic in ((2022, "地区生产总值增长百分之五"), (2023, "新建保障性住房两万套"),
                                 (2024, "城乡居民人均可支配收入稳步提高"), (2021, "推进乡村振兴"),
                                 (2020, "打好污染防治攻坚战"), (2019, "优化营商环境"),
                                 (2018, "深化放管服改革"), (2017, "稳就业保民生"),
                                 (2016, "加快交通基础设施建设"), (2015, "财政收入"))]
    runs = []
    vectors = embed_texts(texts, None, MODEL_CACHE, two_workers, tmp_path / "work", batch_size=8, report=runs)
    local = embedder.embed_passages(texts)
    assert vectors.shape == local.shape == (40, embedder.dim) and vectors.dtype == np.float32
    cosines = np.sum(vectors * local, axis=1) / (np.linalg.norm(vectors, axis=1) * np.linalg.norm(local, axis=1))
    assert cosines.min() > 1 - 1e-5  # row i is texts[i]: a shuffled row would be far off
    assert [run.workers for run in runs] == [2]
    assert not list((tmp_path / "work").iterdir())  # the Parquet scratch files are gone


@pytest.mark.slow
def test_a_worker_that_cannot_load_the_model_names_it(two_workers, tmp_path):
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(DistributedEmbedError, match="could not load the embedding model") as caught:
        embed_texts(["一", "二", "三"], missing, tmp_path, two_workers, tmp_path / "work")
    assert missing in str(caught.value) and str(caught.value).endswith(".")


def test_nothing_listening_at_the_address_fails_fast_with_a_sentence():
    started = time.monotonic()
    with (pytest.raises(DistributedEmbedError, match=r"^Cannot connect to a Ray cluster at 127\.0\.0\.1:\d+: .*\.$"),
          ray_session(RayTarget(address=f"127.0.0.1:{free_port()}"))):
        pytest.fail("a session opened on a closed port")
    assert time.monotonic() - started < 5


def test_an_address_that_is_not_ray_fails_in_seconds_not_forever():
    with socket.socket() as listener:  # accepts connections (the kernel does) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        started = time.monotonic()
        with (pytest.raises(DistributedEmbedError, match="did not answer like a Ray cluster"),
              ray_session(RayTarget(address=f"127.0.0.1:{listener.getsockname()[1]}"))):
            pytest.fail("a session opened on a port where Ray does not listen")
    assert time.monotonic() - started < 10


def test_a_malformed_address_is_refused():
    with (pytest.raises(DistributedEmbedError, match="not of the form HOST:PORT"),
          ray_session(RayTarget(address="head-node"))):
        pass


def test_a_target_needs_exactly_one_of_address_and_workers():
    with pytest.raises(ValueError):
        RayTarget()
    with pytest.raises(ValueError):
        RayTarget(address="127.0.0.1:6379", workers=2)
    assert RayTarget(workers=2).describe() == "a local Ray cluster of 2 workers"
    assert "10.0.0.5:6379" in RayTarget(address="10.0.0.5:6379").describe()


def test_no_texts_give_an_empty_array_without_starting_ray(monkeypatch, tmp_path):
    import indexer.distributed_embed as module

    def no_ray(*args, **kwargs):
        raise AssertionError("Ray was started for nothing to embed")

    monkeypatch.setattr(module, "ray_session", no_ray)
    monkeypatch.setattr(module, "embed_parquet", no_ray)
    monkeypatch.setattr(module, "_import_ray", no_ray)
    vectors = embed_texts([], FAKE_MODEL, tmp_path, TWO, tmp_path / "work")
    assert vectors.shape == (0, 64) and vectors.dtype == np.float32
    assert not (tmp_path / "work").exists()


def test_null_texts_are_refused_before_ray_starts(monkeypatch, tmp_path):
    import indexer.distributed_embed as module

    monkeypatch.setattr(module, "ray_session", lambda target: pytest.fail("Ray was started for bad input"))
    pq.write_table(pa.table({"row": pa.array([0, 1], pa.int64()), "text": pa.array(["一", None])}), tmp_path / "in.parquet")
    with pytest.raises(DistributedEmbedError, match="a null text in 1 of 2 rows"):
        embed_parquet(tmp_path / "in.parquet", tmp_path / "out.parquet", FAKE_MODEL, tmp_path, TWO)


def test_without_ray_the_error_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with (pytest.raises(DistributedEmbedError, match=r"Ray is not installed.*pip install 'ray\[data\]==\d"),
          ray_session(TWO)):
        pytest.fail("a session opened without Ray")


def test_a_bare_string_is_refused(tmp_path):
    with pytest.raises(TypeError):
        embed_texts("一段文字", FAKE_MODEL, tmp_path, TWO, tmp_path)
