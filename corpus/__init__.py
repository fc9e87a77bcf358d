"""Labelled synthetic corpus of HR-market records (filings, registrations, postings) for hrwatch."""

from corpus.generator import RULES, Mix, generate, write_corpus

__all__ = ["RULES", "Mix", "generate", "write_corpus"]
