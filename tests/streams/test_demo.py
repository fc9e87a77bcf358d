"""`hrwatch demo`: two at once on one machine, each with its own broker, worker and store; both summarise."""

from __future__ import annotations

import subprocess
import sys

from hrwatch.settings import child_environment


def test_two_demos_at_once_do_not_collide() -> None:
    cmd = [sys.executable, "-m", "hrwatch.cli", "demo", "--count", "150", "--no-serve"]
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
