"""Topic names of DESIGN.md, which record type goes on which input topic, message keys, and topic creation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Adding an input type is one schema file and one line here.
INPUT_TOPIC_BY_TYPE: Mapping[str, str] = {
    "job_posting": "hr.postings.v1",
    "agency_filing": "hr.filings.v1",
    "business_registration": "hr.registrations.v1",
}
# The names `hrwatch ingest --topic` accepts.
TOPIC_ALIASES: Mapping[str, str] = {
    "postings": "job_posting",
    "filings": "agency_filing",
    "registrations": "business_registration",
}
REGISTRY_TYPES = frozenset({"agency_filing", "business_registration"})
FINDINGS = "hr.findings.v1"
DEADLETTER = "hr.deadletter.v1"
REVIEWS = "hr.reviews.v1"
SHARE = ("hr.share.police.v1", "hr.share.market.v1", "hr.share.tax.v1")
ALL_TOPICS: tuple[str, ...] = (*INPUT_TOPIC_BY_TYPE.values(), FINDINGS, DEADLETTER, REVIEWS, *SHARE)


@dataclass(frozen=True, slots=True)
class TopicNames:
    """The concrete topic names under an optional namespace prefix (tests and tenants use one each)."""

    namespace: str = ""

    def name(self, base: str) -> str:
        return f"{self.namespace}.{base}" if self.namespace else base

    def input(self, record_type: str) -> str:
        return self.name(INPUT_TOPIC_BY_TYPE[record_type])

    @property
    def postings(self) -> str:
        return self.input("job_posting")

    @property
    def filings(self) -> str:
        return self.input("agency_filing")

    @property
    def registrations(self) -> str:
        return self.input("business_registration")

    @property
    def findings(self) -> str:
        return self.name(FINDINGS)

    @property
    def deadletter(self) -> str:
        return self.name(DEADLETTER)

    @property
    def registry_topics(self) -> tuple[str, str]:
        return (self.filings, self.registrations)

    def all(self) -> tuple[str, ...]:
        return tuple(self.name(t) for t in ALL_TOPICS)

    def record_type_of(self, topic: str) -> str | None:
        """The record type an input topic carries (None for other topics)."""
        for record_type in INPUT_TOPIC_BY_TYPE:
            if self.input(record_type) == topic:
                return record_type
        return None


def message_key(obj: Any) -> str | None:
    """The key DESIGN.md gives a record: posting id, the filing agency's USCC, the registration's USCC."""
    if not isinstance(obj, dict):
        return None
    kind = obj.get("type")
    if kind == "agency_filing":
        agency = obj.get("agency")
        key = agency.get("uscc") if isinstance(agency, dict) else None
    elif kind == "business_registration":
        key = obj.get("uscc")
    else:
        key = obj.get("id")
    return key if isinstance(key, str) and key else None


def ensure_topics(
    bootstrap: str, names: Iterable[str], partitions: int, *, replication_factor: int = 1, timeout: float = 30.0
) -> list[str]:
    """Create the topics that do not exist yet (JSON values, `partitions` each); returns those created.

    Topics that exist are left as they are (partitions and replication are an operator's decision
    once a topic exists).
    """
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="hrwatch-admin",
                             request_timeout_ms=int(timeout * 1000))
    try:
        existing = set(admin.list_topics())
        wanted = [n for n in dict.fromkeys(names) if n not in existing]
        if wanted:
            try:
                admin.create_topics([NewTopic(n, partitions, replication_factor) for n in wanted])
            except TopicAlreadyExistsError:
                pass  # another worker created them first
        return wanted
    finally:
        admin.close()
