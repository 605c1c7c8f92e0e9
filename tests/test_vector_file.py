"""Rows of vectors.npy read on demand equal the rows in the file, in the order asked."""
import numpy as np
import pytest

from indexer.errors import CorruptIndex
from indexer.vector_file import VectorFile


def test_rows_in_any_order_with_runs_and_repeats(tmp_path):
    vectors = np.random.default_rng(3).standard_normal((500, 16)).astype(np.float32)
    np.save(tmp_path / "v.npy", vectors)
    file = VectorFile(tmp_path / "v.npy")
    assert len(file) == 500 and file.shape == (500, 16)
    for ids in ([0], [499, 0, 7], list(range(40, 90)) + [3, 3, 200], []):
        np.testing.assert_array_equal(file.rows(np.array(ids, dtype=np.int64)), vectors[ids])
    with pytest.raises(IndexError, match="0..499"):
        file.rows(np.array([500]))


def test_float16_rows_come_back_as_float32(tmp_path):
    # The sentence vectors are stored float16; a question reads only its rows, as float32.
    vectors = np.random.default_rng(4).standard_normal((300, 8)).astype(np.float16)
    np.save(tmp_path / "s.npy", vectors)
    file = VectorFile(tmp_path / "s.npy")
    got = file.rows(np.array([299, 5, 6, 7, 0]))
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, vectors[[299, 5, 6, 7, 0]].astype(np.float32))


def test_other_contents_are_refused(tmp_path):
    np.save(tmp_path / "ints.npy", np.arange(10))
    with pytest.raises(CorruptIndex, match="float matrix"):
        VectorFile(tmp_path / "ints.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    with pytest.raises(CorruptIndex, match="cannot be read"):
        VectorFile(tmp_path / "junk.npy")
