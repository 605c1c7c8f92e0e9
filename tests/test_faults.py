"""Faults: an indexer killed at any point, corrupted index files, a full disk, concurrent writers."""
from __future__ import annotations

import errno
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from indexer.build import add_files, build_index
from indexer.embed import HashingEmbedder
from indexer.errors import CorruptIndex
from indexer.store import current_generation, read_current
from service import create_app
from tests.conftest import CORPUS, DOC_TANZHOU, ROOT, SHARED

TOKEN = "fault-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROV = SHARED / "ext" / "prov31-gwr"
EXTRA = [PROV / "2025年上海市政府工作报告.docx", PROV / "2025年吉林省政府工作报告.docx"]
needs_extra = pytest.mark.skipif(
    not all(path.is_file() for path in EXTRA),
    reason=f"../shared is not beside this checkout; these tests add the two .docx reports of {PROV}.")


@pytest.fixture(scope="module")
def base_index(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faults-base") / "index"
    build_index(CORPUS, root, HashingEmbedder())
    return root


@pytest.fixture()
def index(tmp_path, base_index) -> Path:
    return Path(shutil.copytree(base_index, tmp_path / "index", symlinks=True))


@pytest.fixture()
def corpus(tmp_path) -> Path:
    return Path(shutil.copytree(CORPUS, tmp_path / "corpus"))


def make_app(index: Path, corpus: Path, **extra):
    return create_app({"TESTING": True, "INDEX_DIR": str(index), "CORPUS_DIR": str(corpus),
                       "EMBEDDER": HashingEmbedder(), "ADMIN_TOKEN": TOKEN, "BUILD_IF_MISSING": False, **extra})


def indexer_command(index: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "indexer", "--index", str(index), "--model", "fake-hashing", *args]


def doc_ids(index: Path) -> set[str]:
    return set(read_current(index).reports)


# ------------------------------------------------------------------ kill -9


# Each entry: (what to patch, call number at which the process kills itself with SIGKILL).
CRASH_POINTS = [
    ("indexer.store._write_jsonl", 2),  # in the middle of writing the new generation's tables
    ("indexer.store.np.save", 1),  # tables written, vectors not
    ("indexer.store.os.symlink", 1),  # generation renamed into place, `current` not yet moved
    ("indexer.store.os.replace", 1),  # new link made, not yet swapped in
    ("indexer.store._prune", 1),  # swapped in, old generations not yet pruned
]

CRASHER = textwrap.dedent("""
    import os, signal, sys
    import importlib
    target, nth = sys.argv[1], int(sys.argv[2])
    module_name, _, attribute = target.rpartition(".")
    owner = importlib.import_module(module_name) if not module_name.endswith((".np", ".os")) else None
    if owner is None:
        base, _, name = module_name.rpartition(".")
        owner = getattr(importlib.import_module(base), name)
    original = getattr(owner, attribute)
    calls = [0]
    def crash(*args, **kwargs):
        calls[0] += 1
        if calls[0] >= nth:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    setattr(owner, attribute, crash)
    from indexer.__main__ import main
    sys.exit(main(sys.argv[3:]))
""")


@needs_extra
@pytest.mark.parametrize("target, nth", CRASH_POINTS)
def test_killed_at_each_write_step_the_last_complete_index_is_served(index, corpus, target, nth):
    before = doc_ids(index)
    result = subprocess.run([sys.executable, "-c", CRASHER, target, str(nth), "--index", str(index),
                             "--model", "fake-hashing", "add", str(EXTRA[0])],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == -signal.SIGKILL, result.stderr
    after = doc_ids(index)  # read_current verifies every checksum
    swapped = target.endswith("_prune")
    assert after == (before | {"2025年上海市政府工作报告"} if swapped else before)
    app = make_app(index, corpus)
    assert app.test_client().get("/healthz").get_json()["reports"] == len(after)
    # a rerun completes (the dead writer's lock is gone), and cleans up what the killed process left behind
    add_files(index, EXTRA, HashingEmbedder())
    assert doc_ids(index) == before | {"2025年上海市政府工作报告", "2025年吉林省政府工作报告"}
    assert not list((index / "generations").glob("tmp-*")) and not list(index.glob(".current-*"))
    assert app.test_client().get("/healthz").get_json()["reports"] == len(before) + 2


@needs_extra
def test_kill_9_at_random_moments_of_a_build(tmp_path, base_index, corpus):
    """Kill a full build at random moments (seeded) over its whole run; every survivor is complete."""
    for path in EXTRA:
        shutil.copy(path, corpus / path.name)
    before = doc_ids(base_index)
    # Time the very build each kill interrupts: a rebuild over a copy of the base index.
    calibrate = Path(shutil.copytree(base_index, tmp_path / "calibrate", symlinks=True))
    started = time.monotonic()
    full = subprocess.run(indexer_command(calibrate, "build", "--corpus", str(corpus)),
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    duration = time.monotonic() - started
    assert full.returncode == 0, full.stderr
    complete = doc_ids(calibrate)
    assert complete == before | {p.stem for p in EXTRA}
    rng = random.Random(20240531)
    outcomes = []
    for attempt in range(4):
        # A fresh copy each time, so each outcome says where that kill landed: before or after the swap.
        index = Path(shutil.copytree(base_index, tmp_path / f"random-index-{attempt}", symlinks=True))
        process = subprocess.Popen(indexer_command(index, "build", "--corpus", str(corpus)), cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, 1.0) * duration)
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        served = doc_ids(index)
        assert served in (before, complete)
        outcomes.append(served == complete)
    # Kills that all came after the swap would have shown nothing about an interrupted build.
    assert False in outcomes, f"no kill of the four interrupted a build before its swap: {outcomes}"
    build_index(corpus, index, HashingEmbedder())
    assert doc_ids(index) == complete
    assert not list((index / "generations").glob("tmp-*"))


@needs_extra
def test_two_cli_writers_at_once_lose_nothing(index):
    before = doc_ids(index)
    processes = [subprocess.Popen(indexer_command(index, "add", str(path)), cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for path in EXTRA]
    for process in processes:
        stderr = process.communicate(timeout=120)[1]
        assert process.returncode == 0, stderr.decode()
    assert doc_ids(index) == before | {p.stem for p in EXTRA}


# ------------------------------------------------------------------ corrupted files


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "name, damage, words",
    [
        ("vectors.npy", _truncate, "does not match its checksum"),
        ("chunks.jsonl", _flip_byte, "does not match its checksum"),
        ("tokens.jsonl", lambda p: p.write_text("", encoding="utf-8"), "does not match its checksum"),
        ("reports.jsonl", lambda p: p.unlink(), "is missing"),
        ("manifest.json", _truncate, "manifest"),
    ],
)
def test_a_damaged_index_is_refused_at_start_with_a_sentence(index, corpus, name, damage, words):
    folder = current_generation(index)
    target = folder / name
    if not target.exists():
        target = next(p for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json")
    damage(target)
    with pytest.raises(CorruptIndex) as caught:
        make_app(index, corpus)
    message = str(caught.value)
    assert words in message and message.endswith(".")
    assert "rebuild" in message or "cannot be read" in message


def test_a_damaged_bm25_file_is_refused(index, corpus):
    folder = current_generation(index)
    bm25 = sorted(p for p in (folder / "bm25").rglob("*") if p.is_file())
    assert bm25
    _truncate(bm25[0])
    with pytest.raises(CorruptIndex, match="checksum"):
        make_app(index, corpus)


def test_a_damaged_new_generation_is_not_served(index, corpus, caplog):
    """A broken generation swapped in under a running service: the old one keeps answering."""
    app = make_app(index, corpus)
    client = app.test_client()
    old = client.get("/healthz").get_json()["generation"]
    broken = index / "generations" / "g-99999999-broken"
    shutil.copytree(current_generation(index), broken)
    _flip_byte(broken / "chunks.jsonl")
    os.symlink(Path("generations") / broken.name, index / ".current-test")
    os.replace(index / ".current-test", index / "current")
    response = client.get("/api/search", query_string={"q": "行政复议", "mode": "bm25"})
    assert response.status_code == 200 and response.get_json()["results"]
    assert client.get("/healthz").get_json()["generation"] == old
    assert any("does not match its checksum" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------ full disk and unwritable folders


def _enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _upload(client, marker: str):
    text = (CORPUS / f"{DOC_TANZHOU}.txt").read_text(encoding="utf-8") + f"\n坦洲镇设立{marker}。\n"
    return client.post("/api/reports", data={"file": (io.BytesIO(text.encode("utf-8")), "fault.txt")},
                       headers=AUTH, content_type="multipart/form-data")


@pytest.mark.parametrize("target", ["indexer.store.os.rename", "indexer.store.np.save", "indexer.store.os.fsync"])
def test_a_full_disk_during_an_upload_is_a_clear_error_and_the_old_index_stays(index, corpus, monkeypatch, target):
    import indexer.store as store

    client = make_app(index, corpus).test_client()
    old = client.get("/healthz").get_json()["generation"]
    corpus_before = sorted(p.name for p in corpus.iterdir())
    owner = {"os": store.os, "np": store.np}[target.split(".")[2]]
    with monkeypatch.context() as patch:
        patch.setattr(owner, target.rsplit(".", 1)[1], _enospc)
        response = _upload(client, "磁盘已满室")
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "index_not_updated"
    assert "No space left on device" in error["message"]
    assert "unchanged" in error["message"] or "nothing was changed" in error["message"]
    health = client.get("/healthz").get_json()
    assert health["generation"] == old and health["reports"] == 5
    assert current_generation(index).name == old
    assert sorted(p.name for p in corpus.iterdir()) == corpus_before
    assert not list((index / "generations").glob("tmp-*"))
    assert client.get("/api/search", query_string={"q": "行政复议"}).status_code == 200
    # once there is room again, the same upload goes through: no lock or temporary file was left
    assert _upload(client, "磁盘已满室").status_code == 201


def test_an_unwritable_corpus_folder_is_a_clear_error(index, corpus, monkeypatch):
    import service.admin as admin

    def read_only(*_args, **_kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    client = make_app(index, corpus).test_client()
    old = current_generation(index).name
    monkeypatch.setattr(admin.tempfile, "mkstemp", read_only)
    response = _upload(client, "只读目录室")
    assert response.status_code == 503
    message = response.get_json()["error"]["message"]
    assert "Read-only file system" in message and "nothing was changed" in message
    assert current_generation(index).name == old


@needs_extra
def test_a_full_disk_during_a_cli_add_is_a_sentence(index, monkeypatch, capsys):
    import indexer.store as store
    from indexer.__main__ import main

    old = current_generation(index).name
    monkeypatch.setattr(store.np, "save", _enospc)
    assert main(["--index", str(index), "--model", "fake-hashing", "add", str(EXTRA[0])]) == 1
    last = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]  # after the progress bars
    assert last.startswith("error: Could not write the index") and "No space left on device" in last
    assert last.endswith("The previous index is unchanged.")
    assert current_generation(index).name == old


def test_a_delete_on_a_full_disk_keeps_the_report(index, corpus, monkeypatch):
    import indexer.store as store

    client = make_app(index, corpus).test_client()
    monkeypatch.setattr(store.os, "rename", _enospc)
    response = client.delete(f"/api/reports/{DOC_TANZHOU}", headers=AUTH)
    assert response.status_code == 503 and "No space left" in response.get_json()["error"]["message"]
    monkeypatch.undo()
    assert client.get(f"/api/reports/{DOC_TANZHOU}").status_code == 200
    assert (corpus / f"{DOC_TANZHOU}.txt").is_file()
