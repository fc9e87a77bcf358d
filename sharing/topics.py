"""Topic names of the sharing module: one share topic per partner (hr.share.<partner>.v1) and the receipts topic."""

from __future__ import annotations

from collections.abc import Iterable

from streams.topics import FINDINGS, REVIEWS, TopicNames

SHARE_TOPIC = "hr.share.{partner}.v1"
# DESIGN addition: partners acknowledge what they received (or rejected) here, keyed by finding id.
RECEIPTS = "hr.share.receipts.v1"


def share_topic(names: TopicNames, partner: str) -> str:
    """The topic a partner's envelopes go to: adding a partner to the policy adds its topic."""
    return names.name(SHARE_TOPIC.format(partner=partner))


def receipts_topic(names: TopicNames) -> str:
    return names.name(RECEIPTS)


def publisher_topics(names: TopicNames, partners: Iterable[str]) -> list[str]:
    """Every topic the publisher reads or writes: findings, reviews, receipts and each partner's share topic."""
    return [names.findings, names.name(REVIEWS), receipts_topic(names), *(share_topic(names, p) for p in partners)]


def findings_topic(names: TopicNames) -> str:
    return names.name(FINDINGS)


def reviews_topic(names: TopicNames) -> str:
    return names.name(REVIEWS)
