"""Bytes kept after the request that made them: events, the request log, idempotency records.

orjson returns its output buffer untrimmed (at least 4 KiB, whatever the length of the JSON), so
keeping a result of `orjson.dumps` keeps several times its size, and a ring of them churns through
memory that no cache holds. What is kept is first copied to its exact length.
"""

from __future__ import annotations


def retained(data: bytes) -> bytes:
    """An exact-length copy of `data`, for keeping."""
    return bytes(memoryview(data))
