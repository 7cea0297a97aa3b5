"""Each account's recent API requests, newest first, for `GET /_mock/requests` and the dashboard.

Recording is on the path of every request, so it only keeps what the request already holds (raw
body and query, the answer's bytes); decoding them waits until someone reads the log.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Iterator, NamedTuple

import orjson

from ..store import Account
from ..wire.decode import decode_form

# A dropped connection has no status; the log shows this one.
DROPPED = 0


class Logged(NamedTuple):
    """One request as it was answered. The log stores plain tuples in this order (cheaper to make on
    every request) and reads them back as `Logged`."""

    method: str
    path: str
    raw_path: str  # with the query string, as sent
    body: bytes
    status: int
    answer: bytes
    idempotency_key: str | None
    request_id: str
    seconds: float
    created: int
    fault: str | None

    @property
    def query(self) -> str:
        return self.raw_path.partition("?")[2]

    def params(self) -> Any:
        """The request's parameters as decoded (JSON for v2 bodies), or None if they do not decode
        (or nest too deep to encode again: JSON reads deeper than it writes)."""
        try:
            if self.method != "POST":
                return decode_form(self.query)
            if self.path.startswith("/v2/"):
                decoded = orjson.loads(self.body) if self.body else {}
                orjson.dumps(decoded)
                return decoded
            return decode_form(self.body)
        except Exception:
            return None

    def parsed_answer(self) -> Any:
        try:
            return orjson.loads(self.answer) if self.answer else None
        except orjson.JSONDecodeError:
            return None

    def render(self) -> dict[str, Any]:
        answer = self.parsed_answer()
        error = answer.get("error") if isinstance(answer, dict) and self.status >= 400 else None
        object_id = answer.get("id") if isinstance(answer, dict) and self.status < 400 else None
        return {
            "object": "mock.request",
            "id": self.request_id,
            "created": self.created,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "params": self.params(),
            "body": self.body.decode("utf-8", "replace"),
            "status": self.status,
            "object_id": object_id if isinstance(object_id, str) else None,
            "error": _error_summary(error) if isinstance(error, dict) else None,
            "idempotency_key": self.idempotency_key,
            "duration_ms": round(self.seconds * 1000, 3),
            "fault": self.fault,
            "answer": answer,
        }

    def matches(self, method: str | None, path: str | None, status: str | None) -> bool:
        """`method` exactly, `path` as a substring, `status` as `404` or a class such as `4xx`."""
        if method and self.method != method.upper():
            return False
        if path and path not in self.path:
            return False
        if status:
            shown = str(self.status)
            if len(status) == 3 and status[1:].lower() == "xx":
                return shown[0] == status[0]
            return shown == status
        return True


def _error_summary(error: dict[str, Any]) -> dict[str, Any]:
    return {name: error.get(name) for name in ("type", "code", "message", "param")}


class RequestLog:
    """A bounded ring of `Logged` requests, oldest dropped first."""

    def __init__(self, size: int) -> None:
        self.entries: deque[tuple[Any, ...]] = deque(maxlen=size)

    def newest_first(
        self, method: str | None = None, path: str | None = None, status: str | None = None
    ) -> Iterator[Logged]:
        for fields in reversed(self.entries):
            entry = Logged._make(fields)
            if entry.matches(method, path, status):
                yield entry

    def clear(self) -> int:
        count = len(self.entries)
        self.entries.clear()
        return count


def request_log(account: Account, size: int) -> RequestLog:
    """The account's log, made with room for `size` requests on first use."""
    log = account.services.get(RequestLog)
    if log is None:
        log = account.services[RequestLog] = RequestLog(size)
    return log
