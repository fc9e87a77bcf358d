"""Raw message → record or dead letter, with the reason, the source position and the original bytes."""

from __future__ import annotations

import base64

import orjson
import pytest

from schemas import JobPosting
from streams.validation import DeadLetter, InputMessage, validate_message

POSTING = {"type": "job_posting", "id": "p-1", "source": "s", "title": "普工", "description": "包住",
           "posted_at": "2025-09-04T10:00:00+08:00"}


def message(value: bytes | None, topic: str = "hr.postings.v1") -> InputMessage:
    return InputMessage(topic, 2, 41, b"p-1", value, 1_700_000_000.0)


@pytest.mark.parametrize(
    ("value", "reason", "error_part"),
    [
        (b"", "empty", "empty"),
        (b'{"type": "job_posting", ', "json", "not valid JSON"),
        (b"\xff\xfe", "json", "not valid JSON"),
        (b"[1]", "schema", "expected a JSON object"),
        (orjson.dumps({k: v for k, v in POSTING.items() if k != "title"}), "schema", "field title"),
        (orjson.dumps(POSTING | {"posted_at": "yesterday"}), "schema", "posted_at"),
        (orjson.dumps(POSTING | {"description": "长" * 2000}), "oversize", "exceeds the limit of 4096 bytes"),
    ],
)
def test_invalid_messages_become_dead_letters(value: bytes, reason: str, error_part: str) -> None:
    outcome = validate_message(message(value), "job_posting", 4096)
    assert isinstance(outcome, DeadLetter)
    assert outcome.reason == reason and error_part in outcome.error
    letter = orjson.loads(outcome.to_json())
    assert (letter["topic"], letter["partition"], letter["offset"]) == ("hr.postings.v1", 2, 41)
    assert base64.b64decode(letter["raw"]) == value and letter["size"] == len(value)


def test_a_record_on_the_wrong_topic_is_a_dead_letter() -> None:
    outcome = validate_message(message(orjson.dumps(POSTING), "hr.filings.v1"), "agency_filing", 4096)
    assert isinstance(outcome, DeadLetter) and outcome.reason == "wrong_topic"


def test_a_valid_record_keeps_unknown_fields() -> None:
    outcome = validate_message(message(orjson.dumps(POSTING | {"benefits": "五险一金"})), "job_posting", 4096)
    assert isinstance(outcome, JobPosting) and outcome.raw["benefits"] == "五险一金"
