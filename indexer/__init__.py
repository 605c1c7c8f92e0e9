"""Indexer: raw report files -> clean text -> sections -> chunks -> index directory."""
