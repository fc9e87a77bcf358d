"""The embedded Tansu broker: free port, answers Kafka requests, stops without leaving a process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streams.broker import BrokerError, EmbeddedBroker, kafka_answers
from streams.topics import TopicNames, ensure_topics


def test_two_brokers_get_different_ports_and_stop_cleanly() -> None:
    with EmbeddedBroker() as a, EmbeddedBroker() as b:
        assert a.port != b.port
        assert kafka_answers(a.host, a.port) and kafka_answers(b.host, b.port)
        pids = (a.pid, b.pid)
    for pid in pids:
        assert pid is not None
        assert not Path(f"/proc/{pid}").exists(), "the broker process is still there (or was not reaped)"


def test_a_broker_that_cannot_start_says_why(tmp_path: Path) -> None:
    fake = tmp_path / "tansu"
    fake.write_text("#!/bin/sh\necho 'cannot bind: address in use' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(BrokerError, match="cannot bind: address in use"):
        EmbeddedBroker(binary=str(fake)).start()


def test_topics_are_created_once_with_the_partitions_asked_for(kafka_broker: EmbeddedBroker) -> None:
    from kafka import KafkaConsumer

    names = TopicNames(f"b{os.getpid()}")
    created = ensure_topics(kafka_broker.bootstrap, names.all(), 3)
    assert set(created) == set(names.all())
    assert ensure_topics(kafka_broker.bootstrap, names.all(), 3) == []
    consumer = KafkaConsumer(bootstrap_servers=kafka_broker.bootstrap)
    try:
        assert consumer.partitions_for_topic(names.postings) == {0, 1, 2}
    finally:
        consumer.close()
