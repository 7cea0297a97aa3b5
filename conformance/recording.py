"""Shape checks wired into pytest: one `ShapeChecker` per test session, and SDK HTTP clients that run
it on every successful response they receive."""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlsplit

import orjson
import pytest
import stripe

from .shapes import ShapeChecker

CHECKER = pytest.StashKey[ShapeChecker]()


def session_checker(config: pytest.Config) -> ShapeChecker:
    """The session's checker (its coverage feeds the report at the end of the run)."""
    found = config.stash.get(CHECKER, None)
    if found is None:
        found = config.stash[CHECKER] = ShapeChecker()
    return found


class Violations:
    """Shape violations seen by one client, by request."""

    def __init__(self, checker: ShapeChecker) -> None:
        self.checker = checker
        self.found: list[str] = []

    def inspect(self, method: str, url: str, content: bytes, status: int) -> None:
        if not 200 <= status < 300 or not content:
            return
        problems = self.checker.check(orjson.loads(content))
        path = urlsplit(url).path
        self.found.extend(f"{method.upper()} {path}: {problem}" for problem in problems)


class ShapeCheckedClient(stripe.RequestsClient):
    """The SDK's default sync HTTP client (requests), checking each 2xx JSON body against the SDK's classes."""

    def __init__(self, checker: ShapeChecker, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.violations = Violations(checker)

    def request(self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None) -> Any:
        content, status, response_headers = super().request(method, url, headers, post_data)
        self.violations.inspect(method, url, content, status)
        return content, status, response_headers


class ShapeCheckedAsyncClient(stripe.AIOHTTPClient):
    """The SDK's aiohttp client, checking each 2xx JSON body like `ShapeCheckedClient`."""

    def __init__(self, checker: ShapeChecker, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.violations = Violations(checker)

    async def request_async(self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None) -> Any:
        content, status, response_headers = await super().request_async(method, url, headers, post_data)
        self.violations.inspect(method, url, content, status)
        return content, status, response_headers
