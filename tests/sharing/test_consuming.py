"""The batch loop: a failing batch is rewound and retried (nothing skipped, nothing committed early), a failing sweep is survived."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

from kafka import TopicPartition

from sharing.consuming import BatchLoop
from tests.sharing.conftest import Message


class FakeConsumer:
    """A partition log with a position; poll hands out the rest of it, commit records the position."""

    def __init__(self, messages: list[Message]) -> None:
        self.log = messages
        self.position = 0
        self.committed: list[int] = []
        self.seeks: list[tuple[TopicPartition, int]] = []
        self.closed = False

    def poll(self, timeout_ms: int) -> dict[Any, list[Message]]:
        batch, self.position = self.log[self.position :], len(self.log)
        out: dict[Any, list[Message]] = defaultdict(list)
        for m in batch:
            out[(m.topic, m.partition)].append(m)
        return out

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.seeks.append((tp, offset))
        self.position = offset

    def commit(self) -> None:
        self.committed.append(self.position)

    def close(self) -> None:
        self.closed = True


def test_a_failing_batch_is_rewound_and_retried_until_it_goes_through() -> None:
    consumer = FakeConsumer([Message("t", b"a", offset=0), Message("t", b"b", offset=1)])
    seen: list[list[bytes | None]] = []
    done = threading.Event()

    def handler(messages: list[Any]) -> None:
        seen.append([m.value for m in messages])
        if len(seen) < 3:
            raise RuntimeError("database unavailable")
        done.set()

    loop = BatchLoop(consumer, handler, poll_ms=1, max_backoff=0.01)
    thread = threading.Thread(target=loop.run)
    thread.start()
    assert done.wait(30)
    loop.stop()
    thread.join(30)
    assert seen == [[b"a", b"b"]] * 3
    assert consumer.seeks == [(TopicPartition("t", 0), 0)] * 2
    assert consumer.committed == [2] and loop.failures == 2 and consumer.closed


def test_a_failing_sweep_does_not_rewind_a_committed_batch() -> None:
    consumer = FakeConsumer([Message("t", b"a", offset=0)])
    calls = {"handler": 0, "idle": 0}

    def idle() -> None:
        calls["idle"] += 1
        if calls["idle"] == 1:
            raise RuntimeError("sweep failed")
        if calls["idle"] >= 3:
            loop.stop()

    loop = BatchLoop(consumer, lambda ms: calls.__setitem__("handler", calls["handler"] + 1), idle=idle, poll_ms=1)
    loop.run()
    assert calls["handler"] == 1 and consumer.committed == [1] and consumer.seeks == []
    assert loop.failures == 1
