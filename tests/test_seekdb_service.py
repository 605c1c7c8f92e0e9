"""The service on the seekdb backend, for real: `python -m service --backend seekdb` over HTTP on the real
index, the same results as the embedded backend, and the faults (engine down at start, down during a
request, a load killed mid-way)."""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import DOC_YUEHAI, ROOT, free_port

for package in ("pylibseekdb", "pymysql"):
    if importlib.util.find_spec(package) is None:
        pytest.skip(f"{package} is not installed, so the seekdb backend cannot be tried; "
                    "install it from requirements.txt.", allow_module_level=True)

from indexer.seekdb import SeekdbConfig, SeekdbStore, start_local_engine  # noqa: E402
from indexer.seekdb.generations import database_for, ensure_loaded  # noqa: E402
from indexer.store import current_generation  # noqa: E402

pytestmark = pytest.mark.slow
QUERIES = ["商圈微法庭", "行政复议案件", "法律顾问", "普法宣传活动", "容缺受理", "哪些地方在商业区设立了小型法庭"]


def _get(url: str, timeout: float = 30.0) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Service:
    """`python -m service --backend seekdb` on a free port, its log kept."""

    def __init__(self, index: Path, log: Path, address: str = "", wait: float = 60.0):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {**os.environ, "FAZHI_SEEKDB_WAIT": str(wait)}
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service", "--index", str(index), "--port", str(self.port), "--backend", "seekdb",
                 "--seekdb-address", address], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)

    def wait_up(self, seconds: float = 120.0) -> None:
        deadline = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"The service exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                _get(f"{self.base}/healthz", timeout=2)
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"The service did not answer within {seconds:g} s: {self.log.read_text()[-2000:]}")
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = start_local_engine(tmp_path_factory.mktemp("seekdb") / "data")
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def service(built_index, engine, tmp_path_factory):
    svc = Service(built_index, tmp_path_factory.mktemp("svc") / "service.log", address=engine.address)
    svc.wait_up()
    yield svc
    svc.stop()


def test_healthz_names_the_backend_that_serves(service, engine, built_index):
    status, body = _get(f"{service.base}/healthz")
    assert status == 200 and body["status"] == "ok"
    assert body["backend"] == "seekdb" and body["engine"] == engine.address
    assert body["database"] == database_for(current_generation(built_index))


def test_search_gives_the_embedded_backends_results(service, client):
    for query in QUERIES:
        for extra in ({}, {"level": "街道"}, {"area": "社会矛盾纠纷行政预防调处化解体系"}, {"section": "主要举措"}):
            params = urllib.parse.urlencode({"q": query, "k": 10, **extra})
            status, theirs = _get(f"{service.base}/api/search?{params}")
            ours = client.get(f"/api/search?{params}").get_json()
            assert status == 200
            assert [h["chunk_id"] for h in theirs["results"]] == [h["chunk_id"] for h in ours["results"]], (query, extra)
            # The engine computes inner products itself: the same to float32 rounding.
            assert [h["score"] for h in theirs["results"]] == pytest.approx([h["score"] for h in ours["results"]], abs=1e-4)


def test_answers_name_the_same_places_as_on_embedded(service, client):
    for question in ("哪些地方在商业区设立了小型法庭？", "哪些地方聘请了法律顾问？", "坦洲镇办了多少宗简案快办？"):
        status, theirs = _post(f"{service.base}/api/ask", {"question": question})
        ours = client.post("/api/ask", json={"question": question}).get_json()
        assert status == 200
        assert [g["issuer"] for g in theirs["groups"]] == [g["issuer"] for g in ours["groups"]]
        assert theirs["answer"] == ours["answer"]


def test_report_pages_read_from_the_engine_are_the_embedded_ones(service, client):
    doc_ids = [row["doc_id"] for row in client.get("/api/reports").get_json()["reports"]]
    assert len(doc_ids) == 5
    for doc_id in doc_ids:
        status, theirs = _get(f"{service.base}/api/reports/{doc_id}")
        assert status == 200 and theirs == client.get(f"/api/reports/{doc_id}").get_json()
    assert _get(f"{service.base}/api/reports/no-such-report")[0] == 404


def test_an_engine_down_during_a_request_is_a_503_sentence_and_recovers_by_itself(built_index, tmp_path):
    engine = start_local_engine(tmp_path / "data")
    svc = Service(built_index, tmp_path / "service.log", address=engine.address)
    try:
        svc.wait_up()
        assert _get(f"{svc.base}/api/search?q=%E6%B3%95%E5%BE%8B%E9%A1%BE%E9%97%AE")[0] == 200
        engine.stop()
        status, body = _get(f"{svc.base}/api/search?q=%E5%95%86%E5%9C%88")
        assert status == 503 and body["error"]["code"] == "backend_unavailable"
        assert body["error"]["message"].startswith(f"The seekdb engine at {engine.address} does not answer")
        health = _get(f"{svc.base}/healthz")
        assert health[0] == 503 and health[1]["status"] == "backend_unavailable"
        assert _get(f"{svc.base}/api/reports")[0] == 200  # what needs no engine keeps working
        engine = start_local_engine(engine.data_dir, engine.port)
        status, body = _get(f"{svc.base}/api/search?q=%E5%95%86%E5%9C%88")
        assert status == 200 and body["results"]
        assert _get(f"{svc.base}/healthz")[1]["status"] == "ok"
    finally:
        svc.stop()
        engine.stop()


def test_an_engine_down_at_start_is_said_and_waited_for(built_index, tmp_path):
    port = free_port()
    svc = Service(built_index, tmp_path / "service.log", address=f"127.0.0.1:{port}", wait=120)
    engine = None
    try:
        deadline = time.monotonic() + 60
        while "does not answer yet; retrying" not in svc.log.read_text():
            assert svc.process.poll() is None, svc.log.read_text()
            assert time.monotonic() < deadline, svc.log.read_text()
            time.sleep(0.3)
        engine = start_local_engine(tmp_path / "data", port)
        svc.wait_up()
        status, body = _get(f"{svc.base}/healthz")
        assert status == 200 and body["backend"] == "seekdb"  # and it loaded the generation into the new engine
    finally:
        svc.stop()
        if engine:
            engine.stop()


def test_an_engine_that_never_comes_stops_the_service_with_a_sentence(built_index, tmp_path):
    svc = Service(built_index, tmp_path / "service.log", address=f"127.0.0.1:{free_port()}", wait=3)
    assert svc.process.wait(timeout=120) == 1
    log = svc.log.read_text()
    assert "did not answer within 3 s" in log and "Traceback" not in log


def test_a_load_killed_mid_way_is_redone_and_never_served_half(built_index, engine, tmp_path):
    from indexer.seekdb.schema import PUT_CHUNK, generation_chunk_rows
    from indexer.store import open_generation

    folder = current_generation(built_index)
    killed = tmp_path / "index" / "generations" / "g-killed"  # another index directory, same engine
    killed.parent.mkdir(parents=True)
    killed.symlink_to(folder, target_is_directory=True)
    # What a killed load leaves: the tables and a few rows, and no load_done row.
    target = SeekdbStore(SeekdbConfig(address=engine.address, database=database_for(killed)))
    target.create_schema(384)
    rows = generation_chunk_rows(open_generation(folder))
    target._run(PUT_CHUNK, [next(rows) for _ in range(5)], many=True)
    config = SeekdbConfig(address=engine.address)
    ensure_loaded(config, folder)  # the other index directory's generation, in the same engine
    loaded = ensure_loaded(config, killed)
    assert loaded == len(open_generation(folder).chunks)
    assert target._run("SELECT COUNT(*) FROM chunks")[0][0] == loaded
    assert ensure_loaded(config, killed) == loaded  # a finished load is not redone
    # A load with an older table layout is loaded again.
    target._run("UPDATE load_done SET schema_version = 1")
    target._run("DELETE FROM chunks WHERE row_id < 3")
    assert ensure_loaded(config, killed) == loaded
    assert target._run("SELECT COUNT(*) FROM chunks")[0][0] == loaded
    # The other index directory's generation in the same engine was left alone.
    names = [row[0] for row in target._run("SHOW DATABASES")]
    assert database_for(folder) in names
    target.close()


def test_the_seekdb_service_started_without_an_address_starts_its_own_engine(built_index, tmp_path):
    import shutil

    index = tmp_path / "index"
    shutil.copytree(built_index, index, symlinks=True)
    svc = Service(index, tmp_path / "service.log")
    try:
        svc.wait_up()
        status, body = _get(f"{svc.base}/healthz")
        assert status == 200 and body["backend"] == "seekdb" and body["engine"].startswith("127.0.0.1:")
        assert (index / "seekdb").is_dir()
        params = urllib.parse.urlencode({"q": "商圈微法庭", "k": 3})
        assert _get(f"{svc.base}/api/search?{params}")[1]["results"][0]["doc_id"] == DOC_YUEHAI
    finally:
        svc.stop()
    time.sleep(1)
    running = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout.splitlines()
    assert not [line for line in running if str(index / "seekdb") in line]  # the engine ended with the service
