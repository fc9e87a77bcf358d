#!/bin/sh
# Creates the hrwatch topics with the partition count and replication the deployment asks for (compose and Kubernetes).
#
# hrwatch's own `ensure_topics` (streams/topics.py) also creates missing topics at start, but with replication
# factor 1, so on a real cluster this job runs first and the workers find every topic already there.
# Existing topics with fewer partitions are grown to PARTITIONS (never shrunk: Kafka cannot); other settings
# of existing topics are left alone. Safe to run again.
#
# Environment: BOOTSTRAP (host:port), TOPICS (space-separated), PARTITIONS, REPLICATION_FACTOR,
# MIN_INSYNC_REPLICAS, KAFKA_BIN (directory of kafka-topics.sh, default /opt/kafka/bin),
# WAIT_SECONDS (how long to wait for the cluster, default 300).
set -eu

: "${BOOTSTRAP:?BOOTSTRAP (host:port of the cluster) is required}"
: "${TOPICS:?TOPICS (space-separated names) is required}"
: "${PARTITIONS:?PARTITIONS is required}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-1}"
MIN_INSYNC_REPLICAS="${MIN_INSYNC_REPLICAS:-1}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
WAIT_SECONDS="${WAIT_SECONDS:-300}"
topics_cmd="$KAFKA_BIN/kafka-topics.sh"

# Wait until the cluster answers (brokers may still be electing a controller).
waited=0
until "$topics_cmd" --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1; do
    if [ "$waited" -ge "$WAIT_SECONDS" ]; then
        echo "kafka at $BOOTSTRAP did not answer within ${WAIT_SECONDS}s" >&2
        exit 1
    fi
    sleep 5
    waited=$((waited + 5))
done

existing="$("$topics_cmd" --bootstrap-server "$BOOTSTRAP" --list)"
for topic in $TOPICS; do
    if printf '%s\n' "$existing" | grep -qx "$topic"; then
        current="$("$topics_cmd" --bootstrap-server "$BOOTSTRAP" --describe --topic "$topic" \
            | sed -n 's/.*PartitionCount:[[:space:]]*\([0-9][0-9]*\).*/\1/p' | head -n 1)"
        if [ -z "$current" ]; then
            echo "cannot read the partition count of $topic" >&2
            exit 1
        fi
        if [ "$current" -lt "$PARTITIONS" ]; then
            "$topics_cmd" --bootstrap-server "$BOOTSTRAP" --alter --topic "$topic" --partitions "$PARTITIONS"
            echo "grew $topic from $current to $PARTITIONS partitions"
        else
            echo "kept $topic ($current partitions)"
        fi
    else
        "$topics_cmd" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists --topic "$topic" \
            --partitions "$PARTITIONS" --replication-factor "$REPLICATION_FACTOR" \
            --config "min.insync.replicas=$MIN_INSYNC_REPLICAS"
        echo "created $topic ($PARTITIONS partitions, replication $REPLICATION_FACTOR)"
    fi
done
