"""The seekdb server process: started by this program when no address is configured."""
from __future__ import annotations

import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pymysql

PR_SET_PDEATHSIG = 1

START_TIMEOUT = 60.0  # a fresh data directory answers in ~1 s; leave room for a busy machine
# seekdb sizes its caches to 80% of RAM unless told otherwise; FAZHI_SEEKDB_MEMORY (e.g. 8G) for large indexes.
LOCAL_MEMORY_BUDGET = os.environ.get("FAZHI_SEEKDB_MEMORY") or "2G"


class EngineUnavailable(Exception):
    """The seekdb engine cannot be started or reached; the message says where and what to do."""


class EngineSettingError(EngineUnavailable):
    """A seekdb setting (an environment variable) is not one it can be used with; the message names it."""


@dataclass
class LocalEngine:
    """A seekdb server process this program started, listening on `port`."""

    process: subprocess.Popen
    data_dir: Path
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self, timeout: float = 30.0) -> None:
        """End the server (SIGTERM, then SIGKILL after `timeout`); nothing happens if it has ended."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def seekdb_program() -> Path:
    """The seekdb server executable shipped inside the pylibseekdb wheel (found without loading it)."""
    spec = importlib.util.find_spec("pylibseekdb")
    program = Path(next(iter(spec.submodule_search_locations))) / "seekdb" if spec else None
    if program is None or not program.is_file():
        raise EngineUnavailable("The seekdb server program is not installed; run "
                                "`.venv/bin/pip install pylibseekdb==1.4.0.post1` and try again.")
    return program


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        pymysql.connect(host="127.0.0.1", port=port, user="root", connect_timeout=1).close()
    except pymysql.MySQLError:
        return False
    return True


def _end_with_parent() -> None:
    """In the child, before seekdb runs: ask Linux to SIGTERM it when the process that started it dies,
    so a killed service does not leave a seekdb holding its data folder (a second one refuses it)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the engine then outlives a killed parent, as any server would


def start_local_engine(data_dir: Path, port: int | None = None, timeout: float = START_TIMEOUT) -> LocalEngine:
    """Start seekdb on `data_dir` (bootstrapped when new) and wait until it answers SQL.

    A real server process rather than pylibseekdb's in-process mode, so that other
    processes and any MySQL client can connect too. It listens on `port`, a free one when
    None. seekdb takes no listen address: it binds every interface, clients use loopback.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_loopback_port()
    command = [str(seekdb_program()), "--nodaemon", "--port", str(port), "--base-dir", str(data_dir),
               "--log-level", "WARN", "--parameter", f"memory_budget={LOCAL_MEMORY_BUDGET}"]
    with (data_dir / "seekdb.out").open("ab") as output:
        process = subprocess.Popen(command, cwd=data_dir, stdin=subprocess.DEVNULL, stdout=output,
                                   stderr=subprocess.STDOUT, env={**os.environ, "TELEMETRY_ENABLED": "false"},
                                   preexec_fn=_end_with_parent)
    engine = LocalEngine(process, data_dir, port)
    deadline = time.monotonic() + timeout
    while not _answers(port):
        if process.poll() is not None:
            raise EngineUnavailable(
                f"seekdb exited (code {process.returncode}) while starting on port {port} with data in {data_dir}; "
                f"another seekdb may be using that directory or port, see {data_dir / 'seekdb.out'} and {data_dir / 'log'}.")
        if time.monotonic() > deadline:
            engine.stop()
            raise EngineUnavailable(f"seekdb did not answer on 127.0.0.1:{port} within {timeout:g} s; "
                                    f"see {data_dir / 'log'} for why, and try again.")
        time.sleep(0.1)
    return engine
