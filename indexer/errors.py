"""Errors the indexer raises; the CLI and the API translate them for people."""


class IndexerError(Exception):
    """Base class for every error the indexer raises on purpose."""


class UnreadableSource(IndexerError):
    """A file could not be read as a report (binary, empty, undecodable, scanned PDF...)."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class IndexMismatch(IndexerError):
    """An index was built with another model or normaliser than the one asked for."""


class CorruptIndex(IndexerError):
    """An index file is missing, truncated or does not match its checksum."""


class FetchError(IndexerError):
    """A web page or attachment could not be fetched (refused, unreachable, too large, too slow...)."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
