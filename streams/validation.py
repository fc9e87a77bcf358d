"""Raw message bytes → typed record, or a dead letter that keeps the reason, the source position and the bytes."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

import orjson

from schemas import Record, RecordError, parse_json


@dataclass(frozen=True, slots=True)
class InputMessage:
    """One consumed message, reduced to what processing needs (faust events and tests both map to it)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: float | None = None  # seconds since the epoch, as the producer stamped it

    @property
    def published_at(self) -> dt.datetime | None:
        return dt.datetime.fromtimestamp(self.timestamp, dt.UTC) if self.timestamp else None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Why a message was not processed; `to_json` is the hr.deadletter.v1 value."""

    reason: str  # json | schema | oversize | wrong_topic | empty | detector_error
    error: str
    message: InputMessage

    def to_json(self) -> bytes:
        raw = self.message.value or b""
        return orjson.dumps(
            {
                "error": self.error,
                "reason": self.reason,
                "topic": self.message.topic,
                "partition": self.message.partition,
                "offset": self.message.offset,
                "size": len(raw),
                "raw": base64.b64encode(raw).decode("ascii"),
            }
        )


def validate_message(msg: InputMessage, expected_type: str | None, max_bytes: int) -> Record | DeadLetter:
    """The record in `msg` if it is valid and belongs on its topic, else the dead letter saying why."""
    raw = msg.value
    if not raw:
        return DeadLetter("empty", "empty message value", msg)
    if len(raw) > max_bytes:
        return DeadLetter("oversize", f"message of {len(raw)} bytes exceeds the limit of {max_bytes} bytes", msg)
    try:
        record = parse_json(raw)
    except RecordError as exc:
        reason = "json" if exc.reason.startswith("not valid JSON") else "schema"
        return DeadLetter(reason, str(exc), msg)
    if expected_type is not None and record.type != expected_type:
        return DeadLetter(
            "wrong_topic", f"record {record.subject_id!r} is a {record.type}, but {msg.topic} carries {expected_type}", msg
        )
    return record
