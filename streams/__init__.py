"""The faust-streaming pipeline: embedded Tansu broker, topics, agents, ingest, metrics (see streams/README.md)."""
