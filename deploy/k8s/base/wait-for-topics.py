"""Init container of the workers and the share publisher: wait until every topic in TOPICS exists on HRWATCH_KAFKA.

hrwatch creates missing topics itself at start (streams.topics.ensure_topics) with replication factor 1; on a
replicated cluster the kafka-topics Job must create them first, so a pod that starts earlier waits here.
Exit 0 when all exist, 1 after WAIT_SECONDS (default 600) with the names still missing.
"""

from __future__ import annotations

import os
import sys
import time


def missing_topics(bootstrap: str, wanted: set[str]) -> set[str]:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="hrwatch-wait-for-topics", request_timeout_ms=10000)
    try:
        return wanted - set(admin.list_topics())
    finally:
        admin.close()


def main() -> int:
    bootstrap = os.environ["HRWATCH_KAFKA"]
    wanted = set(os.environ["TOPICS"].split())
    deadline = time.monotonic() + float(os.environ.get("WAIT_SECONDS", "600"))
    poll = float(os.environ.get("POLL_SECONDS", "5"))
    while True:
        try:
            missing = missing_topics(bootstrap, wanted)
            problem = f"missing topics: {' '.join(sorted(missing))}"
        except Exception as exc:  # broker not up yet: keep waiting, say why
            missing, problem = wanted, f"{bootstrap} not reachable: {type(exc).__name__}: {exc}"
        if not missing:
            print(f"all {len(wanted)} topics exist on {bootstrap}", flush=True)
            return 0
        if time.monotonic() >= deadline:
            print(f"gave up waiting: {problem}", file=sys.stderr, flush=True)
            return 1
        print(f"waiting: {problem}", flush=True)
        time.sleep(poll)  # polling interval of a start-up gate, not synchronisation in a test


if __name__ == "__main__":
    sys.exit(main())
