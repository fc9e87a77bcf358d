"""`hrwatch demo` as a user runs it: two at once do not collide; Ctrl-C stops it cleanly, also before the summary."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hrwatch.settings import child_environment

DEMO = [sys.executable, "-m", "hrwatch.cli", "demo"]
# Only against hanging: the demo must stop on Ctrl-C, and how fast is measured by hand (see the report), not here.
STOP_TIMEOUT = 90.0
READY_TIMEOUT = 300.0


def test_two_demos_at_once_do_not_collide() -> None:
    cmd = [*DEMO, "--count", "150", "--no-serve"]
    env = child_environment(sample_size=None)
    demos = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = []
    try:
        for demo in demos:
            out, _ = demo.communicate(timeout=240)
            outputs.append((demo.returncode, out.decode("utf-8", "replace")))
    finally:
        for demo in demos:
            if demo.poll() is None:
                demo.kill()
                demo.wait()
    urls = set()
    for code, out in outputs:
        assert code == 0, out
        assert "records in:" in out and "dead letters:" in out and "findings:" in out, out
        assert "records/s" in out
        url = next(line.split()[-1] for line in out.splitlines() if line.startswith("metrics:"))
        urls.add(url)
    assert len(urls) == 2


class Demo:
    """One `hrwatch demo` child: its output collected by a thread, its own children read from /proc."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [*DEMO, *args], env=child_environment(sample_size=None),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            with self._changed:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not any(text in line for line in self.lines):
                left = deadline - time.monotonic()
                assert left > 0 and self._reader.is_alive(), f"no line with {text!r} within {timeout:.0f}s:\n{self.output}"
                self._changed.wait(left)

    def value_of(self, prefix: str) -> str:
        """The first word after `prefix` on the first line that starts with it."""
        line = next(line for line in self.lines if line.startswith(prefix))
        return line[len(prefix):].split()[0]

    def children(self) -> dict[int, str]:
        """Live children of the demo (broker, worker): pid → start time, which tells a reused pid apart."""
        return {pid: start for pid, (ppid, start) in _processes().items() if ppid == self.process.pid}

    def wait_for_child(self, needle: str, timeout: float = READY_TIMEOUT) -> int:
        """The pid of the first child whose command line contains `needle`, once there is one."""
        deadline = time.monotonic() + timeout
        while True:
            found = [pid for pid in self.children() if needle in _cmdline(pid)]
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"no child running {needle!r} within {timeout:.0f}s:\n{self.output}"
            assert self.process.poll() is None, f"the demo exited ({self.process.returncode}):\n{self.output}"
            time.sleep(0.05)  # polling /proc for the condition "child started", bounded by the deadline

    def interrupt(self) -> int:
        """Ctrl-C in the terminal: SIGINT to the demo (its children run in process groups of their own)."""
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # Where is it stuck? hrwatch dumps every thread's stack on SIGUSR1 (faulthandler).
            self.process.send_signal(signal.SIGUSR1)
            self._reader.join(5)
            raise AssertionError(f"the demo did not stop within {STOP_TIMEOUT:.0f}s of SIGINT:\n{self.output}") from None
        self._reader.join(STOP_TIMEOUT)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _processes() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, start time) of every live (not zombie) process."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            found[int(entry.name)] = (int(fields[1]), fields[19])  # state, ppid, …, starttime (field 22)
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().decode("utf-8", "replace")
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def _still_running(children: dict[int, str]) -> list[str]:
    now = _processes()
    return [_cmdline(pid) or str(pid) for pid, start in children.items() if pid in now and now[pid][1] == start]


def test_ctrl_c_stops_two_serving_demos_cleanly() -> None:
    """Two serving demos at once (another terminal): their own ports; Ctrl-C ends each with code 0 and nothing left."""
    demos = [Demo("--count", "100") for _ in range(2)]
    try:
        for demo in demos:
            demo.wait_for_line("serving until Ctrl-C")
        prefixes = ("metrics:", "broker:", "review UI:", "review metrics:", "sharing metrics:")
        seen = [{p: demo.value_of(p) for p in prefixes} for demo in demos]
        for prefix in prefixes:
            assert seen[0][prefix] != seen[1][prefix], (prefix, seen)
        children, leftovers = [], []
        for demo in demos:
            children.append(demo.children())
            assert any("tansu" in _cmdline(pid) for pid in children[-1]), children
            assert any("hrwatch.cli worker" in _cmdline(pid) for pid in children[-1]), children
            store = re.search(r"sqlite:///(\S+)", demo.output)
            keys = re.search(r"demo keys in (\S+)\)", demo.output)
            assert store and keys, demo.output
            leftovers.append((Path(store.group(1)).parent, Path(keys.group(1))))
        codes = [demo.interrupt() for demo in demos]
    finally:
        for demo in demos:
            demo.kill()
    for demo, code, kids, paths in zip(demos, codes, children, leftovers, strict=True):
        out = demo.output
        assert code == 0, out
        assert "stopping …" in out
        assert "Traceback" not in out and "did not stop cleanly" not in out and "Aborted" not in out, out
        assert "cannot be verified" not in out, out  # the demo brings the partners' receipt keys too
        assert _still_running(kids) == [], out
        # The whole shutdown ran: the temporary store directory and the throwaway keys went with it.
        assert [p for p in paths if p.exists()] == [], out


def test_ctrl_c_before_the_summary_exits_130_and_leaves_nothing() -> None:
    # Ctrl-C once the worker is ready, while the feed is published: 3,000 records take seconds to go through.
    demo = Demo("--count", "3000", "--no-serve")
    try:
        worker = demo.wait_for_child("hrwatch.cli worker")
        ready_file = Path(_environ(worker)["HRWATCH_READY_FILE"])
        deadline = time.monotonic() + READY_TIMEOUT
        while not ready_file.exists():
            assert time.monotonic() < deadline and demo.process.poll() is None, demo.output
            time.sleep(0.05)  # polling the condition "worker ready", bounded by the deadline
        children = demo.children()
        code = demo.interrupt()
    finally:
        demo.kill()
    out = demo.output
    assert code == 130, out
    assert "stopping …" in out and "records in:" not in out, out
    assert "Traceback" not in out and "Aborted" not in out, out
    assert _still_running(children) == [], out
