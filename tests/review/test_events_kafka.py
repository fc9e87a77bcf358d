"""hr.reviews.v1 on a real broker: a decision in the web app reaches the topic, keyed by alert id."""

from __future__ import annotations

import time

import orjson
from fastapi.testclient import TestClient
from kafka import KafkaConsumer

from review.events import REVIEWS_TOPIC, KafkaReviewPublisher
from review.queue import ReviewQueue
from review.web import WebConfig, create_app
from streams.broker import EmbeddedBroker
from streams.topics import ensure_topics
from tests.conftest import StreamNames
from tests.review import samples
from tests.review.webclient import login


def test_a_confirmation_is_published_on_hr_reviews_v1(
    kafka_broker: EmbeddedBroker, stream_names: StreamNames, web_queue: ReviewQueue
) -> None:
    topic = f"{stream_names.namespace}.{REVIEWS_TOPIC}"
    ensure_topics(kafka_broker.bootstrap, [topic], 1)
    alert_id = samples.alert_ids(web_queue)["p-agency-1"]
    publisher = KafkaReviewPublisher(kafka_broker.bootstrap, topic)
    app = create_app(web_queue, WebConfig(secret_key="k"), publisher)
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka_broker.bootstrap,
        group_id=stream_names.group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=500,
    )
    try:
        with TestClient(app) as client:
            login(client, "rev")
            answer = client.post(f"/api/alerts/{alert_id}/decision", json={"action": "confirm"})
            assert answer.status_code == 200
            received = []
            deadline = time.monotonic() + 60
            while not received and time.monotonic() < deadline:
                for message in consumer:  # returns after consumer_timeout_ms without messages
                    received.append(message)
            assert received, "no event on the topic within 60 s"
            (message,) = received
            assert message.key == str(alert_id).encode()
            event = orjson.loads(message.value)
            assert (event["decision"], event["status"], event["alert_id"]) == ("confirm", "confirmed", str(alert_id))
            assert event["subject"] == {"type": "job_posting", "id": "p-agency-1"}
            assert len(event["finding_ids"]) == 5
            deadline = time.monotonic() + 30
            while web_queue.pending_events() and time.monotonic() < deadline:
                time.sleep(0.05)  # polling interval while waiting on the condition "outbox marked published"
            assert web_queue.pending_events() == []
    finally:
        consumer.close()
